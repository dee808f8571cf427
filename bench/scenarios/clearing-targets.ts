import type { Verdict } from '../harness/verdict.js';

/** Issue 18's targets for the clearing rows, and how a row is judged against them. */

/** The cycle size the time and memory targets are set for. */
export const TARGET_ITEMS = 1_000_000;
/** A 1,000,000-item cycle: cutoff to `done` under this many seconds. */
export const TARGET_SECONDS_MAX = 10;
/** ...with the standalone clearing worker's peak RSS under this. */
export const TARGET_PEAK_RSS_MIB_MAX = 512;
/** Live load while the switch clears: p99 at most this many times the same load's without clearing. */
export const TARGET_P99_RATIO_MAX = 2;

export type { Verdict };

/** Whether `value` (a median over the repeats) is below `max`; `n/a` when the cycle is smaller than the target's (a quick run's). */
export function below(value: number, max: number, items: number): Verdict {
  if (items < TARGET_ITEMS) return 'n/a';
  return value < max ? 'pass' : 'fail';
}
