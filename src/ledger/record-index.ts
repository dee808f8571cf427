import { PackedRecords } from './packed-records.js';
import { type KeyParts, parseKey, type TxnRecord } from './txn-record.js';

/**
 * One account's transaction records in memory, found by key parts without
 * a key string: a Map by stan (a small integer: no allocation, no string
 * hashing), each entry the head of a short chain of the records that share
 * the stan (another institution or transmission time; rare within one
 * account's recent records). Records with a reference key (adjustments)
 * live in a Map by that key.
 *
 * A record is live (its object, which the open batch may still change) until
 * seal() packs it (PackedRecords: no object per kept record). The ledger
 * seals a record once its batch's commit is built. A sealed record is found
 * as a new copy per lookup: a caller that changes one must set() it back,
 * which makes it live again. Records never sealed behave as plain objects.
 *
 * A stan's chain is its live objects (linked by nextSameStan), then its
 * sealed slots (a slot number ends the objects; PackedRecords links the
 * slots). Sealing changes a chain in place, so the Map's entries stay put.
 *
 * Iteration (values()) is roughly oldest first: stans in the order they
 * first arrived, then the reference keys. Eviction only needs "old before
 * new" as a preference; nothing depends on the exact order.
 */

/** What an eviction asks and tells (RecordIndex.evict). */
export interface Evictor {
  /** Whether the record may leave memory now. */
  evictable(record: Readonly<TxnRecord>): boolean;
  /** The record left memory (a view valid only during the call, for a sealed one). */
  evicted(record: Readonly<TxnRecord>): void;
}

/** A chain link: a live record, a sealed slot (>= 0), or the end (undefined, or -1 after a slot). */
type Link = TxnRecord | number | undefined;

export class RecordIndex {
  private readonly byStan = new Map<number, TxnRecord | number>();
  private readonly byRef = new Map<string, TxnRecord>();
  private readonly packed = new PackedRecords();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The record of the transaction (institution, stan, time), if in memory (a sealed one as a copy). */
  find(institution: string, stan: number, time: number): TxnRecord | undefined {
    let link: Link = this.byStan.get(stan);
    for (; typeof link === 'object'; link = link.nextSameStan) {
      if (link.time === time && link.institution === institution) return link;
    }
    const slot = this.findSlot(link, institution, stan, time);
    return slot < 0 ? undefined : this.packed.record(slot);
  }

  /** Whether the transaction's record is in memory (makes no copy of a sealed one). */
  includes(institution: string, stan: number, time: number): boolean {
    let link: Link = this.byStan.get(stan);
    for (; typeof link === 'object'; link = link.nextSameStan) {
      if (link.time === time && link.institution === institution) return true;
    }
    return this.findSlot(link, institution, stan, time) >= 0;
  }

  /** Whether the record under a key's parts is in memory (makes no copy). */
  includesParts(key: KeyParts): boolean {
    return key.refKey !== undefined
      ? this.byRef.has(key.refKey)
      : this.includes(key.institution, key.stan, key.time);
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
    return this.includesParts(parseKey(key));
  }

  /** Adds a record (live), in place of the one under the same key if there is one. */
  set(record: TxnRecord): void {
    if (record.refKey !== undefined) {
      if (!this.byRef.has(record.refKey)) this.count++;
      this.byRef.set(record.refKey, record);
      return;
    }
    const { stan } = record;
    let previous: TxnRecord | undefined;
    let link: Link = this.byStan.get(stan);
    for (; typeof link === 'object'; link = link.nextSameStan) {
      if (link.time === record.time && link.institution === record.institution) {
        // Same key: the new record takes the old one's place in the chain.
        record.nextSameStan = link.nextSameStan;
        this.relink(stan, previous, -1, record);
        return;
      }
      previous = link;
    }
    // Not live. A sealed record under this key gives way to the new one.
    const sealed = this.unlinkSlot(stan, previous, link, record.institution, record.time);
    if (!sealed) this.count++;
    // Live records go before the sealed ones: at the chain's head.
    record.nextSameStan = this.byStan.get(stan);
    this.byStan.set(stan, record);
  }

  /** Adds a record read back from Redis (durable: sealed at once). */
  setDurable(record: TxnRecord): void {
    this.set(record);
    this.seal(record);
  }

  /**
   * Packs a live record: the batch that last wrote it is closed, so nothing
   * changes it any more but a later decision (which finds a copy and sets
   * it back). Not this object (replaced or deleted), or a reference-keyed
   * record: nothing to do.
   */
  seal(record: TxnRecord): void {
    if (record.refKey !== undefined) return;
    const { stan } = record;
    let previous: TxnRecord | undefined;
    let link: Link = this.byStan.get(stan);
    for (; typeof link === 'object' && link !== record; link = link.nextSameStan) previous = link;
    if (link !== record) return;
    // The last live record after it, and the first sealed slot.
    let last: TxnRecord | undefined;
    let tail: Link = record.nextSameStan;
    for (; typeof tail === 'object'; tail = tail.nextSameStan) last = tail;
    const slot = this.packed.add(record, tail ?? -1);
    if (last !== undefined) {
      // Live records follow it: they take its place, and the slot goes after them.
      last.nextSameStan = slot;
      this.relink(stan, previous, -1, record.nextSameStan);
    } else {
      this.relink(stan, previous, -1, slot);
    }
    record.nextSameStan = undefined;
  }

  /**
   * Removes this record: the object if live (not another under its key), or
   * the sealed record under its key when none is live (a copy stands for
   * it). False when neither is here.
   */
  delete(record: TxnRecord): boolean {
    if (record.refKey !== undefined) {
      if (this.byRef.get(record.refKey) !== record) return false;
      this.byRef.delete(record.refKey);
      this.count--;
      return true;
    }
    const { stan } = record;
    let previous: TxnRecord | undefined;
    let link: Link = this.byStan.get(stan);
    for (; typeof link === 'object'; link = link.nextSameStan) {
      if (link === record) {
        // Left as it was: an iteration standing on this record goes on to the next.
        this.relink(stan, previous, -1, link.nextSameStan);
        this.count--;
        return true;
      }
      // Another live record under its key: a copy of an older one, not this.
      if (link.time === record.time && link.institution === record.institution) return false;
      previous = link;
    }
    if (!this.unlinkSlot(stan, previous, link, record.institution, record.time)) return false;
    this.count--;
    return true;
  }

  /** Frees the sealed record under the key (which is there). */
  private removeSealed(institution: string, stan: number, time: number): void {
    let previous: TxnRecord | undefined;
    let link: Link = this.byStan.get(stan);
    for (; typeof link === 'object'; link = link.nextSameStan) previous = link;
    if (this.unlinkSlot(stan, previous, link, institution, time)) this.count--;
  }

  /**
   * Removes records, oldest first (values() order), while more than
   * `sizeMax` are here: those `evictor` finds evictable, telling it of each.
   * A sealed record is seen as a view (PackedRecords.view), not a copy: an
   * actor evicts one record per decision once full.
   */
  evict(sizeMax: number, evictor: Evictor): void {
    if (this.count <= sizeMax) return;
    for (const head of this.byStan.values()) {
      let link: Link = head;
      while (typeof link === 'object') {
        const record: TxnRecord = link;
        link = record.nextSameStan;
        if (!evictor.evictable(record)) continue;
        this.delete(record);
        evictor.evicted(record);
        if (this.count <= sizeMax) return;
      }
      for (let slot = link ?? -1; slot >= 0; ) {
        const next = this.packed.next(slot);
        const view = this.packed.view(slot);
        if (evictor.evictable(view)) {
          // Told first: the view reads the slot, which the delete frees.
          evictor.evicted(view);
          const { institution, stan, time } = this.packed.view(slot);
          this.removeSealed(institution, stan, time);
          if (this.count <= sizeMax) return;
        }
        slot = next;
      }
    }
    for (const record of this.byRef.values()) {
      if (!evictor.evictable(record)) continue;
      this.delete(record);
      evictor.evicted(record);
      if (this.count <= sizeMax) return;
    }
  }

  /**
   * Every record, roughly oldest first (sealed ones as copies). Deleting
   * the record just returned (or any earlier one) while iterating is safe.
   */
  *values(): IterableIterator<TxnRecord> {
    for (const head of this.byStan.values()) {
      let link: Link = head;
      for (; typeof link === 'object'; link = link.nextSameStan) yield link;
      for (let slot = link ?? -1; slot >= 0; ) {
        // Read before yielding: deleting the yielded record frees its slot.
        const next = this.packed.next(slot);
        yield this.packed.record(slot);
        slot = next;
      }
    }
    yield* this.byRef.values();
  }

  /** The slot of the sealed record under the key, from the chain's first slot; -1 when none. */
  private findSlot(first: Link, institution: string, stan: number, time: number): number {
    for (let slot = (first as number | undefined) ?? -1; slot >= 0; slot = this.packed.next(slot)) {
      if (this.packed.isKey(slot, institution, stan, time)) return slot;
    }
    return -1;
  }

  /**
   * Frees the sealed record under the key, given the chain's last live
   * record and first slot; false when there is none.
   */
  private unlinkSlot(
    stan: number,
    lastLive: TxnRecord | undefined,
    first: Link,
    institution: string,
    time: number,
  ): boolean {
    let previousSlot = -1;
    for (let slot = (first as number | undefined) ?? -1; slot >= 0; slot = this.packed.next(slot)) {
      if (this.packed.isKey(slot, institution, stan, time)) {
        this.relink(stan, lastLive, previousSlot, this.packed.next(slot));
        this.packed.release(slot);
        return true;
      }
      previousSlot = slot;
    }
    return false;
  }

  /** Points the link before a node (a slot, a live record, or the Map's entry) at `next`. */
  private relink(stan: number, previous: TxnRecord | undefined, previousSlot: number, next: Link): void {
    if (previousSlot >= 0) this.packed.setNext(previousSlot, next as number);
    else if (previous !== undefined) previous.nextSameStan = next === -1 ? undefined : next;
    else if (next === undefined || next === -1) this.byStan.delete(stan);
    else this.byStan.set(stan, next);
  }
}
