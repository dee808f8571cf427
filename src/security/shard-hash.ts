import { SHARD_COUNT } from '../store/keys.js';

/** Bytes of the shard key (SipHash's 128-bit key). */
export const SHARD_KEY_BYTES = 16;

/**
 * The shard of a PAN from a keyed hash (SipHash-2-4 under the key file's
 * shard key), so no stored key name carries an unkeyed value derived from
 * the PAN. Computed on the main thread for every message (to pick the
 * owning worker), where an HMAC-SHA256 would cost ten times as much; the
 * stored reference of the PAN is its HMAC token (pan-token.ts). The shard
 * key is not rotated with the token keys: a shard is an account's writer,
 * and moving every account at once is a migration of its own.
 */
export class ShardHash {
  private readonly k0h: number;
  private readonly k0l: number;
  private readonly k1h: number;
  private readonly k1l: number;

  constructor(key: Uint8Array) {
    if (key.length !== SHARD_KEY_BYTES) throw new RangeError('the shard key is 16 bytes');
    const le = (at: number): number =>
      (key[at]! | (key[at + 1]! << 8) | (key[at + 2]! << 16) | (key[at + 3]! << 24)) >>> 0;
    this.k0l = le(0);
    this.k0h = le(4);
    this.k1l = le(8);
    this.k1h = le(12);
  }

  shardOf(pan: string): number {
    return sipHashAscii32(this.k0h, this.k0l, this.k1h, this.k1l, pan) % SHARD_COUNT;
  }
}

/**
 * SipHash-2-4 (Aumasson and Bernstein) over a string's char codes (ASCII:
 * one byte each), the low 32 bits of its result. 64-bit lanes are pairs of
 * 32-bit halves in locals: no BigInt, no allocation. Checked against the
 * reference vectors in test/unit/shard-hash.test.ts.
 */
export function sipHashAscii32(k0h: number, k0l: number, k1h: number, k1l: number, text: string): number {
  // "somepseudorandomlygeneratedbytes" xor the key.
  let v0h = (k0h ^ 0x736f6d65) >>> 0;
  let v0l = (k0l ^ 0x70736575) >>> 0;
  let v1h = (k1h ^ 0x646f7261) >>> 0;
  let v1l = (k1l ^ 0x6e646f6d) >>> 0;
  let v2h = (k0h ^ 0x6c796765) >>> 0;
  let v2l = (k0l ^ 0x6e657261) >>> 0;
  let v3h = (k1h ^ 0x74656462) >>> 0;
  let v3l = (k1l ^ 0x79746573) >>> 0;
  const length = text.length;
  const whole = length & ~7;
  let mh = 0;
  let ml = 0;
  let t = 0;
  let lo = 0;
  // One pass per 8-byte block, one for the last (partial) block with the length in its top
  // byte, and the finalization: 2 rounds after each block, 4 at the end, one round body.
  for (let i = 0; ; i += 8) {
    const finishing = i > whole;
    if (finishing) {
      v2l ^= 0xff;
    } else if (i < whole) {
      ml =
        (text.charCodeAt(i) |
          (text.charCodeAt(i + 1) << 8) |
          (text.charCodeAt(i + 2) << 16) |
          (text.charCodeAt(i + 3) << 24)) >>>
        0;
      mh =
        (text.charCodeAt(i + 4) |
          (text.charCodeAt(i + 5) << 8) |
          (text.charCodeAt(i + 6) << 16) |
          (text.charCodeAt(i + 7) << 24)) >>>
        0;
    } else {
      ml = 0;
      mh = (length & 0xff) << 24;
      for (let j = whole; j < length; j++) {
        const shift = (j - whole) * 8;
        if (shift < 32) ml |= text.charCodeAt(j) << shift;
        else mh |= text.charCodeAt(j) << (shift - 32);
      }
      ml >>>= 0;
      mh >>>= 0;
    }
    if (!finishing) {
      v3h ^= mh;
      v3l ^= ml;
    }
    for (let round = finishing ? 4 : 2; round > 0; round--) {
      // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
      lo = (v0l >>> 0) + (v1l >>> 0);
      v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) | 0;
      v0l = lo | 0;
      t = v1h;
      v1h = (v1h << 13) | (v1l >>> 19);
      v1l = (v1l << 13) | (t >>> 19);
      v1h ^= v0h;
      v1l ^= v0l;
      t = v0h;
      v0h = v0l;
      v0l = t;
      // v2 += v3; v3 <<<= 16; v3 ^= v2
      lo = (v2l >>> 0) + (v3l >>> 0);
      v2h = (v2h + v3h + (lo > 0xffffffff ? 1 : 0)) | 0;
      v2l = lo | 0;
      t = v3h;
      v3h = (v3h << 16) | (v3l >>> 16);
      v3l = (v3l << 16) | (t >>> 16);
      v3h ^= v2h;
      v3l ^= v2l;
      // v0 += v3; v3 <<<= 21; v3 ^= v0
      lo = (v0l >>> 0) + (v3l >>> 0);
      v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) | 0;
      v0l = lo | 0;
      t = v3h;
      v3h = (v3h << 21) | (v3l >>> 11);
      v3l = (v3l << 21) | (t >>> 11);
      v3h ^= v0h;
      v3l ^= v0l;
      // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
      lo = (v2l >>> 0) + (v1l >>> 0);
      v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) | 0;
      v2l = lo | 0;
      t = v1h;
      v1h = (v1h << 17) | (v1l >>> 15);
      v1l = (v1l << 17) | (t >>> 15);
      v1h ^= v2h;
      v1l ^= v2l;
      t = v2h;
      v2h = v2l;
      v2l = t;
    }
    if (finishing) return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
    v0h ^= mh;
    v0l ^= ml;
  }
}
