import { describe, expect, it } from 'vitest';
import { BucketCounts } from '../../src/observability/bucket-counts.js';
import { HISTOGRAM_BUCKETS } from '../../src/observability/metric-buckets.js';
import { METRIC_FAMILIES } from '../../src/observability/metric-catalog.js';

describe('BucketCounts (the plain histograms workers keep and the main thread exports)', () => {
  it('puts a value in the first bucket whose bound it does not exceed, past the last in +Inf', () => {
    const b = new BucketCounts([1, 10, 100]);
    for (const v of [0, 1, 1.5, 10, 99, 100, 100.5, 1e9]) b.observe(v);
    expect(Array.from(b.counts)).toEqual([2, 2, 2, 2]);
    expect(b.count).toBe(8);
    expect(b.sum).toBe(0 + 1 + 1.5 + 10 + 99 + 100 + 100.5 + 1e9);
  });

  it('take() hands over a copy and starts again from zero; add() sums snapshots', () => {
    const worker = new BucketCounts([1, 10]);
    worker.observe(0.5);
    worker.observe(5);
    const first = worker.take();
    expect(first).toEqual({ counts: [1, 1, 0], sum: 5.5, count: 2 });
    expect(Array.from(worker.counts)).toEqual([0, 0, 0]);
    expect([worker.sum, worker.count]).toEqual([0, 0]);
    worker.observe(50);
    const second = worker.take();
    // The first snapshot is not the live array: later observations do not change it.
    expect(first.counts).toEqual([1, 1, 0]);
    const main = new BucketCounts([1, 10]);
    main.add(first);
    main.add(second);
    expect(Array.from(main.counts)).toEqual([1, 1, 1]);
    expect([main.sum, main.count]).toEqual([55.5, 3]);
  });

  it('refuses a snapshot of other buckets, and bounds that do not ascend', () => {
    expect(() => new BucketCounts([1, 10]).add({ counts: [0, 0], sum: 0, count: 0 })).toThrow(RangeError);
    expect(() => new BucketCounts([1, 1])).toThrow(RangeError);
    expect(() => new BucketCounts([5, 1])).toThrow(RangeError);
  });

  it('has bounds for exactly the catalog’s histograms, each ascending', () => {
    const histograms = METRIC_FAMILIES.filter((f) => f.type === 'histogram').map((f) => f.name);
    expect(Object.keys(HISTOGRAM_BUCKETS).sort()).toEqual(histograms.sort());
    for (const bounds of Object.values(HISTOGRAM_BUCKETS))
      expect(() => new BucketCounts(bounds)).not.toThrow();
  });
});
