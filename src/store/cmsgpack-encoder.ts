/**
 * A MessagePack encoder for what Redis's bundled cmsgpack can read: arrays
 * and strings only, with binary values written as `str` (Redis 7.0's
 * cmsgpack rejects the `bin` family; Lua strings are binary-safe, so raw
 * bytes under a str header arrive intact). Used for the commit blob.
 */

export type CmsgpackValue = string | Buffer | readonly CmsgpackValue[];

export class CmsgpackEncoder {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  encode(value: CmsgpackValue): Buffer {
    this.length = 0;
    this.write(value);
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  private write(value: CmsgpackValue): void {
    if (typeof value === 'string') {
      const bytes = Buffer.byteLength(value, 'utf8');
      this.header(bytes, 0xa0, 0xd9, 0xda, 0xdb, 31);
      this.ensure(bytes);
      this.buffer.write(value, this.length, 'utf8');
      this.length += bytes;
    } else if (Buffer.isBuffer(value)) {
      this.header(value.length, 0xa0, 0xd9, 0xda, 0xdb, 31);
      this.ensure(value.length);
      value.copy(this.buffer, this.length);
      this.length += value.length;
    } else {
      this.header(value.length, 0x90, -1, 0xdc, 0xdd, 15);
      for (const item of value as readonly CmsgpackValue[]) this.write(item);
    }
  }

  /** fix / 8-bit (strings only: -1 = none) / 16-bit / 32-bit length headers. */
  private header(n: number, fix: number, h8: number, h16: number, h32: number, fixMax: number): void {
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
