import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import { SHARD_COUNT } from '../../store/keys.js';

/** One section of the blob: an array of ops, written as they come, counted for its header. */
class Section {
  readonly w = new MsgpackWriter();
  count = 0;

  reset(): void {
    this.w.reset();
    this.count = 0;
  }

  /** Opens an op of `values` values after its key; the caller writes the values. */
  op(key: string, values: number): MsgpackWriter {
    this.count++;
    this.w.arrayHeader(1 + values);
    this.w.str(key);
    return this.w;
  }
}

/**
 * Builds one call of the commit script (commit-script.ts): the ops of a batch
 * written straight into the sections the script walks (epoch keys,
 * compactions, APPENDs, XADDs, moves), then joined into one blob. An account's
 * piece of log is written in place (beginAppend + the writer), so a record
 * or account is encoded once, into the blob itself. Reusable: reset()
 * between commits.
 */
export class CommitBatch {
  private readonly epochs = new Section();
  /**
   * The batch number (reset() counts them) that last checked each shard's
   * epoch: no Set cleared per commit. A long-lived Set's clear() allocates
   * its new table in the old generation, which made every commit leave old
   * garbage behind and brought mark-compacts, the tail at moderate load
   * (docs/performance-log.md, "Latency at moderate load").
   */
  private readonly epochCheckedIn = new Int32Array(SHARD_COUNT);
  private batchNumber = 1;
  private readonly compactions = new Section();
  private readonly appends = new Section();
  private readonly xadds = new Section();
  private readonly moves = new Section();
  // The script's b[1]..b[5]: moves last, so a blob without them reads as before.
  private readonly sections = [this.epochs, this.compactions, this.appends, this.xadds, this.moves];
  /** Where the open APPEND's data starts (beginAppend), or -1. */
  private appendMark = -1;

  reset(): void {
    for (const section of this.sections) section.reset();
    if (this.batchNumber === 0x7fffffff) {
      // After 2^31 commits: start again from a clean slate, so no old stamp reads as this batch's.
      this.epochCheckedIn.fill(0);
      this.batchNumber = 0;
    }
    this.batchNumber++;
    this.appendMark = -1;
  }

  /** Checks a shard's fencing epoch (once per shard per batch). */
  epoch(shard: number, key: string): void {
    if (this.epochCheckedIn[shard] === this.batchNumber) return;
    this.epochCheckedIn[shard] = this.batchNumber;
    this.epochs.count++;
    this.epochs.w.str(key);
  }

  /**
   * Replaces the first `prefixBytes` of the log at `key` (what the caller read
   * of it) with `data`, keeping what was appended after: account-log.ts.
   */
  compact(key: string, prefixBytes: number, data: Uint8Array): void {
    const w = this.compactions.op(key, 2);
    w.number(prefixBytes);
    w.strBytes(data);
  }

  /**
   * Moves an account's log from `from` to `to` (a re-key), and leaves at
   * `alias` the new ref, `ref`, for what still names the old one: before
   * any compaction or APPEND of the batch, which then go to `to`.
   */
  move(from: string, to: string, alias: string, ref: string): void {
    const w = this.moves.op(from, 3);
    w.str(to);
    w.str(alias);
    w.str(ref);
  }

  /**
   * Opens APPEND key <data>: the caller writes the data with the returned
   * writer, then calls endAppend(), before any other call on this batch.
   */
  beginAppend(key: string): MsgpackWriter {
    if (this.appendMark >= 0) throw new Error('beginAppend: the previous APPEND is still open');
    const w = this.appends.op(key, 1);
    this.appendMark = w.beginStr();
    return w;
  }

  /** Closes the open APPEND; returns its data's length in bytes. */
  endAppend(): number {
    const mark = this.appendMark;
    if (mark < 0) throw new Error('endAppend: no APPEND open');
    this.appendMark = -1;
    const w = this.appends.w;
    w.endStr(mark);
    return w.length - mark - 5;
  }

  /** APPEND key <data>. */
  append(key: string, data: Uint8Array): void {
    this.appends.op(key, 1).strBytes(data);
  }

  /** XADD key * d <data>. */
  xadd(key: string, data: Uint8Array): void {
    this.xadds.op(key, 1).strBytes(data);
  }

  /** The script's ARGV[3]: an owned buffer (the sections are reused). */
  pack(): Buffer {
    if (this.appendMark >= 0) throw new Error('pack: an APPEND is still open');
    let bytes = 1;
    for (const section of this.sections) bytes += 5 + section.w.length;
    const out = Buffer.allocUnsafe(bytes);
    out[0] = 0x90 | this.sections.length;
    let at = 1;
    for (const section of this.sections) {
      // array32 headers: the counts are known only now; every MessagePack reader accepts them.
      out[at] = 0xdd;
      out.writeUInt32BE(section.count, at + 1);
      at = section.w.copyTo(out, at + 5);
    }
    return out;
  }
}
