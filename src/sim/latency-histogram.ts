/**
 * Log-bucketed latency histogram (HDR-style), no dependencies.
 *
 * Values are recorded in whole microseconds. Below 2^SUB_BITS every value has
 * its own bucket; above, each power of two is split into 2^SUB_BITS linear
 * sub-buckets, so a bucket's width is at most 1/32 of its value: percentiles
 * are exact to about 3%. 896 buckets cover 1 us to 2^32 us (71 minutes);
 * larger values are clamped into the last bucket (max stays exact).
 */

const SUB_BITS = 5;
const SUB_BUCKETS = 1 << SUB_BITS;
const VALUE_US_MAX = 0xffff_ffff;
const BUCKET_COUNT = (32 - SUB_BITS + 1) * SUB_BUCKETS;

export function bucketIndexOf(valueUs: number): number {
  if (valueUs < SUB_BUCKETS) return valueUs;
  const exponent = 31 - Math.clz32(valueUs);
  const shift = exponent - SUB_BITS;
  const mantissa = valueUs >>> shift;
  return (shift + 1) * SUB_BUCKETS + (mantissa - SUB_BUCKETS);
}

/** Largest value that lands in `index`. */
export function bucketUpperBoundUs(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const shift = Math.floor(index / SUB_BUCKETS) - 1;
  const mantissa = (index % SUB_BUCKETS) + SUB_BUCKETS;
  return (mantissa + 1) * 2 ** shift - 1;
}

export interface LatencyPercentilesMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sumUs = 0;
  private maxUs = 0;

  get count(): number {
    return this.total;
  }

  /** Records `latencyMs` `times` times (a batch's messages share one latency). */
  recordMs(latencyMs: number, times = 1): void {
    this.recordUs(Math.round(latencyMs * 1000), times);
  }

  recordUs(latencyUs: number, times = 1): void {
    const valueUs = Math.min(Math.max(0, Math.round(latencyUs)), VALUE_US_MAX);
    this.counts[bucketIndexOf(valueUs)]! += times;
    this.total += times;
    this.sumUs += valueUs * times;
    if (valueUs > this.maxUs) this.maxUs = valueUs;
  }

  /** Adds another histogram's counts (the per-second one into the run's). */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKET_COUNT; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }

  /**
   * The value at quantile q (0..1], in microseconds: the upper bound of the
   * bucket holding the ceil(q * count)-th smallest value, never above the
   * recorded max. Reporting the upper bound errs on the slow side. 0 when empty.
   */
  quantileUs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(Math.max(q, 0), 1) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperBoundUs(i), this.maxUs);
    }
    return this.maxUs;
  }

  quantileMs(q: number): number {
    return this.quantileUs(q) / 1000;
  }

  percentilesMs(): LatencyPercentilesMs {
    return {
      p50: this.quantileMs(0.5),
      p90: this.quantileMs(0.9),
      p99: this.quantileMs(0.99),
      p999: this.quantileMs(0.999),
      max: this.maxUs / 1000,
      mean: this.total === 0 ? 0 : this.sumUs / this.total / 1000,
    };
  }
}
