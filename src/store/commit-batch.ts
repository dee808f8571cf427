import { MsgpackWriter } from '../wire/msgpack-writer.js';
import { COMMIT_OP_VALUES_MAX } from './commit-script.js';

type Value = string | Buffer;

/** Field/value pairs per HSET op: keeps every op under Lua's unpack limit. */
export const HSET_PAIRS_MAX = COMMIT_OP_VALUES_MAX / 2;

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
 * written straight into the sections the script walks (epoch keys, HSET, HDEL,
 * XADD), then joined into one blob. Values can be written in
 * place (beginHset + the writer), so a record or account is encoded once,
 * into the blob itself. Reusable: reset() between commits.
 */
export class CommitBatch {
  private readonly epochs = new Section();
  private readonly seenEpochKeys = new Set<string>();
  private readonly hsets = new Section();
  private readonly hdels = new Section();
  private readonly xadds = new Section();
  private readonly sections = [this.epochs, this.hsets, this.hdels, this.xadds];

  reset(): void {
    for (const section of this.sections) section.reset();
    this.seenEpochKeys.clear();
  }

  /** Checks a shard's fencing epoch (once per shard per batch). */
  epoch(key: string): void {
    if (this.seenEpochKeys.has(key)) return;
    this.seenEpochKeys.add(key);
    this.epochs.count++;
    this.epochs.w.str(key);
  }

  /**
   * Opens HSET key with `pairs` field/value pairs (at most HSET_PAIRS_MAX):
   * the caller writes exactly 2 x pairs values (field, value, ...) with the
   * returned writer, before any other call on this batch.
   */
  beginHset(key: string, pairs: number): MsgpackWriter {
    if (pairs < 1 || pairs > HSET_PAIRS_MAX) throw new RangeError(`HSET of ${pairs} pairs`);
    return this.hsets.op(key, 2 * pairs);
  }

  /** HSET key with [field, value, field, value, ...]. */
  hset(key: string, pairs: readonly Value[]): void {
    for (let start = 0; start < pairs.length; start += 2 * HSET_PAIRS_MAX) {
      const chunk = pairs.slice(start, start + 2 * HSET_PAIRS_MAX);
      const w = this.beginHset(key, chunk.length / 2);
      for (const value of chunk) writeValue(w, value);
    }
  }

  hdel(key: string, fields: readonly string[]): void {
    chunked(this.hdels, key, fields);
  }

  /** XADD key * d <data>. */
  xadd(key: string, data: Uint8Array): void {
    this.xadds.op(key, 1).strBytes(data);
  }

  /** The script's ARGV[3]: an owned buffer (the sections are reused). */
  pack(): Buffer {
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

function writeValue(w: MsgpackWriter, value: Value): void {
  if (typeof value === 'string') w.str(value);
  else w.strBytes(value);
}

function chunked(section: Section, key: string, values: readonly string[]): void {
  for (let start = 0; start < values.length; start += COMMIT_OP_VALUES_MAX) {
    const end = Math.min(values.length, start + COMMIT_OP_VALUES_MAX);
    const w = section.op(key, end - start);
    for (let i = start; i < end; i++) w.str(values[i]!);
  }
}
