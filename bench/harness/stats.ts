/** Median and range of repeated measurements. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Per-key medians over records that may lack some keys. */
export function medianByKey(records: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const keys = new Set(records.flatMap((r) => Object.keys(r)));
  const out: Record<string, number> = {};
  for (const key of keys) {
    const values = records.map((r) => r[key]).filter((v): v is number => v !== undefined);
    out[key] = median(values);
  }
  return out;
}
