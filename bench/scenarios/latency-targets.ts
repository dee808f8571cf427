import type { Verdict } from '../harness/verdict.js';

/**
 * Issue 20's targets: the switch in its default configuration against the
 * floor server, same run, same machine, as ratios of the switch's figure to
 * the floor's.
 */

/** A latency percentile, or CPU per message answered (the server's process plus its Redis's). */
export type LatencyMetric = 'p50' | 'p99' | 'p999' | 'cpu';

export interface LatencyTarget {
  readonly ratePerS: number;
  readonly metric: LatencyMetric;
  /** The switch's figure over the floor's: at most this. */
  readonly ratioMax: number;
}

export const LATENCY_TARGETS: readonly LatencyTarget[] = [
  { ratePerS: 1_000, metric: 'p50', ratioMax: 1.5 },
  { ratePerS: 1_000, metric: 'p99', ratioMax: 2 },
  { ratePerS: 5_000, metric: 'p50', ratioMax: 1.5 },
  { ratePerS: 5_000, metric: 'p99', ratioMax: 2 },
  { ratePerS: 20_000, metric: 'p99', ratioMax: 2 },
  { ratePerS: 20_000, metric: 'p999', ratioMax: 2 },
  { ratePerS: 1_000, metric: 'cpu', ratioMax: 2 },
];

export interface LatencyVerdict extends LatencyTarget {
  /** Undefined when the run had no row at that rate. */
  readonly ratio?: number;
  readonly verdict: Verdict;
}

/** Each target against `ratios` (by offered rate); `n/a` where the run did not measure that rate. */
export function judgeLatency(
  ratios: ReadonlyMap<number, Readonly<Record<LatencyMetric, number>>>,
  targets: readonly LatencyTarget[] = LATENCY_TARGETS,
): LatencyVerdict[] {
  return targets.map((target) => {
    const ratio = ratios.get(target.ratePerS)?.[target.metric];
    if (ratio === undefined || !Number.isFinite(ratio)) return { ...target, verdict: 'n/a' };
    return { ...target, ratio, verdict: ratio <= target.ratioMax ? 'pass' : 'fail' };
  });
}
