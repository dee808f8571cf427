import { LiveRecords } from './live-records.js';
import { PackedRecords } from './packed-records.js';
import { type KeyParts, parseKey, type TxnRecord } from './txn-record.js';

/**
 * One account's transaction records in memory, found by key parts without
 * a key string.
 *
 * A record is live (its object, which the open batch may still change) until
 * seal() packs it into PackedRecords (no object per kept record, found
 * through a typed-array hash on the stan). The ledger seals a record once
 * its batch's commit is built, so only a batch's worth is live at a time. A
 * sealed record is found as a new copy per lookup: a caller that changes
 * one must set() it back, which makes it live again. Records never sealed
 * (as in tests of decide() alone) stay live objects, found by a scan.
 * Records with a reference key (adjustments) live in a Map by that key,
 * never sealed. Live records are kept in the owner's LiveRecords, the
 * index holding their positions: an owner that drops an index with live
 * records calls release().
 *
 * Iteration (values()) and eviction go oldest first among the sealed
 * records (packing order), then live ones, then the reference keys.
 */

/** What an eviction asks and tells (RecordIndex.evict). */
export interface Evictor {
  /** Whether the record may leave memory now. */
  evictable(record: Readonly<TxnRecord>): boolean;
  /** The record left memory (a view valid only during the call, for a sealed one). */
  evicted(record: Readonly<TxnRecord>): void;
}

export class RecordIndex {
  /**
   * Positions of the live records in `pool`, in the order they became live:
   * the first in a field (an actor has one live record per batch, mostly),
   * the rest in an array made when a second one comes. Numbers, not
   * references: see LiveRecords for why.
   */
  private liveFirst = -1;
  private liveRest: number[] | undefined;
  private liveCount = 0;
  private readonly packed = new PackedRecords();
  private byRef: Map<string, TxnRecord> | undefined;

  /** `pool`: the owner's, shared by its indexes; by default one of this index's own. */
  constructor(private readonly pool: LiveRecords = new LiveRecords()) {}

  get size(): number {
    return this.liveCount + this.packed.size + (this.byRef?.size ?? 0);
  }

  /** The record of the transaction (institution, stan, time), if in memory (a sealed one as a copy). */
  find(institution: string, stan: number, time: number): TxnRecord | undefined {
    const at = this.liveAt(institution, stan, time);
    if (at >= 0) return this.pool.at(this.livePosition(at));
    const slot = this.packed.find(institution, stan, time);
    return slot < 0 ? undefined : this.packed.record(slot);
  }

  /** Whether the transaction's record is in memory (makes no copy of a sealed one). */
  includes(institution: string, stan: number, time: number): boolean {
    return this.liveAt(institution, stan, time) >= 0 || this.packed.find(institution, stan, time) >= 0;
  }

  /** Whether the record under a key's parts is in memory (makes no copy). */
  includesParts(key: KeyParts): boolean {
    return key.refKey !== undefined
      ? (this.byRef?.has(key.refKey) ?? false)
      : this.includes(key.institution, key.stan, key.time);
  }

  /** The record under a key's parts. */
  findParts(key: KeyParts): TxnRecord | undefined {
    return key.refKey !== undefined
      ? this.byRef?.get(key.refKey)
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
      this.byRef ??= new Map();
      this.byRef.set(record.refKey, record);
      return;
    }
    const at = this.liveAt(record.institution, record.stan, record.time);
    if (at >= 0) {
      this.pool.replace(this.livePosition(at), record);
      return;
    }
    // A sealed record under this key gives way to the new one.
    const slot = this.packed.find(record.institution, record.stan, record.time);
    if (slot >= 0) this.packed.remove(slot);
    this.pushLive(record);
  }

  /** Adds a live record under a key the caller knows is not here (decide() looked it up). */
  setNew(record: TxnRecord): void {
    this.pushLive(record);
  }

  /** Gives the live records' places in the pool back: the owner drops this index. */
  release(): void {
    while (this.liveCount > 0) this.removeLiveAt(this.liveCount - 1);
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
    if (record.refKey !== undefined || !this.unlinkLive(record)) return;
    this.packed.add(record);
  }

  /**
   * Removes this record: the object if live (not another under its key), or
   * the sealed record under its key when none is live (a copy stands for
   * it). False when neither is here.
   */
  delete(record: TxnRecord): boolean {
    if (record.refKey !== undefined) {
      if (this.byRef?.get(record.refKey) !== record) return false;
      this.byRef.delete(record.refKey);
      return true;
    }
    if (this.unlinkLive(record)) return true;
    // Another live record under its key: a copy of an older one, not this.
    if (this.liveAt(record.institution, record.stan, record.time) >= 0) return false;
    const slot = this.packed.find(record.institution, record.stan, record.time);
    if (slot < 0) return false;
    this.packed.remove(slot);
    return true;
  }

  /**
   * Removes records, oldest first (values() order), while more than
   * `sizeMax` are here: those `evictor` finds evictable, telling it of each.
   * A sealed record is seen as a view (PackedRecords.view), not a copy: an
   * actor evicts one record per decision once full. A `sizeMax` of -1
   * visits every record (removeWhere).
   */
  evict(sizeMax: number, evictor: Evictor): void {
    if (this.size <= sizeMax) return;
    const packed = this.packed;
    for (let slot = packed.oldest(); slot >= 0; ) {
      const next = packed.newer(slot);
      const view = packed.view(slot);
      if (evictor.evictable(view)) {
        // Told first: the view reads the slot, which remove() frees.
        evictor.evicted(view);
        packed.remove(slot);
        if (this.size <= sizeMax) return;
      }
      slot = next;
    }
    for (let i = 0; i < this.liveCount; ) {
      const record = this.pool.at(this.livePosition(i));
      if (!evictor.evictable(record)) {
        i++;
        continue;
      }
      this.removeLiveAt(i);
      evictor.evicted(record);
      if (this.size <= sizeMax) return;
    }
    if (this.byRef === undefined) return;
    for (const record of this.byRef.values()) {
      if (!evictor.evictable(record)) continue;
      this.byRef.delete(record.refKey!);
      evictor.evicted(record);
      if (this.size <= sizeMax) return;
    }
  }

  /**
   * Removes every record `evictor` finds evictable, oldest first, telling
   * it of each (a sealed one as a view, as evict() does: no copy per
   * record): pruning what is past the dedupe window.
   */
  removeWhere(evictor: Evictor): void {
    this.evict(-1, evictor);
  }

  /**
   * Every record: sealed ones oldest first (as copies), then live ones, then
   * reference-keyed ones. Deleting the record just returned (or any earlier
   * one) while iterating is safe.
   */
  *values(): IterableIterator<TxnRecord> {
    const packed = this.packed;
    for (let slot = packed.oldest(); slot >= 0; ) {
      // Read before yielding: deleting the yielded record frees its slot.
      const next = packed.newer(slot);
      yield packed.record(slot);
      slot = next;
    }
    // A snapshot: deleting a live record while iterating must not skip the next one.
    if (this.liveCount > 0) {
      const live: TxnRecord[] = [];
      for (let i = 0; i < this.liveCount; i++) live.push(this.pool.at(this.livePosition(i)));
      yield* live;
    }
    if (this.byRef !== undefined) yield* this.byRef.values();
  }

  /** The pool position of the i-th live record. */
  private livePosition(i: number): number {
    return i === 0 ? this.liveFirst : this.liveRest![i - 1]!;
  }

  private pushLive(record: TxnRecord): void {
    const position = this.pool.add(record);
    if (this.liveCount === 0) this.liveFirst = position;
    else {
      // Never shrunk: an actor's second live record costs no new backing store each batch.
      this.liveRest ??= [];
      this.liveRest[this.liveCount - 1] = position;
    }
    this.liveCount++;
  }

  /** Which live record (0 to liveCount - 1) is under the key, or -1 (a batch's worth: a short scan). */
  private liveAt(institution: string, stan: number, time: number): number {
    for (let i = 0; i < this.liveCount; i++) {
      const r = this.pool.at(this.livePosition(i));
      if (r.stan === stan && r.time === time && r.institution === institution) return i;
    }
    return -1;
  }

  /** Takes the i-th live record out, keeping the others' order. */
  private removeLiveAt(at: number): void {
    this.pool.remove(this.livePosition(at));
    const last = --this.liveCount;
    if (last === 0) {
      this.liveFirst = -1;
      return;
    }
    const rest = this.liveRest!;
    if (at === 0) this.liveFirst = rest[0]!;
    for (let i = Math.max(at, 1); i < last; i++) rest[i - 1] = rest[i]!;
  }

  /** Takes this live object out; false when it is not here. */
  private unlinkLive(record: TxnRecord): boolean {
    for (let i = 0; i < this.liveCount; i++) {
      if (this.pool.at(this.livePosition(i)) === record) {
        this.removeLiveAt(i);
        return true;
      }
    }
    return false;
  }
}
