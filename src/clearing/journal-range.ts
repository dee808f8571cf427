/**
 * A clearing cycle's slice of the journal: the entries every log partition's
 * stream received from `startMs` (inclusive) to `cutMs` (exclusive), by the
 * stream ids, which are the store's clock. The same bounds apply to every
 * partition, so an entry lands in exactly one cycle whichever partition it is in.
 */
export interface JournalRange {
  /** Epoch ms of the store's clock: entries with id `startMs-0` or later. */
  readonly startMs: number;
  /** Epoch ms of the store's clock: entries with an id before `cutMs-0`. */
  readonly cutMs: number;
}

/** XRANGE's bounds for a range: start inclusive, end exclusive (`(`, Redis 6.2 and later). */
export function streamBounds(range: JournalRange): { readonly start: string; readonly end: string } {
  for (const [name, ms] of [
    ['startMs', range.startMs],
    ['cutMs', range.cutMs],
  ] as const) {
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new Error(`journal range: ${name} must be a whole ms, got ${ms}`);
  }
  if (range.cutMs < range.startMs)
    throw new Error(`journal range: cutMs ${range.cutMs} is before startMs ${range.startMs}`);
  return { start: `${range.startMs}-0`, end: `(${range.cutMs}-0` };
}
