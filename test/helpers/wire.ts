import { pack, unpack } from 'msgpackr';

/** A decoded message: a map with string keys. */
export type Msg = Record<string, unknown>;

const INT32_MIN = -(2 ** 31);
const UINT32_LIMIT = 2 ** 32;

/**
 * msgpackr writes JS integers outside the 32-bit range as float64. Every other MessagePack
 * library writes them as (u)int64, and docs/protocol.md types `time` etc. as int, so large safe
 * integers are turned into BigInt first: msgpackr then writes a real int64. Keys whose value is
 * undefined are dropped (msgpackr would write an extension type for them).
 */
function intsToWire(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && (value < INT32_MIN || value >= UINT32_LIMIT)) return BigInt(value);
    return value;
  }
  if (Array.isArray(value)) return value.map(intsToWire);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = intsToWire(v);
    return out;
  }
  return value;
}

/** Standard MessagePack (msgpackr's plain `pack`: useRecords false, no extensions). */
export function encode(value: unknown): Buffer {
  return Buffer.from(pack(intsToWire(value)));
}

function bigIntsToNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(bigIntsToNumbers);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = bigIntsToNumbers(v);
    return out;
  }
  return value;
}

/** msgpackr's plain `unpack`; 64-bit ints in the safe range come back as numbers. */
export function decode(bytes: Uint8Array): unknown {
  return bigIntsToNumbers(unpack(bytes));
}

/** 4-byte big-endian length prefix + payload. */
export function lengthPrefixed(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Reassembles length-prefixed frames from arbitrary chunks (our own, independent of the switch). */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = 64 * 1024 * 1024) {}

  /** Feeds a chunk; returns every payload now complete. Throws on a frame over the cap. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) throw new Error(`incoming frame of ${length} bytes over the cap`);
      if (this.buffered < 4 + length) break;
      const all = this.take(4 + length);
      out.push(all.subarray(4));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0] && this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const taken = Buffer.from(joined.subarray(0, n));
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return taken;
  }
}

/** Hand-built MessagePack for cases msgpackr never produces (integer widths, raw maps). */
export const raw = {
  str(s: string): Buffer {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 32) return Buffer.concat([Buffer.from([0xa0 | b.length]), b]);
    if (b.length < 256) return Buffer.concat([Buffer.from([0xd9, b.length]), b]);
    const h = Buffer.alloc(3);
    h[0] = 0xda;
    h.writeUInt16BE(b.length, 1);
    return Buffer.concat([h, b]);
  },
  /** An integer in an explicit MessagePack width. */
  int(v: bigint | number, width: 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64'): Buffer {
    const n = BigInt(v);
    const spec = {
      u8: [0xcc, 1],
      u16: [0xcd, 2],
      u32: [0xce, 4],
      u64: [0xcf, 8],
      i8: [0xd0, 1],
      i16: [0xd1, 2],
      i32: [0xd2, 4],
      i64: [0xd3, 8],
    }[width] as [number, number];
    const b = Buffer.alloc(1 + spec[1]);
    b[0] = spec[0];
    if (width === 'u64') b.writeBigUInt64BE(n, 1);
    else if (width === 'i64') b.writeBigInt64BE(n, 1);
    else if (width.startsWith('u')) b.writeUIntBE(Number(n), 1, spec[1]);
    else b.writeIntBE(Number(n), 1, spec[1]);
    return b;
  },
  /** A map from already-encoded values (any value: pass `encode(x)` for ordinary ones). */
  map(entries: ReadonlyArray<readonly [string, Buffer]>): Buffer {
    if (entries.length > 15) throw new Error('raw.map: at most 15 entries');
    return Buffer.concat([
      Buffer.from([0x80 | entries.length]),
      ...entries.flatMap(([k, v]) => [raw.str(k), v]),
    ]);
  },
};
