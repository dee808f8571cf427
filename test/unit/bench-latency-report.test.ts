import { describe, expect, it } from 'vitest';
import type { LatencyPlan } from '../../bench/harness/plan.js';
import { latencyTable, latencyTargetsText } from '../../bench/harness/report.js';
import type { RunSample } from '../../bench/scenarios/e2e.js';
import { latencyScenario, summarizeLatencyTable } from '../../bench/scenarios/latency-table.js';
import { judgeLatency, LATENCY_TARGETS } from '../../bench/scenarios/latency-targets.js';

const PLAN: LatencyPlan = {
  rates: [1_000, 5_000, 20_000],
  measureS: 10,
  warmupS: 3,
  pairs: 2,
  accounts: 10_000,
};

function sample(
  p50: number,
  p99: number,
  p999: number,
  cpuUsPerMsg: Record<string, number>,
  rate: number,
): RunSample {
  return {
    approvedPerS: rate,
    answered: rate * 10,
    declined: 0,
    errors: 0,
    latencyMs: { p50, p90: p99 / 2, p99, p999, max: p999 * 2, mean: p50 },
    sendLagMs: { p50: p50 / 4, p90: p50 / 2, p99: p50, p999: p50, max: p50, mean: p50 / 4 },
    cpuUsPerMsg,
  };
}

/** Two pairs per rate; the switch's percentiles are `k` times the floor's in both runs. */
function samplesFor(k: Readonly<Record<number, number>>): Map<string, RunSample[]> {
  const samples = new Map<string, RunSample[]>();
  for (const rate of PLAN.rates) {
    const f = k[rate]!;
    samples.set(latencyScenario('floor', rate, PLAN).id, [
      sample(1, 4, 8, { floor: 300, redis: 100, sim: 50 }, rate),
      sample(1.2, 6, 10, { floor: 340, redis: 120, sim: 60 }, rate),
    ]);
    samples.set(latencyScenario('switch', rate, PLAN).id, [
      sample(1 * f, 4 * f, 8 * f, { switch: 600, redis: 200, sim: 50 }, rate),
      sample(1.2 * f, 6 * f, 10 * f, { switch: 1000, redis: 240, sim: 60 }, rate),
    ]);
  }
  return samples;
}

describe('bench latency table (issue 20)', () => {
  const table = summarizeLatencyTable(
    PLAN,
    samplesFor({ 1000: 1.4, 5000: 1.6, 20000: 3 }),
    { start: 1.5, end: 2.5 },
    { switch: 2, floor: 0 },
  );

  it('divides the switch’s median percentiles and CPU (with its Redis) by the floor’s', () => {
    const at1k = table.rows[0]!;
    expect(at1k.ratePerS).toBe(1_000);
    // Medians over the two runs: floor p50 1.1, switch 1.54; floor p99 5, switch 7.
    expect(at1k.floor.latencyMs.p50).toBeCloseTo(1.1, 10);
    expect(at1k.ratio.p50).toBeCloseTo(1.4, 10);
    expect(at1k.ratio.p99).toBeCloseTo(1.4, 10);
    expect(at1k.ratio.p999).toBeCloseTo(1.4, 10);
    // (median switch 800 + median redis 220) / (median floor 320 + median redis 110).
    expect(at1k.ratio.cpu).toBeCloseTo(1020 / 430, 10);
    expect(at1k.switch.target).toBe('switch');
    expect(at1k.floor.target).toBe('floor');
    expect(table.rows.map((row) => row.ratePerS)).toEqual([1_000, 5_000, 20_000]);
  });

  it('judges every issue 20 target, failing those over their bound', () => {
    const verdicts = new Map(table.verdicts.map((v) => [`${v.metric}@${v.ratePerS}`, v.verdict]));
    expect(table.verdicts).toHaveLength(LATENCY_TARGETS.length);
    expect(verdicts.get('p50@1000')).toBe('pass');
    expect(verdicts.get('p99@1000')).toBe('pass');
    expect(verdicts.get('p50@5000')).toBe('fail');
    expect(verdicts.get('p99@5000')).toBe('pass');
    expect(verdicts.get('p99@20000')).toBe('fail');
    expect(verdicts.get('p999@20000')).toBe('fail');
    expect(verdicts.get('cpu@1000')).toBe('fail');
  });

  it('says n/a for a rate the run did not measure, and a bound met exactly is met', () => {
    const verdicts = judgeLatency(new Map([[1_000, { p50: 1.5, p99: 2.01, p999: 1, cpu: Number.NaN }]]), [
      { ratePerS: 1_000, metric: 'p50', ratioMax: 1.5 },
      { ratePerS: 1_000, metric: 'p99', ratioMax: 2 },
      { ratePerS: 1_000, metric: 'cpu', ratioMax: 2 },
      { ratePerS: 5_000, metric: 'p50', ratioMax: 1.5 },
    ]);
    expect(verdicts.map((v) => v.verdict)).toEqual(['pass', 'fail', 'n/a', 'n/a']);
    expect(verdicts[3]!.ratio).toBeUndefined();
  });

  it('prints one row per rate and one line per target', () => {
    const rows = latencyTable(table).split('\n');
    expect(rows).toHaveLength(2 + 3);
    const cells = rows[2]!
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    expect(cells).toEqual([
      '1,000/s',
      '1,000 / 1,000',
      '1.54 / 7.00 / 12.6',
      '1.10 / 5.00 / 9.00',
      '1.40x / 1.40x / 1.40x',
      '800.0 / 220.0',
      '320.0 / 110.0',
      '2.37x',
      // Each side's median of its runs' p50 send lag (a quarter of their p50 here).
      '0.39 / 0.28',
    ]);
    const text = latencyTargetsText(table);
    expect(text).toContain('(3 of 7 met; 2 pairs of 10 s runs, load average 1.5 to 2.5)');
    expect(text).toMatch(/CPU per message, with Redis at 1,000\/s: +2\.37x \(target <= 2x\): fail/);
    expect(text).toMatch(/p99\.9 at 20,000\/s: +3\.00x \(target <= 2x\): fail/);
    expect(text).toContain('Redis AOF rewrites started during the runs: switch 2, floor 0');
  });
});
