import { describe, expect, it } from 'vitest';
import { clearingCycleTable, clearingLiveTable } from '../../bench/harness/report.js';
import {
  type ClearingCycleSample,
  compactCount,
  summarizeClearingCycle,
} from '../../bench/scenarios/clearing-cycle-row.js';
import {
  type ClearingLiveSample,
  type OpenLoopRun,
  summarizeClearingLive,
} from '../../bench/scenarios/clearing-live-row.js';
import { below } from '../../bench/scenarios/clearing-targets.js';

function cycleSample(seconds: number, workerPeakRssMiB: number): ClearingCycleSample {
  return {
    items: 1_000_000,
    records: 1_111_110,
    entries: 138_889,
    plantMs: 3_000,
    seconds,
    itemsPerS: 1_000_000 / seconds,
    workerPeakRssMiB,
    cpuS: { worker: 3.7, redis: 0.2 },
    loadAverage1m: 2,
  };
}

function run(p99: number, rcCounts: Record<string, number>, errors = 0): OpenLoopRun {
  const answered = Object.values(rcCounts).reduce((a, b) => a + b, 0);
  return {
    approvedPerS: 20_000,
    answered,
    declined: answered - (rcCounts['00'] ?? 0),
    errors,
    rcCounts,
    latencyMs: { p50: p99 / 10, p90: p99 / 2, p99, p999: p99 * 1.5, max: p99 * 2, mean: p99 / 8 },
    cpuUsPerMsg: { switch: 30, redis: 8, sim: 5 },
  };
}

function liveSample(
  quietP99: number,
  clearingP99: number,
  clearing = run(clearingP99, { '00': 400_000 }),
): ClearingLiveSample {
  return {
    capacityPerS: 40_000,
    ratePerS: 20_000,
    quiet: run(quietP99, { '00': 400_000 }),
    clearing,
    cycleItems: 1_000_000,
    cycleRecords: 1_511_110,
    clearingSeconds: 9,
    clearingFromS: 1.3,
    clearingToS: 10.3,
    runS: 20.4,
    p99Ratio: clearing.latencyMs.p99 / quietP99,
    loadAverage1m: 2,
  };
}

describe('bench clearing rows: targets', () => {
  it('judges the 1,000,000-item targets strictly below, and not at all on a smaller cycle', () => {
    expect(below(9.99, 10, 1_000_000)).toBe('pass');
    expect(below(10, 10, 1_000_000)).toBe('fail');
    expect(below(1, 10, 100_000)).toBe('n/a');
    expect(compactCount(1_000_000)).toBe('1M');
    expect(compactCount(100_000)).toBe('100k');
    expect(compactCount(1_234)).toBe('1234');
  });

  it('judges the standalone row on the medians of its repeats, each target on its own', () => {
    const result = summarizeClearingCycle(1_000_000, 8, [
      cycleSample(4, 600),
      cycleSample(12, 590),
      cycleSample(5, 100),
    ]);
    expect(result.seconds).toEqual({ median: 5, min: 4, max: 12 });
    expect(result.workerPeakRssMiB.median).toBe(590);
    expect(result.verdict).toEqual({ seconds: 'pass', memory: 'fail' });
    const table = clearingCycleTable(result);
    expect(table).toContain('| clearing 1M items, standalone worker ');
    expect(table).toContain('4.00-12.00');
    expect(table).toContain('< 10 s: pass, < 512 MiB: fail');
  });

  it('says n/a for the 1M targets on a quick run of 100k', () => {
    const result = summarizeClearingCycle(100_000, 8, [cycleSample(1, 150)]);
    expect(result.verdict).toEqual({ seconds: 'n/a', memory: 'n/a' });
    expect(clearingCycleTable(result)).toContain('< 10 s: n/a (smaller cycle)');
  });

  it('judges the live row on the median p99 ratio and on every answer of every clearing run', () => {
    const passing = summarizeClearingLive(1_000_000, [
      liveSample(10, 15),
      liveSample(10, 30),
      liveSample(10, 19),
    ]);
    expect(passing.p99Ratio).toEqual({ median: 1.9, min: 1.5, max: 3 });
    expect(passing.verdict).toEqual({ p99: 'pass', declines: 'pass' });

    const declined = run(15, { '00': 399_990, '96': 10 }, 2);
    const failing = summarizeClearingLive(1_000_000, [
      liveSample(10, 25),
      liveSample(10, 15, declined),
      liveSample(10, 30),
    ]);
    expect(failing.declinedWhileClearing).toBe(12);
    expect(failing.verdict).toEqual({ p99: 'fail', declines: 'fail' });
    const table = clearingLiveTable(failing);
    expect(table).toMatch(/\| +0 \/ 12 \|/);
    expect(table).toContain('p99 <= 2x: fail, no declines: fail');
  });
});
