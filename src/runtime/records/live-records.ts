import type { TxnRecord } from './txn-record.js';

/**
 * Where RecordIndexes keep their live records (a batch's, until it is
 * sealed): one array for all the indexes of an owner (a ledger core, the
 * in-memory benchmark), each index holding positions in it, small integers.
 *
 * Why not an array per index: a live record is young (this batch's
 * decisions made it) and an index is old, and V8 remembers every young
 * object stored into an old one until its next young-generation collection,
 * which revisits the slot. With a slot per account that is one more cache
 * miss per decision, paid again inside each collection (docs/performance-log.md,
 * change 35). Here the remembered slots are a few, reused, in one array.
 * Positions are freed last in, first out, so the array stays as small as the
 * most records ever live at once.
 */
export class LiveRecords {
  private readonly records: (TxnRecord | undefined)[] = [];
  private readonly free: number[] = [];

  /** Records live now (for tests and leak checks). */
  get size(): number {
    return this.records.length - this.free.length;
  }

  add(record: TxnRecord): number {
    const at = this.free.pop();
    if (at === undefined) return this.records.push(record) - 1;
    this.records[at] = record;
    return at;
  }

  at(position: number): TxnRecord {
    return this.records[position]!;
  }

  replace(position: number, record: TxnRecord): void {
    this.records[position] = record;
  }

  remove(position: number): void {
    this.records[position] = undefined;
    this.free.push(position);
  }
}
