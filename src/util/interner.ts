/**
 * Makes equal strings one string: decoding gives every message its own
 * copies of values that repeat across messages (institution, currency,
 * class, proc), and whatever the ledger keeps per record would keep each
 * copy alive. Bounded: past `sizeMax` distinct values, new ones are
 * returned as they are (still correct, only not shared).
 */
export class Interner {
  private readonly values = new Map<string, string>();

  constructor(private readonly sizeMax = 4_096) {}

  /** Distinct values remembered. */
  get size(): number {
    return this.values.size;
  }

  of(value: string): string {
    const known = this.values.get(value);
    if (known !== undefined) return known;
    if (this.values.size < this.sizeMax) this.values.set(value, value);
    return value;
  }
}
