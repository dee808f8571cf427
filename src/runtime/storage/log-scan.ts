import { keyOf, type TxnRecord } from '../records/txn-record.js';
import { readAccountLog } from './account-log.js';
import {
  ACCOUNT_FORMAT,
  DROP_FORMAT,
  decodeRecord,
  IDENTITY_FORMAT,
  RECORD_FORMAT,
  STAND_IN_FORMAT,
} from './state-codec.js';

/**
 * Finds the records under a few keys in an account log (account-log.ts)
 * without decoding the rest: fetching an evicted record reads the whole
 * log, and decoding every entry of it (states and records alike, ~270 µs
 * for a log of 233 of each) was most of what a fetch cost the worker. The
 * scan walks the MessagePack bytes, reads each entry's format and key, and
 * decodes only the last version of each wanted key (when no drop came after
 * it): the answer readAccountLog(data).records gives for those keys.
 *
 * An entry the scan does not expect (a MessagePack type its writers never
 * write, a format it does not know) sends the whole log to readAccountLog,
 * which decodes it or throws as it always has.
 */
export function findRecordsInLog(data: Buffer, keys: Iterable<string>): Map<string, TxnRecord> {
  const wanted = new Map<string, Buffer>();
  for (const key of keys) wanted.set(key, Buffer.from(key, 'utf8'));
  const found = new Map<string, TxnRecord>();
  if (wanted.size === 0 || data.length === 0) return found;
  let spans: Map<string, readonly [number, number]>;
  try {
    spans = lastVersions(data, wanted);
  } catch (error) {
    if (!(error instanceof UnexpectedBytes)) throw error;
    for (const record of readAccountLog(data, 0).records) {
      const key = keyOf(record);
      if (wanted.has(key)) found.set(key, record);
    }
    return found;
  }
  for (const [key, [start, end]] of spans) found.set(key, decodeRecord(data.subarray(start, end)));
  return found;
}

/** Thrown where the scan meets bytes it does not expect: the full decode decides. */
class UnexpectedBytes extends Error {}

/** Each wanted key's last record entry [start, end), unless a drop of it came after. */
function lastVersions(
  data: Buffer,
  wanted: ReadonlyMap<string, Buffer>,
): Map<string, readonly [number, number]> {
  const spans = new Map<string, readonly [number, number]>();
  const reader = new Reader(data);
  while (reader.at < data.length) {
    const start = reader.at;
    const fields = reader.arrayLength();
    if (fields < 2) throw new UnexpectedBytes();
    const format = reader.smallInt();
    if (format === ACCOUNT_FORMAT || format === IDENTITY_FORMAT || format === STAND_IN_FORMAT) {
      reader.skipValues(fields - 1);
      continue;
    }
    if (format !== RECORD_FORMAT && format !== DROP_FORMAT) throw new UnexpectedBytes();
    const keyAt = reader.strStart();
    const keyBytes = reader.at - keyAt;
    reader.skipValues(fields - 2);
    let key: string | undefined;
    for (const [candidate, bytes] of wanted) {
      if (bytes.length === keyBytes && data.compare(bytes, 0, keyBytes, keyAt, keyAt + keyBytes) === 0) {
        key = candidate;
        break;
      }
    }
    if (key === undefined) continue;
    if (format === DROP_FORMAT) spans.delete(key);
    else spans.set(key, [start, reader.at]);
  }
  return spans;
}

/** By type byte: the payload's bytes of a fixed-size type (uint, int, float), else 0. */
const FIXED_BYTES = table(
  [0xcc, 1],
  [0xd0, 1],
  [0xcd, 2],
  [0xd1, 2],
  [0xce, 4],
  [0xd2, 4],
  [0xca, 4],
  [0xcf, 8],
  [0xd3, 8],
  [0xcb, 8],
);
/** By type byte: the length header's bytes of a sized str or bin, else 0. */
const SIZED_BYTES = table([0xd9, 1], [0xc4, 1], [0xda, 2], [0xc5, 2], [0xdb, 4], [0xc6, 4]);

function table(...entries: [number, number][]): Uint8Array {
  const out = new Uint8Array(256);
  for (const [type, bytes] of entries) out[type] = bytes;
  return out;
}

/** A cursor over MessagePack bytes that reads headers and skips values (the types state-codec writes). */
class Reader {
  at = 0;

  constructor(private readonly data: Buffer) {}

  private byte(): number {
    if (this.at >= this.data.length) throw new UnexpectedBytes();
    return this.data[this.at++]!;
  }

  private uint(bytes: number): number {
    if (this.at + bytes > this.data.length) throw new UnexpectedBytes();
    const value = this.data.readUIntBE(this.at, bytes);
    this.at += bytes;
    return value;
  }

  arrayLength(): number {
    const b = this.byte();
    if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
    if (b === 0xdc) return this.uint(2);
    if (b === 0xdd) return this.uint(4);
    throw new UnexpectedBytes();
  }

  /** A positive fixint (the entry formats). */
  smallInt(): number {
    const b = this.byte();
    if (b > 0x7f) throw new UnexpectedBytes();
    return b;
  }

  /** Moves past a str's header; returns where its bytes start (they end at `at`). */
  strStart(): number {
    const b = this.byte();
    let length: number;
    if (b >= 0xa0 && b <= 0xbf) length = b & 0x1f;
    else if (b === 0xd9) length = this.uint(1);
    else if (b === 0xda) length = this.uint(2);
    else if (b === 0xdb) length = this.uint(4);
    else throw new UnexpectedBytes();
    const start = this.at;
    this.skipBytes(length);
    return start;
  }

  skipValues(count: number): void {
    for (let i = 0; i < count; i++) this.skipValue();
  }

  private skipBytes(count: number): void {
    if (this.at + count > this.data.length) throw new UnexpectedBytes();
    this.at += count;
  }

  private skipValue(): void {
    const b = this.byte();
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    if (b >= 0xa0 && b <= 0xbf) this.skipBytes(b & 0x1f);
    else if (b >= 0x90 && b <= 0x9f) this.skipValues(b & 0x0f);
    else if (b >= 0x80 && b <= 0x8f) this.skipValues((b & 0x0f) * 2);
    else if (FIXED_BYTES[b]! > 0) this.skipBytes(FIXED_BYTES[b]!);
    else if (SIZED_BYTES[b]! > 0) this.skipBytes(this.uint(SIZED_BYTES[b]!));
    else if (b === 0xdc || b === 0xdd) this.skipValues(this.uint(b === 0xdc ? 2 : 4));
    else if (b === 0xde || b === 0xdf) this.skipValues(this.uint(b === 0xde ? 2 : 4) * 2);
    else throw new UnexpectedBytes();
  }
}
