/**
 * The record sweep (src/jobs/record-sweep.ts): records past the dedupe window leave Redis
 * for accounts nobody uses any more. First its passes against a real redis-server with a
 * ledger that only records what it is asked (the SCAN walk, the cursor, the length filter),
 * then a real switch with a short window: an idle account's records go, its open hold stays
 * and still completes, and the switch keeps answering.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordSweep, type SweepPass } from '../../src/jobs/record-sweep.js';
import { silentLogger } from '../../src/observability/log.js';
import type { SweepOutcome } from '../../src/runtime/worker/worker-protocol.js';
import { keySpace, SHARD_COUNT, type StoredAccountRef } from '../../src/store/keys.js';
import { accountLogAt, encodeLog, largestState } from '../helpers/account-log.js';
import { admin, at, ClientPool } from '../helpers/harness.js';
import { Accounts, RrnBook, req, Teller } from '../helpers/ledger.js';
import { EVENTUALLY_MS, sleep, waitFor } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { RestartableStack } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { accountKeyOf } from '../helpers/test-keys.js';

describe('RecordSweep passes against a real Redis', () => {
  const redis = useRedisServer();

  /**
   * `count` account logs under `prefix`: every third with the state only (as large as a state
   * gets, so the job's length filter is tested at its edge), the rest with one small record too.
   */
  async function seedAccounts(prefix: string, count: number): Promise<{ withRecords: Set<string> }> {
    const keys = keySpace(prefix);
    const withRecords = new Set<string>();
    const pipeline = redis.client.pipeline();
    for (let i = 0; i < count; i++) {
      const pan = `41111100${String(i).padStart(8, '0')}`;
      const state = largestState(`${pan}000`);
      // The PAN stands for the account's ref: the job never reads into refs.
      if (i % 3 === 0) pipeline.set(keys.account(i % SHARD_COUNT, pan), encodeLog(state));
      else {
        pipeline.set(keys.account(i % SHARD_COUNT, pan), encodeLog(state, `acq|${i}|1764000000000`));
        withRecords.add(pan);
      }
    }
    await pipeline.exec();
    return { withRecords };
  }

  function sweepOf(prefix: string, accountsPerPassMax: number, answer: (pan: string) => SweepOutcome) {
    const asked: string[] = [];
    const sweep = new RecordSweep({
      connection: redis.client,
      keys: keySpace(prefix),
      ledger: {
        sweep: async ({ ref }: StoredAccountRef) => {
          asked.push(ref);
          return answer(ref);
        },
      },
      everyMs: 60_000,
      accountsPerPassMax,
      log: silentLogger,
    });
    return { sweep, asked };
  }

  it('walks every account hash over passes of a bounded size, asking only those with records', async () => {
    const prefix = 'rs1';
    const { withRecords } = await seedAccounts(prefix, 3_000);
    // Keys the walk must not take for accounts: another prefix, and this prefix's other keys.
    await redis.client.set(
      keySpace('rs1x').account(1, '4111119999999999'),
      encodeLog(largestState('4111119999999999'), 'acq|1|1'),
    );
    await redis.client.rpush(keySpace(prefix).holdBucket(1, 123), 'x');
    const retryPan = [...withRecords][7]!;
    const { sweep, asked } = sweepOf(prefix, 700, (pan) => (pan === retryPan ? 'retry' : 1));
    const passes: SweepPass[] = [];
    for (let i = 0; i < 50 && passes.at(-1)?.cycleDone !== true; i++) passes.push(await sweep.runOnce());
    expect(passes.at(-1)?.cycleDone, 'the cycle ends').toBe(true);
    expect(passes.length, 'more than one pass for 3,000 accounts at 700 a pass').toBeGreaterThan(1);
    // Each pass but the last stops once it has looked at 700 accounts (after a whole SCAN step).
    for (const pass of passes.slice(0, -1)) expect(pass.accounts).toBeGreaterThanOrEqual(700);
    // SCAN returns every key present for the whole cycle at least once; here there is no rehash.
    expect(new Set(asked)).toEqual(withRecords);
    expect(passes.reduce((n, p) => n + p.accounts, 0)).toBeGreaterThanOrEqual(3_000);
    expect(passes.reduce((n, p) => n + p.swept, 0)).toBe(asked.length);
    expect(passes.reduce((n, p) => n + p.retries, 0)).toBe(asked.filter((p) => p === retryPan).length);
    expect(passes.reduce((n, p) => n + p.deleted, 0)).toBe(asked.filter((p) => p !== retryPan).length);
    expect(await redis.client.get(keySpace(prefix).sweepCursor())).toBe('0');
  });

  it('goes on from the saved cursor: a second pass does not start over', async () => {
    const prefix = 'rs2';
    await seedAccounts(prefix, 3_000);
    const { sweep, asked } = sweepOf(prefix, 1, () => 0);
    const first = await sweep.runOnce();
    expect(first.cycleDone).toBe(false);
    const seen = new Set(asked);
    asked.length = 0;
    await sweep.runOnce();
    expect(asked.length).toBeGreaterThan(0);
    expect(
      asked.filter((pan) => seen.has(pan)),
      'asked again in the next pass',
    ).toEqual([]);
  });

  it('matches a key prefix with glob characters literally', async () => {
    const prefix = 'rs[3]*';
    const { withRecords } = await seedAccounts(prefix, 30);
    await seedAccounts('rs3', 30);
    const { sweep, asked } = sweepOf(prefix, 1_000, () => 0);
    expect((await sweep.runOnce()).cycleDone).toBe(true);
    expect(new Set(asked)).toEqual(withRecords);
  });
});

describe('the record sweep in a running switch', () => {
  const TOKEN = 'record-sweep-admin-token-7d21';
  const WINDOW_MS = 3_000;
  const acq = makeInstitution('acq-sweep', 'acquirer');
  let stack: RestartableStack;
  let r: Redis;
  const pool = new ClientPool();
  const accounts = new Accounts(() => stack.sw, TOKEN);

  beforeAll(async () => {
    stack = await RestartableStack.start({
      config: {
        admin: { token: TOKEN },
        institutions: [institutionEntry(acq)],
        dedupeWindowMs: WINDOW_MS,
        holdTtlMs: 600_000,
        ledger: { actorsMax: 100_000, commitTimeoutMs: 5000, recordSweepIntervalMs: 200 },
        workers: 2,
      },
    });
    r = new Redis(stack.redis.url);
  });

  afterAll(async () => {
    pool.closeAll();
    r?.disconnect();
    await stack?.dispose();
  });

  it('deletes an idle account’s records once past the window, keeps its open hold, and the switch answers throughout', async () => {
    const t = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
    const keys = keySpace();
    const records = async (pan: string): Promise<number> =>
      (await accountLogAt(r, accountKeyOf(keys, pan)))?.records.length ?? -1;
    const spender = await accounts.create({ balance: 10_000 });
    const holder = await accounts.create({ balance: 10_000 });
    await t.expect(req('0200', { pan: spender, amount: 100 }), { rc: '00', amount: 100, balance: 9_900 });
    await t.expect(req('0200', { pan: spender, amount: 200 }), { rc: '00', amount: 200, balance: 9_700 });
    const hold = req('0100', { pan: holder, amount: 1_000 });
    await t.expect(hold, { rc: '00', amount: 1_000, balance: 9_000 });
    await t.expect(req('0200', { pan: holder, amount: 50 }), { rc: '00', amount: 50, balance: 8_950 });
    const approvedAt = Date.now();
    // Several sweep intervals inside the window: nothing may go yet.
    await sleep(1_000);
    const [spenderEarly, holderEarly] = await Promise.all([records(spender), records(holder)]);
    if (Date.now() - approvedAt < WINDOW_MS) {
      expect(spenderEarly, 'two records inside the window').toBe(2);
      expect(holderEarly).toBe(2);
    }
    // Past the window: the purchases go, the open hold stays (expiry and completion need it).
    const swept = await waitFor(
      async () => (await records(spender)) === 0 && (await records(holder)) === 1,
      WINDOW_MS + 15_000,
      100,
    );
    expect(swept, 'records past the window still in Redis').toBe(true);
    // Three records deleted, once each: the two purchases and the holder's purchase (the
    // metric moves when a sweep's commit is answered, a moment after its commit lands).
    const deleted = async (): Promise<string> =>
      /^switchyard_ledger_sweep_deleted_records_total (\d+)$/m.exec(
        (await admin(stack.sw, 'GET', '/metrics')).text,
      )?.[1] ?? 'none';
    expect(await waitFor(async () => (await deleted()) === '3', EVENTUALLY_MS, 50)).toBe(true);
    await sleep(600);
    expect(await deleted(), 'further passes delete nothing more, and count nothing twice').toBe('3');
    await t.expect(req('0220', { pan: holder, amount: 600, orig: hold }), {
      rc: '00',
      amount: 600,
      balance: 9_350,
    });
    await t.expect(req('0200', { pan: spender, amount: 300 }), { rc: '00', amount: 300, balance: 9_400 });
    await accounts.expectState(spender, { balance: 9_400, held: 0 });
    await accounts.expectState(holder, { balance: 9_350, held: 0 });
    // Completed, the hold's record (past the window) is no longer kept: the next passes take it.
    expect(await waitFor(async () => (await records(holder)) <= 1, WINDOW_MS + 15_000, 100)).toBe(true);
    // As above, the metric follows the sweep's answer, a moment after its commit changed Redis.
    expect(await waitFor(async () => Number(await deleted()) >= 4, EVENTUALLY_MS, 50)).toBe(true);
    expect((await admin(stack.sw, 'GET', '/metrics')).text).toMatch(
      /^switchyard_ledger_sweep_retries_total 0$/m,
    );
  });
});
