import { type KeyParts, parseKey, type TxnRecord } from './txn-record.js';

/**
 * One account's transaction records in memory, found by key parts without
 * a key string: a Map by stan (a small integer: no allocation, no string
 * hashing), each entry the head of a short chain of the records that share
 * the stan (another institution or transmission time; rare within one
 * account's recent records). Records with a reference key (adjustments)
 * live in a Map by that key.
 *
 * Iteration (values()) is roughly oldest first: stans in the order they
 * first arrived, then the reference keys. Eviction only needs "old before
 * new" as a preference; nothing depends on the exact order.
 */
export class RecordIndex {
  private readonly byStan = new Map<number, TxnRecord>();
  private readonly byRef = new Map<string, TxnRecord>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The record of the transaction (institution, stan, time), if in memory. */
  find(institution: string, stan: number, time: number): TxnRecord | undefined {
    for (let r = this.byStan.get(stan); r !== undefined; r = r.nextSameStan) {
      if (r.time === time && r.institution === institution && r.refKey === undefined) return r;
    }
    return undefined;
  }

  /** The record under a key's parts. */
  findParts(key: KeyParts): TxnRecord | undefined {
    return key.refKey !== undefined
      ? this.byRef.get(key.refKey)
      : this.find(key.institution, key.stan, key.time);
  }

  /** The record under a stored key string (`institution|stan|time` or a reference key). */
  get(key: string): TxnRecord | undefined {
    return this.findParts(parseKey(key));
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Adds a record, in place of the one under the same key if there is one. */
  set(record: TxnRecord): void {
    if (record.refKey !== undefined) {
      if (!this.byRef.has(record.refKey)) this.count++;
      this.byRef.set(record.refKey, record);
      return;
    }
    const head = this.byStan.get(record.stan);
    let previous: TxnRecord | undefined;
    for (let r = head; r !== undefined; r = r.nextSameStan) {
      if (r.time === record.time && r.institution === record.institution && r.refKey === undefined) {
        // Same key: the new record takes the old one's place in the chain.
        record.nextSameStan = r.nextSameStan;
        if (previous === undefined) this.byStan.set(record.stan, record);
        else previous.nextSameStan = record;
        return;
      }
      previous = r;
    }
    // A new key: appended to its stan's chain (or the chain's first).
    record.nextSameStan = undefined;
    if (previous === undefined) this.byStan.set(record.stan, record);
    else previous.nextSameStan = record;
    this.count++;
  }

  /** Removes this record (the object, not another under its key); false when it is not here. */
  delete(record: TxnRecord): boolean {
    if (record.refKey !== undefined) {
      if (this.byRef.get(record.refKey) !== record) return false;
      this.byRef.delete(record.refKey);
      this.count--;
      return true;
    }
    let previous: TxnRecord | undefined;
    for (let r = this.byStan.get(record.stan); r !== undefined; r = r.nextSameStan) {
      if (r === record) {
        if (previous !== undefined) previous.nextSameStan = r.nextSameStan;
        else if (r.nextSameStan !== undefined) this.byStan.set(record.stan, r.nextSameStan);
        else this.byStan.delete(record.stan);
        // Left as it was: an iteration standing on this record goes on to the next.
        this.count--;
        return true;
      }
      previous = r;
    }
    return false;
  }

  /**
   * Every record, roughly oldest first. Deleting the record just returned
   * (or any earlier one) while iterating is safe.
   */
  *values(): IterableIterator<TxnRecord> {
    for (const head of this.byStan.values()) {
      for (let r: TxnRecord | undefined = head; r !== undefined; r = r.nextSameStan) yield r;
    }
    yield* this.byRef.values();
  }
}
