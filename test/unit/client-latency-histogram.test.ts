import { describe, expect, it } from 'vitest';
import { bucketIndexOf, bucketUpperBoundUs, LatencyHistogram } from '../../src/sim/latency-histogram.js';
import { seededRandom } from '../../src/sim/rng.js';

describe('latency histogram buckets', () => {
  it('maps every value into a bucket whose upper bound is at or above it, within 1/32', () => {
    const random = seededRandom(7);
    const samples = [0, 1, 31, 32, 33, 63, 64, 65, 1000, 123_456, 2 ** 31, 0xffff_ffff];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(random() * 2 ** (1 + Math.floor(random() * 31))));
    for (const value of samples) {
      const upper = bucketUpperBoundUs(bucketIndexOf(value));
      expect(upper).toBeGreaterThanOrEqual(value);
      expect(upper - value).toBeLessThanOrEqual(value / 32);
    }
  });

  it('is monotonic: bigger values never land in a lower bucket', () => {
    let previous = -1;
    for (let value = 0; value < 100_000; value += 7) {
      const index = bucketIndexOf(value);
      expect(index).toBeGreaterThanOrEqual(previous);
      previous = index;
    }
  });
});

describe('LatencyHistogram percentiles', () => {
  it('is exact for small microsecond values', () => {
    const histogram = new LatencyHistogram();
    for (let us = 1; us <= 10; us++) histogram.recordUs(us);
    expect(histogram.quantileUs(0.5)).toBe(5);
    expect(histogram.quantileUs(0.9)).toBe(9);
    expect(histogram.quantileUs(1)).toBe(10);
  });

  it('reports percentiles of a uniform 1..10000 ms spread within 3%', () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 10_000; ms++) histogram.recordMs(ms);
    const p = histogram.percentilesMs();
    for (const [actual, expected] of [
      [p.p50, 5_000],
      [p.p90, 9_000],
      [p.p99, 9_900],
      [p.p999, 9_990],
    ] as const) {
      expect(actual).toBeGreaterThanOrEqual(expected);
      expect(actual).toBeLessThanOrEqual(expected * 1.032);
    }
    expect(p.max).toBe(10_000);
    expect(p.mean).toBeCloseTo(5_000.5, 6);
  });

  it('finds a rare slow tail at p99.9 but not at p99', () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 9_990; i++) histogram.recordMs(1);
    for (let i = 0; i < 10; i++) histogram.recordMs(500);
    const p = histogram.percentilesMs();
    expect(p.p99).toBeLessThan(1.1);
    expect(p.p999).toBeLessThan(1.1);
    histogram.recordMs(500);
    expect(histogram.percentilesMs().p999).toBeGreaterThanOrEqual(500);
    expect(histogram.percentilesMs().max).toBe(500);
  });

  it('merges counts and resets', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 100; i++) a.recordMs(1);
    for (let i = 0; i < 100; i++) b.recordMs(100);
    a.merge(b);
    expect(a.count).toBe(200);
    // 1 ms lands in a 16 us wide bucket; the upper bound is reported.
    expect(a.quantileMs(0.25)).toBeGreaterThanOrEqual(1);
    expect(a.quantileMs(0.25)).toBeLessThanOrEqual(1.032);
    expect(a.quantileMs(0.75)).toBeGreaterThanOrEqual(100);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.percentilesMs()).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
  });
});
