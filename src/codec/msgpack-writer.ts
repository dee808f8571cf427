import { BASE36_PAIR } from '../util/base36.js';
import { codeString } from '../util/code-source.js';

/**
 * A small streaming MessagePack writer into one growable buffer, for the
 * commit path: the commit blob and the account, record and journal encodings
 * nested in it are written in place, with no intermediate Buffer per value
 * (the profile of the commit path showed a third of a ledger thread in
 * msgpackr.pack of each value, the copy of each into the blob, and the GC of
 * both; docs/performance-log.md).
 *
 * What it writes is standard MessagePack that msgpackr and Redis's cmsgpack
 * both read: integers of up to 32 bits in their compact forms; integers
 * beyond 32 bits, like msgpackr, as float64 (exact up to 2^53); strings as
 * str (cmsgpack in Redis 7.0 has no bin family; Lua strings are binary-safe).
 * Lengths patched in later use the 32-bit forms, which every reader accepts.
 */
export class MsgpackWriter {
  private buffer: Buffer;
  /** Bytes written so far. */
  length = 0;

  constructor(initialBytes = 16 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  reset(): void {
    this.length = 0;
  }

  /** A view of what was written (valid until the next write or reset). */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** Copies what was written into `target` at `offset`; returns the offset after it. */
  copyTo(target: Buffer, offset: number): number {
    this.buffer.copy(target, offset, 0, this.length);
    return offset + this.length;
  }

  nil(): void {
    this.ensure(1);
    this.buffer[this.length++] = 0xc0;
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buffer[this.length++] = value ? 0xc3 : 0xc2;
  }

  /** A number: compact integer forms up to 32 bits, float64 beyond (as msgpackr does). */
  number(value: number): void {
    this.ensure(9);
    const b = this.buffer;
    if (value >>> 0 === value) {
      if (value < 0x80) b[this.length++] = value;
      else if (value < 0x100) {
        b[this.length++] = 0xcc;
        b[this.length++] = value;
      } else if (value < 0x10000) {
        b[this.length++] = 0xcd;
        b.writeUInt16BE(value, this.length);
        this.length += 2;
      } else {
        b[this.length++] = 0xce;
        b.writeUInt32BE(value, this.length);
        this.length += 4;
      }
    } else if (value >> 0 === value) {
      if (value >= -0x20) b[this.length++] = value & 0xff;
      else if (value >= -0x80) {
        b[this.length++] = 0xd0;
        b.writeInt8(value, this.length);
        this.length += 1;
      } else if (value >= -0x8000) {
        b[this.length++] = 0xd1;
        b.writeInt16BE(value, this.length);
        this.length += 2;
      } else {
        b[this.length++] = 0xd2;
        b.writeInt32BE(value, this.length);
        this.length += 4;
      }
    } else {
      b[this.length++] = 0xcb;
      b.writeDoubleBE(value, this.length);
      this.length += 8;
    }
  }

  /**
   * A number as the wire contract wants it: like number(), but a safe
   * integer beyond 32 bits as int64, never float64 (a strict peer
   * reads float64 as a float). Written from two 32-bit halves: no BigInt.
   */
  integer(value: number): void {
    if (value >>> 0 === value || value >> 0 === value || !Number.isSafeInteger(value)) {
      this.number(value);
      return;
    }
    this.ensure(9);
    const b = this.buffer;
    // value = hi * 2^32 + lo with lo in [0, 2^32): the two's complement halves for negatives too.
    const hi = Math.floor(value / 0x100000000);
    const lo = value - hi * 0x100000000;
    // int64 for both signs, as msgpackr writes a bigint (and every reader accepts).
    b[this.length++] = 0xd3;
    b.writeInt32BE(hi, this.length);
    b.writeUInt32BE(lo, this.length + 4);
    this.length += 8;
  }

  mapHeader(count: number): void {
    this.lengthHeader(count, 0x80, 15, -1, 0xde, 0xdf);
  }

  /** A number, or nil when undefined/null. */
  numberOrNil(value: number | null | undefined): void {
    if (value === undefined || value === null) this.nil();
    else this.number(value);
  }

  str(value: string): void {
    const chars = value.length;
    // ASCII fast path (PANs, keys, codes): one byte per char, no utf8 encoder call.
    if (chars < 0x100) {
      this.ensure(2 + chars);
      const start = this.length;
      const b = this.buffer;
      let at = start + (chars < 32 ? 1 : 2);
      let ascii = true;
      for (let i = 0; i < chars; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) {
          ascii = false;
          break;
        }
        b[at++] = code;
      }
      if (ascii) {
        if (chars < 32) b[start] = 0xa0 | chars;
        else {
          b[start] = 0xd9;
          b[start + 1] = chars;
        }
        this.length = at;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.strHeader(bytes);
    this.ensure(bytes);
    this.buffer.write(value, this.length, bytes, 'utf8');
    this.length += bytes;
  }

  /**
   * An identifier kept as (head, tail) (util/code-source.ts), written as the
   * one string it stands for without making that string.
   */
  code(head: string, tail: number): void {
    const chars = head.length + 2;
    if (tail < 0 || chars >= 32) {
      this.str(codeString(head, tail));
      return;
    }
    this.ensure(1 + chars);
    const b = this.buffer;
    const start = this.length;
    let at = start + 1;
    for (let i = 0; i < head.length; i++) {
      const c = head.charCodeAt(i);
      if (c >= 0x80) {
        this.str(codeString(head, tail));
        return;
      }
      b[at++] = c;
    }
    const pair = BASE36_PAIR[tail]!;
    b[at++] = pair.charCodeAt(0);
    b[at++] = pair.charCodeAt(1);
    b[start] = 0xa0 | chars;
    this.length = at;
  }

  /**
   * The string `${institution}|${stan}|${time}` (a record key), written from
   * its parts without making it: the ledger keeps keys in parts
   * (record-index.ts), and making the string for every Redis field and
   * journal record cost more than keeping it had. stan and time are
   * non-negative safe integers.
   */
  txnKey(institution: string, stan: number, time: number): void {
    const stanDigits = decimalDigits(stan);
    const timeDigits = decimalDigits(time);
    const chars = institution.length + 2 + stanDigits + timeDigits;
    if (chars >= 0x100 || stanDigits === 0 || timeDigits === 0) {
      this.str(`${institution}|${stan}|${time}`);
      return;
    }
    this.ensure(2 + chars);
    const b = this.buffer;
    const start = this.length;
    let at = asciiInto(b, start + (chars < 32 ? 1 : 2), institution);
    if (at < 0) {
      this.str(`${institution}|${stan}|${time}`);
      return;
    }
    b[at++] = 0x7c; // |
    at = digitsInto(b, at, stan, stanDigits);
    b[at++] = 0x7c;
    at = digitsInto(b, at, time, timeDigits);
    if (chars < 32) b[start] = 0xa0 | chars;
    else {
      b[start] = 0xd9;
      b[start + 1] = chars;
    }
    this.length = at;
  }

  /** code(), or nil when there is no identifier (head undefined). */
  codeOrNil(head: string | undefined, tail: number): void {
    if (head === undefined) this.nil();
    else this.code(head, tail);
  }

  strOrNil(value: string | null | undefined): void {
    if (value === undefined || value === null) this.nil();
    else this.str(value);
  }

  /** Raw bytes under a str header (cmsgpack has no bin). */
  strBytes(bytes: Uint8Array): void {
    this.strHeader(bytes.length);
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * Bytes as a MessagePack bin. Only inside values the commit script carries
   * as opaque str bytes (account logs, journal entries): cmsgpack, which
   * decodes the script's own arguments, has no bin.
   */
  bin(bytes: Uint8Array): void {
    this.lengthHeader(bytes.length, -1, -1, 0xc4, 0xc5, 0xc6);
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Bytes that already are one MessagePack value (say, from msgpackr), copied as they are. */
  raw(encoded: Uint8Array): void {
    this.ensure(encoded.length);
    this.buffer.set(encoded, this.length);
    this.length += encoded.length;
  }

  arrayHeader(count: number): void {
    this.lengthHeader(count, 0x90, 15, -1, 0xdc, 0xdd);
  }

  /**
   * Opens a str whose bytes are written next (a nested encoding); returns the
   * mark endStr() needs. The header is a 32-bit str header, patched at the end.
   */
  beginStr(): number {
    this.ensure(5);
    const mark = this.length;
    this.buffer[mark] = 0xdb;
    this.length += 5;
    return mark;
  }

  endStr(mark: number): void {
    this.buffer.writeUInt32BE(this.length - mark - 5, mark + 1);
  }

  private strHeader(bytes: number): void {
    this.lengthHeader(bytes, 0xa0, 31, 0xd9, 0xda, 0xdb);
  }

  /** fix / 8-bit (-1: none, as for arrays) / 16-bit / 32-bit length headers. */
  private lengthHeader(n: number, fix: number, fixMax: number, h8: number, h16: number, h32: number): void {
    this.ensure(5);
    const b = this.buffer;
    if (n <= fixMax) b[this.length++] = fix | n;
    else if (h8 >= 0 && n <= 0xff) {
      b[this.length++] = h8;
      b[this.length++] = n;
    } else if (n <= 0xffff) {
      b[this.length++] = h16;
      b.writeUInt16BE(n, this.length);
      this.length += 2;
    } else {
      b[this.length++] = h32;
      b.writeUInt32BE(n, this.length);
      this.length += 4;
    }
  }

  private ensure(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}

/**
 * Decimal digits of a non-negative safe integer; 0 when it is not one.
 * Digits are taken 8 at a time in small-integer arithmetic: a double's
 * `%` is a call into C (it made writing keys cost more than keeping them).
 */
function decimalDigits(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) return 0;
  return value < 1e8 ? smallDigits(value) : smallDigits(Math.floor(value / 1e8)) + 8;
}

/** Digits of 0 <= v < 2^31. */
function smallDigits(v: number): number {
  let digits = 1;
  for (let rest = v; rest >= 10; rest = (rest / 10) | 0) digits++;
  return digits;
}

/** Writes the `digits` decimal digits of `value` (decimalDigits) at `at`; returns the offset after them. */
function digitsInto(b: Buffer, at: number, value: number, digits: number): number {
  if (value < 1e8) return smallInto(b, at, value, digits);
  const high = Math.floor(value / 1e8);
  smallInto(b, at, high, digits - 8);
  return smallInto(b, at + digits - 8, value - high * 1e8, 8);
}

/** Writes 0 <= v < 2^31 as exactly `digits` digits (zero-padded) at `at`. */
function smallInto(b: Buffer, at: number, v: number, digits: number): number {
  let rest = v;
  for (let i = at + digits - 1; i >= at; i--) {
    const quotient = (rest / 10) | 0;
    b[i] = 48 + rest - quotient * 10;
    rest = quotient;
  }
  return at + digits;
}

/** Copies an ASCII string's bytes to `at`; returns the offset after them, or -1 at a non-ASCII character. */
function asciiInto(b: Buffer, at: number, text: string): number {
  let out = at;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    b[out++] = code;
  }
  return out;
}
