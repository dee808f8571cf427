/**
 * The clearing progress index of CycleStore against a real Redis: what
 * /metrics shows as switchyard_clearing_last_done_cycle and
 * switchyard_clearing_lag_seconds, read in constant time, kept by the same
 * scripts that cut cycles and store settlements, and built once for a store
 * whose cycles an older build closed.
 */
import { describe, expect, it } from 'vitest';
import { CycleStore } from '../../src/clearing/cycle-store.js';
import { renderSettlementJson, type SettlementStatus } from '../../src/clearing/settlement.js';
import { keySpace } from '../../src/store/keys.js';
import { storeNowMs } from '../../src/store/store-clock.js';
import { useRedisServer } from '../helpers/redis-fixture.js';

const redis = useRedisServer();
const CYCLE_MS = 86_400_000;
let prefixes = 0;

function store(): CycleStore {
  return new CycleStore(redis.client, keySpace(`progress-${++prefixes}`), CYCLE_MS);
}

const settlement = (cycle: number, status: SettlementStatus): string =>
  renderSettlementJson({ cycle, status, items: 0, positions: [] });

/** Checks the lag against the cut it must come from: store now minus cutMs, now read around it. */
async function expectLagFrom(cycles: CycleStore, cutMs: number | undefined): Promise<void> {
  const before = await storeNowMs(redis.client);
  const { lagMs } = await cycles.progress();
  const after = await storeNowMs(redis.client);
  if (cutMs === undefined) expect(lagMs).toBe(0);
  else {
    expect(lagMs).toBeGreaterThanOrEqual(before - cutMs);
    expect(lagMs).toBeLessThanOrEqual(after - cutMs);
  }
}

describe('CycleStore progress', () => {
  it('is nothing done, no lag, on a store with no closed cycle', async () => {
    const cycles = store();
    await cycles.openFirst(await storeNowMs(redis.client));
    expect(await cycles.progress()).toEqual({ lastDoneCycle: 0, lagMs: 0 });
  });

  it('follows cuts and settlements: the oldest closed cycle not done gives the lag, the highest done the last', async () => {
    const cycles = store();
    await cycles.openFirst(await storeNowMs(redis.client));
    const [first] = await cycles.cutoff();
    const [second] = await cycles.cutoff();
    expect([first?.cycle, second?.cycle]).toEqual([1, 2]);
    await expectLagFrom(cycles, first!.cutMs);
    expect((await cycles.progress()).lastDoneCycle).toBe(0);

    await cycles.setSettlementText(1, settlement(1, 'done'));
    expect((await cycles.progress()).lastDoneCycle).toBe(1);
    await expectLagFrom(cycles, second!.cutMs);

    // A failed cycle is not done: it keeps the lag growing until a rerun clears it.
    await cycles.setSettlementText(2, settlement(2, 'failed'));
    await expectLagFrom(cycles, second!.cutMs);
    await cycles.setSettlementText(2, settlement(2, 'done'));
    expect(await cycles.progress()).toEqual({ lastDoneCycle: 2, lagMs: 0 });

    // A rerun of cycle 1 puts it back until it is done again; the last done cycle stays 2.
    await cycles.reopen(1);
    await expectLagFrom(cycles, first!.cutMs);
    expect((await cycles.progress()).lastDoneCycle).toBe(2);
    await cycles.setSettlementText(1, settlement(1, 'done'));
    expect(await cycles.progress()).toEqual({ lastDoneCycle: 2, lagMs: 0 });
  });

  it('builds the index once for cycles an older build closed (no index yet)', async () => {
    const cycles = store();
    const keys = keySpace(`progress-${prefixes}`);
    // As the build before the index left a store: ranges and settlements only.
    const ranges: Array<[number, number, SettlementStatus]> = [
      [1, 1_000, 'done'],
      [2, 2_000, 'failed'],
      [3, 3_000, 'closing'],
      [4, 4_000, 'done'],
    ];
    for (const [cycle, cutMs, status] of ranges) {
      const range = { cycle, startMs: cutMs - 1_000, cutMs, closedBy: 'cutoff' };
      await redis.client.hset(keys.clearingCycles(), String(cycle), JSON.stringify(range));
      await redis.client.hset(keys.clearingSettlements(), String(cycle), settlement(cycle, status));
    }
    expect(await cycles.progress()).toEqual({ lastDoneCycle: 0, lagMs: 0 });
    expect(await cycles.indexProgress()).toBe(true);
    expect((await cycles.progress()).lastDoneCycle).toBe(4);
    await expectLagFrom(cycles, 2_000);
    // Once: a second start leaves the index as the scripts keep it.
    await cycles.setSettlementText(2, settlement(2, 'done'));
    expect(await cycles.indexProgress()).toBe(false);
    await expectLagFrom(cycles, 3_000);
  });

  it('reads in one round trip of constant-time commands, however many cycles there are', async () => {
    const cycles = store();
    const keys = keySpace(`progress-${prefixes}`);
    await cycles.indexProgress();
    const all = Array.from({ length: 2_000 }, (_, i) => i + 1);
    const ranges = redis.client.pipeline();
    for (const cycle of all) {
      const range = { cycle, startMs: cycle * 10, cutMs: cycle * 10 + 10, closedBy: 'schedule' };
      ranges.hset(keys.clearingCycles(), String(cycle), JSON.stringify(range));
    }
    await ranges.exec();
    // Sent together: one fsync for many.
    await Promise.all(
      all.map((cycle) =>
        cycles.setSettlementText(cycle, settlement(cycle, cycle === 1_500 ? 'closing' : 'done')),
      ),
    );
    await redis.client.config('RESETSTAT');
    await expectLagFrom(cycles, 15_010);
    expect((await cycles.progress()).lastDoneCycle).toBe(2_000);
    const stats = await redis.client.info('commandstats');
    // TIME, HGET, ZRANGE in a MULTI: no HGETALL, no scan of the settlements.
    expect(stats).not.toMatch(/cmdstat_hgetall/);
    expect(stats).toMatch(/cmdstat_zrange:calls=/);
  });
});
