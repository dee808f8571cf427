import { describe, expect, it } from 'vitest';
import { BucketCounts } from '../../src/observability/bucket-counts.js';
import { EventLoopSampler } from '../../src/observability/event-loop-sampler.js';
import { EVENT_LOOP_DELAY_BUCKETS_S } from '../../src/observability/metric-buckets.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';

/** Keeps this thread busy for `ms`: nothing else on its event loop runs meanwhile. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** Observations above `seconds` (their bucket bound is at or above it). */
function above(b: BucketCounts, seconds: number): number {
  const index = b.upperBounds.indexOf(seconds);
  let cumulative = 0;
  for (let i = 0; i <= index; i++) cumulative += b.counts[i]!;
  return b.count - cumulative;
}

describe('EventLoopSampler', () => {
  it('observes a blocked event loop as a late timer, about as late as the block', async () => {
    const delays = new BucketCounts(EVENT_LOOP_DELAY_BUCKETS_S);
    const sampler = new EventLoopSampler(delays, 20);
    sampler.start();
    try {
      // It fires while the loop is free.
      expect(await waitFor(() => delays.count >= 2, EVENTUALLY_MS, 10)).toBe(true);
      const before = above(delays, 0.25);
      // A 400 ms block: the firing due inside it runs at its end, at least 380 ms late.
      block(400);
      expect(await waitFor(() => above(delays, 0.25) > before, EVENTUALLY_MS, 10)).toBe(true);
      expect(delays.sum).toBeGreaterThanOrEqual(0.38);
    } finally {
      sampler.stop();
    }
  });

  it('stops observing once stopped', async () => {
    const delays = new BucketCounts(EVENT_LOOP_DELAY_BUCKETS_S);
    const sampler = new EventLoopSampler(delays, 5);
    sampler.start();
    expect(await waitFor(() => delays.count >= 1, EVENTUALLY_MS, 5)).toBe(true);
    sampler.stop();
    const count = delays.count;
    // Well past several intervals: nothing more arrives (a wait that expects nothing: fixed on purpose).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(delays.count).toBe(count);
  });
});
