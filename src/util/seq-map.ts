/** Entries a table starts with room for (a power of two). */
const INITIAL_CAPACITY = 64;

/**
 * A map from non-negative integer keys (sequence numbers, below 2^53) to
 * values: open addressing with linear probing and deletion by backward
 * shift, the tables grown by doubling and never rebuilt otherwise.
 *
 * Why not a Map: a Map that lives long is in the old generation, and so is
 * every table it rebuilds as keys come and go (V8 allocates a rebuilt table
 * where the old one was). A Map with a set and a delete per message, like
 * the ledger's map of transactions awaiting their owner, left old garbage
 * behind every message and brought mark-compacts, the tail at moderate
 * load (docs/performance-log.md, "Latency at moderate load"). These
 * tables only grow, and a deleted entry is cleared in place.
 */
export class SeqMap<V> {
  private keys: Float64Array;
  private values: (V | undefined)[];
  private mask: number;
  /** 32 - log2(capacity): the hash's top bits pick the home slot. */
  private shift: number;
  private count = 0;

  constructor() {
    this.keys = new Float64Array(INITIAL_CAPACITY).fill(-1);
    this.values = new Array<V | undefined>(INITIAL_CAPACITY).fill(undefined);
    this.mask = INITIAL_CAPACITY - 1;
    this.shift = 32 - Math.log2(INITIAL_CAPACITY);
  }

  get size(): number {
    return this.count;
  }

  get(key: number): V | undefined {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) return this.values[i];
      if (k === -1) return undefined;
    }
  }

  /** Sets `key` to `value` (undefined is not a value: delete instead). */
  set(key: number, value: V): void {
    if (!(Number.isSafeInteger(key) && key >= 0))
      throw new RangeError(`SeqMap keys are integers >= 0, got ${key}`);
    let i = this.home(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === -1) break;
    }
    // At most half full: probes stay short.
    if ((this.count + 1) * 2 > this.keys.length) {
      this.grow();
      this.set(key, value);
      return;
    }
    this.keys[i] = key;
    this.values[i] = value;
    this.count++;
  }

  /** Removes `key`; whether it was there. */
  delete(key: number): boolean {
    let i = this.home(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) break;
      if (k === -1) return false;
    }
    // Backward shift: move later entries of the run into the gap, so no tombstones.
    let gap = i;
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const k = this.keys[j]!;
      if (k === -1) break;
      const home = this.home(k);
      // j's entry may move to the gap when its home is not cyclically within (gap, j].
      const between = gap <= j ? home > gap && home <= j : home > gap || home <= j;
      if (!between) {
        this.keys[gap] = k;
        this.values[gap] = this.values[j];
        gap = j;
      }
    }
    this.keys[gap] = -1;
    this.values[gap] = undefined;
    this.count--;
    return true;
  }

  /** The values, in no particular order (a copy: the map may change meanwhile). */
  valuesArray(): V[] {
    const out: V[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== -1) out.push(this.values[i]!);
    return out;
  }

  clear(): void {
    this.keys.fill(-1);
    this.values.fill(undefined);
    this.count = 0;
  }

  private home(key: number): number {
    // Sequence numbers are consecutive: a multiplicative hash spreads them (and their high bits) over the table.
    return Math.imul((key | 0) ^ ((key / 4294967296) | 0), 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = oldKeys.length * 2;
    this.keys = new Float64Array(capacity).fill(-1);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift--;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== -1) this.set(oldKeys[i]!, oldValues[i]!);
  }
}
