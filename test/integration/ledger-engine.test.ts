/**
 * The ledger engine with real worker threads (and inline, on this thread)
 * and a real Redis: an owner that dies is restarted, what it had in flight is
 * answered 96, and its accounts come back from Redis with nothing lost and
 * nothing applied twice.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../src/admin/error-status.js';
import type { CoreStats } from '../../src/runtime/core/core-runtime.js';
import type { LedgerEngine } from '../../src/runtime/ledger-engine.js';
import { keySpace } from '../../src/store/keys.js';
import { claimAllShards } from '../../src/store/shard-epoch.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { LEDGER_HOSTS } from '../helpers/ledger-hosts.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { createAccount, purchase, startTestEngine } from '../helpers/test-engine.js';

const redis = useRedisServer();

const pans = Array.from({ length: 40 }, (_, i) => withLuhnDigit(`42000000${String(i).padStart(7, '0')}`));

describe.each(LEDGER_HOSTS)('LedgerEngine owner crash, $mode', ({ inline }) => {
  let engine: LedgerEngine;
  /** What the engine tells the metrics: restarts by worker, and every stats message. */
  const restarts: number[] = [];
  const stats: Array<{ workerId: number; stats: CoreStats }> = [];

  beforeAll(async () => {
    const keys = keySpace(inline ? 'eng-inline' : 'eng');
    const epoch = await claimAllShards(redis.client, keys);
    engine = await startTestEngine({
      redisUrl: redis.server.url,
      keys,
      epoch,
      inline,
      // The 96s below come from the crashed worker, not from a timeout: a slow fsync must not add any.
      commitTimeoutMs: 10_000,
      hooks: {
        onRestart: (workerId) => restarts.push(workerId),
        onStats: (workerId, s) => stats.push({ workerId, stats: s }),
      },
    });
  });

  afterAll(async () => {
    await engine?.close();
  });

  const submit = (pan: string, stan: number, amount: number) => purchase(engine, pan, stan, amount);

  it('answers in-flight work 96, restarts the worker, and keeps every effect exactly once', async () => {
    for (const pan of pans) await createAccount(engine, pan, 100_000);
    // A burst in flight, then worker 0 dies under it.
    const inFlight = pans.flatMap((pan, i) => [submit(pan, 1_000 + i, 100), submit(pan, 2_000 + i, 100)]);
    await engine.crashWorker(0);
    const first = await Promise.all(inFlight);
    expect(first.every((r) => r.rc === '00' || r.rc === '96')).toBe(true);
    expect(first.some((r) => r.rc === '96')).toBe(true);
    expect(await engine.whenReady(EVENTUALLY_MS)).toBe(true);
    // Counted for switchyard_ledger_worker_restarts_total: worker 0, once.
    expect(restarts).toEqual([0]);

    // Retransmit everything: applied ones replay (same rrn), the others are decided now.
    const second = await Promise.all(
      pans.flatMap((pan, i) => [submit(pan, 1_000 + i, 100), submit(pan, 2_000 + i, 100)]),
    );
    expect(second.every((r) => r.rc === '00')).toBe(true);
    first.forEach((r, i) => {
      if (r.rc === '00') expect(second[i]?.rrn).toBe(r.rrn);
    });
    // Two debits of 100 per account, each exactly once.
    for (const pan of pans) {
      const view = await engine.admin({ k: 'get', pan });
      expect(view).toMatchObject({ ok: true, account: { balance: 99_800, held: 0 } });
    }
  });

  it('sends each owner’s stats every second: commits bucketed, and a worker thread’s event loop', async () => {
    // Both owners committed above (40 accounts over two); their stats arrive within a second or two.
    const committed = (workerId: number) =>
      stats.filter((s) => s.workerId === workerId).reduce((sum, s) => sum + s.stats.batchSize.count, 0);
    expect(await waitFor(() => committed(0) > 0 && committed(1) > 0, EVENTUALLY_MS)).toBe(true);
    for (const { stats: s } of stats) {
      expect(s.batchSize.counts.reduce((a, b) => a + b, 0)).toBe(s.batchSize.count);
      expect(s.commitSeconds.count).toBe(s.batchSize.count);
      // Inline owners run on this thread: its event loop is the main thread's, measured by the metrics.
      if (inline) expect(s.eventLoopDelay).toBeUndefined();
      else expect(s.eventLoopDelay?.counts.length).toBeGreaterThan(1);
    }
    if (!inline) expect(stats.some((s) => (s.stats.eventLoopDelay?.count ?? 0) > 0)).toBe(true);
  });

  it('answers admin calls 503 while a worker is down, not with stale data', async () => {
    const pan = pans[0]!;
    const crashed = engine.crashWorker(0);
    const during = await engine.admin({ k: 'get', pan });
    await crashed;
    // Either it reached the worker before the crash, or it was refused: never a made-up answer.
    // The ledger answers a domain code; the admin API shows it as 503.
    if (!during.ok) expect(httpStatusOf(during.code)).toBe(503);
    await waitFor(() => engine.isReady(), EVENTUALLY_MS);
    expect(await engine.admin({ k: 'get', pan })).toMatchObject({ ok: true, account: { balance: 99_800 } });
  });
});
