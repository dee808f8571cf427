import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricFamily, READY_CHECKS } from '../../src/observability/metric-catalog.js';
import {
  type CheckOutcome,
  notReady,
  READY,
  type ReadinessChecks,
  ReadinessProbe,
  readinessBody,
} from '../../src/observability/readiness.js';
import { registerReadinessMetrics } from '../../src/observability/readiness-metrics.js';

/** Checks whose outcomes a test sets, counting how often each ran. */
function settable(): {
  checks: ReadinessChecks;
  set: Record<string, CheckOutcome>;
  runs: Record<string, number>;
} {
  const set: Record<string, CheckOutcome> = Object.fromEntries(READY_CHECKS.map((c) => [c, READY]));
  const runs: Record<string, number> = Object.fromEntries(READY_CHECKS.map((c) => [c, 0]));
  const check = (name: string) => async () => {
    runs[name]!++;
    // A PING's wait: probes arriving meanwhile must share this run.
    await new Promise((resolve) => setImmediate(resolve));
    return set[name]!;
  };
  const checks = Object.fromEntries(READY_CHECKS.map((c) => [c, check(c)])) as ReadinessChecks;
  return { checks, set, runs };
}

describe('GET /readyz body (docs/protocol.md section 6)', () => {
  it('ready: every check true, nothing named', async () => {
    const { checks } = settable();
    const readiness = await new ReadinessProbe(checks).check();
    expect(readiness.ready).toBe(true);
    expect(readinessBody(readiness)).toEqual({
      status: 'ready',
      checks: { listening: true, store: true, ledger: true, ledger_store: true },
      notReady: [],
      reasons: {},
    });
  });

  it('not ready: names each failing check, in the catalog order, with its reason', async () => {
    const { checks, set } = settable();
    set['ledger_store'] = notReady('worker 1: redis writer reconnecting');
    set['store'] = notReady('redis reconnecting');
    const readiness = await new ReadinessProbe(checks).check();
    expect(readiness.ready).toBe(false);
    expect(readinessBody(readiness)).toEqual({
      status: 'not ready',
      checks: { listening: true, store: false, ledger: true, ledger_store: false },
      notReady: ['store', 'ledger_store'],
      reasons: { store: 'redis reconnecting', ledger_store: 'worker 1: redis writer reconnecting' },
    });
  });

  it('probes that arrive while one runs share it; a later one runs the checks again', async () => {
    const { checks, runs, set } = settable();
    const probe = new ReadinessProbe(checks);
    const [a, b] = await Promise.all([probe.check(), probe.check()]);
    expect(a).toBe(b);
    expect(runs['store']).toBe(1);
    set['listening'] = notReady('stopping');
    expect((await probe.check()).checks.listening).toEqual({ ok: false, reason: 'stopping' });
    expect(runs['store']).toBe(2);
  });
});

describe('switchyard_ready and switchyard_ready_check (docs/protocol.md section 8)', () => {
  async function scrape(checks: ReadinessChecks): Promise<string> {
    const registry = new Registry();
    registerReadinessMetrics(registry, new ReadinessProbe(checks));
    return registry.metrics();
  }

  it('say what the probe says, every check from start, with the catalog help; one probe per scrape', async () => {
    const { checks, set, runs } = settable();
    set['ledger'] = notReady('worker 0: restarting');
    const text = await scrape(checks);
    expect(text).toContain(`# HELP switchyard_ready ${metricFamily('switchyard_ready').help}`);
    expect(text).toContain('# TYPE switchyard_ready gauge');
    expect(text).toContain(`# HELP switchyard_ready_check ${metricFamily('switchyard_ready_check').help}`);
    expect(text).toMatch(/^switchyard_ready 0$/m);
    expect(text.split('\n').filter((line) => line.startsWith('switchyard_ready_check{'))).toEqual([
      'switchyard_ready_check{check="listening"} 1',
      'switchyard_ready_check{check="store"} 1',
      'switchyard_ready_check{check="ledger"} 0',
      'switchyard_ready_check{check="ledger_store"} 1',
    ]);
    expect(runs['store']).toBe(1);
  });

  it('switchyard_ready is 1 when every check passes', async () => {
    expect(await scrape(settable().checks)).toMatch(/^switchyard_ready 1$/m);
  });
});
