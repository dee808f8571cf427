/**
 * The adaptive policy (ledger.adaptive, src/runtime/adaptive-owners.ts): with
 * a real Redis and real worker threads, the slots' owners go to the main
 * thread while nothing is offered, to the worker threads once a steady load
 * passes the upper rate, and back to the main thread when it stops. Waits
 * with deadlines; the rates are far from the thresholds so CPU contention
 * does not decide the outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEngine } from '../../src/runtime/ledger-engine.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { purchase, startEngineWithAccounts } from '../helpers/test-engine.js';

const redis = useRedisServer();
const pans = Array.from({ length: 16 }, (_, i) => withLuhnDigit(`44000000${String(i).padStart(7, '0')}`));

describe('adaptive ledger owners', () => {
  let engine: LedgerEngine;

  beforeAll(async () => {
    engine = await startEngineWithAccounts(redis, {
      pans,
      opening: 100_000_000,
      adaptive: { inlineBelowPerSec: 20, workersAbovePerSec: 200, dwellMs: 300 },
    });
  });

  afterAll(async () => {
    await engine?.close();
  });

  const allOn = (kind: 'worker' | 'inline') => engine.ownerKind(0) === kind && engine.ownerKind(1) === kind;

  it('moves the owners inline when idle, to the workers under load, and back when it stops', async () => {
    expect(await waitFor(() => allOn('inline'), EVENTUALLY_MS)).toBe(true);

    // A steady load well over 200/s: 20 purchases every 10 ms timer turn (up to 2,000/s).
    let stan = 0;
    let loading = true;
    const answers: Promise<unknown>[] = [];
    const load = (async () => {
      while (loading) {
        for (let i = 0; i < 20; i++) answers.push(purchase(engine, pans[stan % pans.length]!, ++stan, 1));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const movedToWorkers = await waitFor(() => allOn('worker'), EVENTUALLY_MS);
    loading = false;
    await load;
    const answered = (await Promise.all(answers)) as { rc: string }[];
    expect(movedToWorkers).toBe(true);
    expect(answered.every((a) => a.rc === '00')).toBe(true);

    // Load gone: back to the main thread.
    expect(await waitFor(() => allOn('inline'), EVENTUALLY_MS)).toBe(true);
  });
});
