import { isDeepStrictEqual } from 'node:util';
import { decodePayload, encodePayload } from '../codec/codec.js';

/**
 * The lean simulator's codec: what the load generator must do per message,
 * and no more, so that it costs a fraction of what the switch does.
 *
 * Requests: one MessagePack map per request, built by copying a template
 * and patching id, stan, time and pan in place. The integers are written at
 * fixed width (uint32, uint64), which MessagePack allows and any decoder
 * reads as the same numbers; the template is checked against the real codec
 * once, at construction.
 *
 * Responses: scanned, not decoded: per map only `mti`, `id`, `rc` and
 * `code` are read; every other value is skipped without allocating.
 */

const FIXMAP_7 = 0x87;
const UINT32 = 0xce;
const UINT64 = 0xcf;
const TWO_POW_32 = 4_294_967_296;

function fixstr(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 31) throw new RangeError(`fixstr of ${bytes.length} bytes`);
  return Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes]);
}

export interface LeanRequestFields {
  readonly mti: string;
  readonly amount: number;
  readonly currency: string;
}

/** Encodes `{mti, stan, time, pan, amount, currency, id}` maps into a caller's buffer. */
export class LeanRequestEncoder {
  /** Encoded size of one request. */
  readonly bytes: number;
  private readonly template: Buffer;
  private readonly stanAt: number;
  private readonly timeAt: number;
  private readonly panAt: number;
  private readonly idAt: number;
  private readonly panBytes: number;
  private readonly pans: Buffer;

  constructor(fields: LeanRequestFields, pans: readonly string[]) {
    const first = pans[0];
    if (first === undefined) throw new RangeError('at least one PAN');
    this.panBytes = Buffer.byteLength(first, 'latin1');
    if (this.panBytes > 31) throw new RangeError('PANs longer than 31 bytes');
    for (const pan of pans) {
      if (pan.length !== this.panBytes || !/^[0-9]+$/.test(pan))
        throw new RangeError('PANs must be equal-length digits');
    }
    this.pans = Buffer.from(pans.join(''), 'latin1');
    const parts: Buffer[] = [Buffer.from([FIXMAP_7])];
    let at = 1;
    const push = (part: Buffer): number => {
      const start = at;
      parts.push(part);
      at += part.length;
      return start;
    };
    push(fixstr('mti'));
    push(fixstr(fields.mti));
    push(fixstr('stan'));
    this.stanAt = push(Buffer.from([UINT32, 0, 0, 0, 0])) + 1;
    push(fixstr('time'));
    this.timeAt = push(Buffer.from([UINT64, 0, 0, 0, 0, 0, 0, 0, 0])) + 1;
    push(fixstr('pan'));
    this.panAt = push(fixstr(first)) + 1;
    push(fixstr('amount'));
    push(encodePayload(fields.amount));
    push(fixstr('currency'));
    push(encodePayload(fields.currency));
    push(fixstr('id'));
    this.idAt = push(Buffer.from([UINT32, 0, 0, 0, 0])) + 1;
    this.template = Buffer.concat(parts);
    this.bytes = this.template.length;

    // The contract check: what the switch will decode is exactly the request the SDK would send.
    const probe = Buffer.allocUnsafe(this.bytes);
    const time = 1_764_158_400_123;
    this.write(probe, 0, 4_000_000_001, pans.length - 1, 999_999, time);
    const expected = {
      mti: fields.mti,
      stan: 999_999,
      time,
      pan: pans[pans.length - 1],
      amount: fields.amount,
      currency: fields.currency,
      id: 4_000_000_001,
    };
    if (!isDeepStrictEqual(decodePayload(probe), expected))
      throw new Error('lean request template does not decode to the request it encodes');
  }

  /** Writes one request at `offset`; returns the offset after it. `id` is a uint32. */
  write(buffer: Buffer, offset: number, id: number, panIndex: number, stan: number, timeMs: number): number {
    this.template.copy(buffer, offset);
    buffer.writeUInt32BE(stan, offset + this.stanAt);
    buffer.writeUInt32BE(Math.floor(timeMs / TWO_POW_32), offset + this.timeAt);
    buffer.writeUInt32BE(timeMs >>> 0, offset + this.timeAt + 4);
    const panFrom = panIndex * this.panBytes;
    this.pans.copy(buffer, offset + this.panAt, panFrom, panFrom + this.panBytes);
    buffer.writeUInt32BE(id, offset + this.idAt);
    return offset + this.bytes;
  }
}

/** MessagePack array header for `count` elements. */
export function writeArrayHeader(buffer: Buffer, offset: number, count: number): number {
  if (count < 16) {
    buffer[offset] = 0x90 | count;
    return offset + 1;
  }
  if (count < 0x1_0000) {
    buffer[offset] = 0xdc;
    buffer.writeUInt16BE(count, offset + 1);
    return offset + 3;
  }
  buffer[offset] = 0xdd;
  buffer.writeUInt32BE(count, offset + 1);
  return offset + 5;
}

/** The fields of one response map the simulator looks at. Reused between messages: copy what you keep. */
export interface ScannedMessage {
  /** The mti's four digits as a number (110 for '0110'); -1 when absent or not 4 digits. */
  mti: number;
  /** Integer id, or -1 (see idString). */
  id: number;
  /** A string id (the switch's own echoes use them), else undefined. */
  idString: string | undefined;
  rc: string | undefined;
  code: string | undefined;
}

export type ScanResult = 'ok' | 'malformed';

const rcCache = new Map<number, string>();

/**
 * Reads the maps of a payload (a map, or an array of maps) for their mti, id,
 * rc and code. One per connection: it is not reentrant.
 */
export class ResponseScanner {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  readonly msg: ScannedMessage = { mti: -1, id: -1, idString: undefined, rc: undefined, code: undefined };

  /**
   * Calls `onMessage` for each map; the object passed is reused, so read it in
   * the callback. 'malformed' when the payload is not a map or an array of
   * maps; the messages before the fault have been delivered.
   */
  scan(payload: Buffer, onMessage: (msg: ScannedMessage) => void): ScanResult {
    this.buf = payload;
    this.pos = 0;
    try {
      const b = payload[0];
      if (b === undefined) return 'malformed';
      if ((b & 0xf0) === 0x80 || b === 0xde || b === 0xdf) {
        this.readMap(onMessage);
      } else {
        const count = this.arrayLength();
        if (count < 0) return 'malformed';
        for (let i = 0; i < count; i++) this.readMap(onMessage);
      }
      return this.pos === payload.length ? 'ok' : 'malformed';
    } catch {
      return 'malformed';
    } finally {
      this.buf = Buffer.alloc(0);
    }
  }

  private arrayLength(): number {
    const b = this.buf[this.pos]!;
    if ((b & 0xf0) === 0x90) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xdc) {
      const n = this.buf.readUInt16BE(this.pos + 1);
      this.pos += 3;
      return n;
    }
    if (b === 0xdd) {
      const n = this.buf.readUInt32BE(this.pos + 1);
      this.pos += 5;
      return n;
    }
    return -1;
  }

  private mapLength(): number {
    const b = this.buf[this.pos]!;
    if ((b & 0xf0) === 0x80) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xde) {
      const n = this.buf.readUInt16BE(this.pos + 1);
      this.pos += 3;
      return n;
    }
    if (b === 0xdf) {
      const n = this.buf.readUInt32BE(this.pos + 1);
      this.pos += 5;
      return n;
    }
    throw new Error('not a map');
  }

  private readMap(onMessage: (msg: ScannedMessage) => void): void {
    const msg = this.msg;
    msg.mti = -1;
    msg.id = -1;
    msg.idString = undefined;
    msg.rc = undefined;
    msg.code = undefined;
    const entries = this.mapLength();
    const buf = this.buf;
    for (let i = 0; i < entries; i++) {
      const k = buf[this.pos]!;
      // Keys the simulator reads are short fixstrs; anything else is skipped with its value.
      if ((k & 0xe0) !== 0xa0) {
        this.skip();
        this.skip();
        continue;
      }
      const keyLength = k & 0x1f;
      const key0 = buf[this.pos + 1];
      const key1 = buf[this.pos + 2];
      this.pos += 1 + keyLength;
      if (keyLength === 3 && key0 === 0x6d && key1 === 0x74 && buf[this.pos - 1] === 0x69) {
        msg.mti = this.readMti();
      } else if (keyLength === 2 && key0 === 0x69 && key1 === 0x64) {
        this.readId(msg);
      } else if (keyLength === 2 && key0 === 0x72 && key1 === 0x63) {
        msg.rc = this.readRc();
      } else if (keyLength === 4 && key0 === 0x63 && key1 === 0x6f && buf[this.pos - 2] === 0x64) {
        msg.code = this.readString();
      } else {
        this.skip();
      }
    }
    onMessage(msg);
  }

  private readMti(): number {
    const buf = this.buf;
    if (buf[this.pos] !== 0xa4) {
      this.skip();
      return -1;
    }
    let value = 0;
    for (let i = 1; i <= 4; i++) {
      const digit = buf[this.pos + i]! - 0x30;
      if (digit < 0 || digit > 9) {
        this.pos += 5;
        return -1;
      }
      value = value * 10 + digit;
    }
    this.pos += 5;
    return value;
  }

  private readId(msg: ScannedMessage): void {
    const buf = this.buf;
    const b = buf[this.pos]!;
    if (b < 0x80) {
      msg.id = b;
      this.pos++;
    } else if (b === 0xcc) {
      msg.id = buf[this.pos + 1]!;
      this.pos += 2;
    } else if (b === 0xcd) {
      msg.id = buf.readUInt16BE(this.pos + 1);
      this.pos += 3;
    } else if (b === 0xce) {
      msg.id = buf.readUInt32BE(this.pos + 1);
      this.pos += 5;
    } else if (b === 0xcf || b === 0xd3) {
      // uint64 or int64: ids are below 2^53, so the high word is small and non-negative.
      const high = buf.readInt32BE(this.pos + 1);
      msg.id = high < 0 ? -1 : high * TWO_POW_32 + buf.readUInt32BE(this.pos + 5);
      this.pos += 9;
    } else if (b === 0xd0 || b === 0xd1 || b === 0xd2) {
      const value =
        b === 0xd0
          ? buf.readInt8(this.pos + 1)
          : b === 0xd1
            ? buf.readInt16BE(this.pos + 1)
            : buf.readInt32BE(this.pos + 1);
      msg.id = value < 0 ? -1 : value;
      this.pos += b === 0xd0 ? 2 : b === 0xd1 ? 3 : 5;
    } else if ((b & 0xe0) === 0xa0 || b === 0xd9) {
      msg.idString = this.readString();
    } else {
      this.skip();
    }
  }

  private readRc(): string | undefined {
    const buf = this.buf;
    if (buf[this.pos] === 0xa2) {
      const key = (buf[this.pos + 1]! << 8) | buf[this.pos + 2]!;
      this.pos += 3;
      let rc = rcCache.get(key);
      if (rc === undefined) {
        rc = String.fromCharCode(key >>> 8, key & 0xff);
        rcCache.set(key, rc);
      }
      return rc;
    }
    return this.readString();
  }

  private readString(): string | undefined {
    const buf = this.buf;
    const b = buf[this.pos]!;
    let length: number;
    let start: number;
    if ((b & 0xe0) === 0xa0) {
      length = b & 0x1f;
      start = this.pos + 1;
    } else if (b === 0xd9) {
      length = buf[this.pos + 1]!;
      start = this.pos + 2;
    } else if (b === 0xda) {
      length = buf.readUInt16BE(this.pos + 1);
      start = this.pos + 3;
    } else if (b === 0xdb) {
      length = buf.readUInt32BE(this.pos + 1);
      start = this.pos + 5;
    } else {
      this.skip();
      return undefined;
    }
    this.pos = start + length;
    if (this.pos > buf.length) throw new RangeError('truncated string');
    return buf.toString('utf8', start, start + length);
  }

  /** Skips one value of any type. */
  private skip(): void {
    const buf = this.buf;
    const b = buf[this.pos];
    if (b === undefined) throw new RangeError('truncated');
    if (b < 0x80 || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      this.pos++;
      return;
    }
    if ((b & 0xe0) === 0xa0) {
      this.pos += 1 + (b & 0x1f);
      return;
    }
    if ((b & 0xf0) === 0x80 || b === 0xde || b === 0xdf) {
      const n = this.mapLength();
      for (let i = 0; i < 2 * n; i++) this.skip();
      return;
    }
    if ((b & 0xf0) === 0x90 || b === 0xdc || b === 0xdd) {
      const n = this.arrayLength();
      for (let i = 0; i < n; i++) this.skip();
      return;
    }
    switch (b) {
      case 0xcc:
      case 0xd0:
        this.pos += 2;
        return;
      case 0xcd:
      case 0xd1:
        this.pos += 3;
        return;
      case 0xca:
      case 0xce:
      case 0xd2:
        this.pos += 5;
        return;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        this.pos += 9;
        return;
      case 0xd4:
        this.pos += 3;
        return;
      case 0xd5:
        this.pos += 4;
        return;
      case 0xd6:
        this.pos += 6;
        return;
      case 0xd7:
        this.pos += 10;
        return;
      case 0xd8:
        this.pos += 18;
        return;
      case 0xc4:
      case 0xd9:
        this.pos += 2 + buf[this.pos + 1]!;
        return;
      case 0xc5:
      case 0xda:
        this.pos += 3 + buf.readUInt16BE(this.pos + 1);
        return;
      case 0xc6:
      case 0xdb:
        this.pos += 5 + buf.readUInt32BE(this.pos + 1);
        return;
      case 0xc7:
        this.pos += 3 + buf[this.pos + 1]!;
        return;
      case 0xc8:
        this.pos += 4 + buf.readUInt16BE(this.pos + 1);
        return;
      case 0xc9:
        this.pos += 6 + buf.readUInt32BE(this.pos + 1);
        return;
      default:
        throw new RangeError(`unknown MessagePack type 0x${b.toString(16)}`);
    }
  }
}
