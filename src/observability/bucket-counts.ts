/**
 * A histogram's observations as plain numbers: a count per bucket (not
 * cumulative; the last slot is +Inf), their sum and their count. Ledger
 * workers keep these per commit and ship a snapshot to the main thread once
 * a second; the main thread adds them into the series it exports. Fixed
 * size: observing allocates nothing.
 */
export interface BucketSnapshot {
  /** One per upper bound, then +Inf; not cumulative. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export class BucketCounts {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /** `upperBounds` ascending, as Prometheus's `le` (a value equal to a bound falls in that bucket). */
  constructor(readonly upperBounds: readonly number[]) {
    for (let i = 1; i < upperBounds.length; i++)
      if (!(upperBounds[i]! > upperBounds[i - 1]!)) throw new RangeError('bucket bounds must ascend');
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    // A linear scan: at most ~17 bounds, and most values land in the first few.
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Adds another thread's snapshot (same bounds: both sides take them from metric-buckets.ts). */
  add(snapshot: BucketSnapshot): void {
    if (snapshot.counts.length !== this.counts.length)
      throw new RangeError(
        `a snapshot of ${snapshot.counts.length} buckets cannot be added to ${this.counts.length}`,
      );
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += snapshot.counts[i]!;
    this.sum += snapshot.sum;
    this.count += snapshot.count;
  }

  /** What was observed since the last take(), as a copy; counting starts again from zero. */
  take(): BucketSnapshot {
    const snapshot: BucketSnapshot = { counts: Array.from(this.counts), sum: this.sum, count: this.count };
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    return snapshot;
  }
}
