/**
 * The bucket bounds of every histogram family of metric-catalog.ts, by
 * name. One list for both sides: a ledger worker buckets its commits with
 * the same bounds the main thread exports them under.
 */

/** Seconds: from 50 us (an in-memory answer) to 10 s (well past any issuer or commit timeout). */
export const LATENCY_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Work items per group commit: powers of two (a commit takes whatever one turn decided, frames of up to limits.batchMax each). */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192] as const;

/**
 * Seconds a timer fired late: 1 ms (about a timer's own granularity, so
 * the first bucket is "on time") to 10 s (a stalled thread).
 */
export const EVENT_LOOP_DELAY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Seconds of a clearing job run: a small cycle in well under a second, 1M items in a few (docs/performance.md), up to an hour. */
export const CLEARING_JOB_BUCKETS_S = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
] as const;

export const HISTOGRAM_BUCKETS: Readonly<Record<string, readonly number[]>> = {
  switchyard_request_duration_seconds: LATENCY_BUCKETS_S,
  switchyard_persist_batch_size: BATCH_SIZE_BUCKETS,
  switchyard_persist_duration_seconds: LATENCY_BUCKETS_S,
  switchyard_issuer_response_seconds: LATENCY_BUCKETS_S,
  switchyard_event_loop_delay_seconds: EVENT_LOOP_DELAY_BUCKETS_S,
  switchyard_clearing_job_duration_seconds: CLEARING_JOB_BUCKETS_S,
};

/** The bounds of histogram family `name`; throws for a family without any (a catalog entry this file missed). */
export function bucketsOf(name: string): readonly number[] {
  const bounds = HISTOGRAM_BUCKETS[name];
  if (bounds === undefined) throw new Error(`no bucket bounds for histogram ${name} (metric-buckets.ts)`);
  return bounds;
}
