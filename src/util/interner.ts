/**
 * Makes equal strings one string: decoding gives every message its own
 * copies of values that repeat across messages (institution, currency,
 * class, proc), and whatever the ledger keeps per record would keep each
 * copy alive. Cheap enough for every message: the known values are
 * compared in turn (a few short compares, no hashing of the fresh string),
 * and a value not known yet joins them while there is room. Past
 * `sizeMax` values, new ones are returned as they are (still correct, only
 * not shared).
 */
export class Interner {
  private readonly values: string[] = [];

  constructor(private readonly sizeMax = 8) {}

  /** Distinct values remembered. */
  get size(): number {
    return this.values.length;
  }

  of(value: string): string {
    const values = this.values;
    for (let i = 0; i < values.length; i++) {
      const known = values[i]!;
      if (known === value) {
        // Move towards the front: the values seen most come first.
        if (i > 0) {
          values[i] = values[i - 1]!;
          values[i - 1] = known;
        }
        return known;
      }
    }
    if (values.length < this.sizeMax) values.push(value);
    return value;
  }
}
