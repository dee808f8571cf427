import { describe, expect, it } from 'vitest';
import { closedLoopTable, issuerTable, openLoopTable, rate } from '../../bench/harness/report.js';
import type { LatencyKey, ScenarioResult } from '../../bench/scenarios/e2e.js';

const LATENCY = { p50: 40, p90: 80, p99: 100, p999: 120, max: 130 };

function latencyRange(): Record<LatencyKey, { median: number; min: number; max: number }> {
  const out = {} as Record<LatencyKey, { median: number; min: number; max: number }>;
  for (const [key, value] of Object.entries(LATENCY))
    out[key as LatencyKey] = { median: value, min: value, max: value };
  return out;
}

function result(id: string, approvedPerS: number, extra: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    id,
    title: id,
    target: 'switch',
    fsync: 'always',
    accounts: 10_000,
    load: {
      transport: 'tcp',
      connections: 4,
      batch: 64,
      inflight: 1_024,
      coalesce: false,
      durationS: 5,
      pans: 10_000,
    },
    samples: [],
    approvedPerS: { median: approvedPerS, min: approvedPerS, max: approvedPerS },
    latencyMs: LATENCY,
    latencyRangeMs: latencyRange(),
    cpuUsPerMsg: { switch: 12, redis: 5, sim: 1.5 },
    ...extra,
  };
}

const onUs = result('tcp-b64', 90_000);
const issuerClosed = result('issuer-b64', 30_000, {
  issuer: { connections: 1, latencyMs: 0 },
  baseline: 'tcp-b64',
  cpuUsPerMsg: { switch: 48, redis: 5.4, sim: 2.9, issuer: 5.7 },
  issuerAnswerDelayMs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
  switchShareMs: { p50: 40, p99: 100 },
});
const issuerOpen = result('issuer-open-10000', 9_990, {
  load: { ...onUs.load, batch: 1, coalesce: true, inflight: 65_536, ratePerS: 10_000 },
  issuer: { connections: 1, latencyMs: 1 },
  ceiling: 'echo-open-10000',
  issuerAnswerDelayMs: { p50: 1.2, p90: 1.5, p99: 2.5, p999: 3, max: 4 },
  switchShareMs: { p50: 3.25, p99: 17.5 },
});
const standIn = result('standin-b64', 27_000, { issuer: 'away', baseline: 'tcp-b64' });
const echoOpen = result('echo-open-10000', 10_000, {
  target: 'echo',
  load: issuerOpen.load,
  latencyMs: { p50: 0.64, p90: 1, p99: 1.92, p999: 3, max: 4 },
});

describe('bench report: issuer rows', () => {
  const rated = rate([onUs, issuerClosed, issuerOpen, standIn], [echoOpen], []);
  const byId = new Map(rated.map((s) => [s.id, s]));

  it('divides an issuer row by its on-us baseline of the same run', () => {
    expect(byId.get('issuer-b64')?.ratioToBaseline).toBeCloseTo(30_000 / 90_000, 10);
    expect(byId.get('standin-b64')?.ratioToBaseline).toBeCloseTo(0.3, 10);
    expect(byId.get('tcp-b64')?.ratioToBaseline).toBeUndefined();
    expect(byId.get('issuer-open-10000')?.ratioToBaseline).toBeUndefined();
  });

  it('keeps the issuer rows out of the on-us tables and the on-us rows out of theirs', () => {
    const closed = closedLoopTable(rated);
    const open = openLoopTable(rated, [echoOpen]);
    const issuer = issuerTable(rated, [echoOpen]);
    expect(closed).toContain('| tcp-b64 ');
    expect(closed).not.toContain('issuer-b64');
    expect(closed).not.toContain('standin-b64');
    expect(open).not.toContain('issuer-open-10000');
    expect(issuer).not.toContain('| tcp-b64 ');
    expect(issuer.split('\n')).toHaveLength(2 + 3);
  });

  it('shows the issuer delay, the switch share and the echo floor for the open-loop row only', () => {
    const rows = issuerTable(rated, [echoOpen]).split('\n');
    const cells = (id: string): string[] =>
      rows
        .find((row) => row.startsWith(`| ${id} `))!
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
    expect(cells('issuer-open-10000')).toEqual([
      'issuer-open-10000',
      '9,990',
      '',
      '',
      '40.0',
      '100',
      '1.20 / 2.50',
      '3.25 / 17.5',
      '0.64 / 1.92',
      '12.0 / 5.0 / 1.5 / -',
    ]);
    expect(cells('issuer-b64')).toEqual([
      'issuer-b64',
      '30,000',
      '',
      '0.33',
      '40.0',
      '100',
      '',
      '',
      '',
      '48.0 / 5.4 / 2.9 / 5.7',
    ]);
    expect(cells('standin-b64')[3]).toBe('0.30');
  });
});
