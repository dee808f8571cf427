import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload } from '../../src/wire/codec.js';

describe('codec', () => {
  it('writes integers beyond 32 bits as int64/uint64, never float64', () => {
    const INT64_FAMILY = [0xcf, 0xd3];
    expect(INT64_FAMILY).toContain(encodePayload(1_764_000_000_000)[0]);
    expect(encodePayload(-5_000_000_000)[0]).toBe(0xd3);
    expect(INT64_FAMILY).toContain(encodePayload(2 ** 53 - 1)[0]);
    expect(encodePayload(0xffffffff)[0]).toBe(0xce);
    expect(encodePayload(1.5)[0]).toBe(0xcb);
  });

  it('converts nested fields of messages and batches, without touching the caller objects', () => {
    const msg = { mti: '0400', time: 1_764_000_000_000, orig: { stan: 1, time: 1_764_000_000_001 } };
    const bytes = encodePayload([msg]);
    expect(bytes.includes(0xcb)).toBe(false);
    expect(decodePayload(bytes)).toEqual([msg]);
    expect(typeof msg.time).toBe('number');
  });

  it('decodes 64-bit integers in the safe range as numbers and beyond it as bigint', () => {
    expect(decodePayload(Buffer.from([0xcf, 0, 0, 1, 0, 0, 0, 0, 0]))).toBe(2 ** 40);
    expect(decodePayload(Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(
      2n ** 64n - 1n,
    );
  });

  it('omits undefined fields instead of writing the non-standard fixext 0', () => {
    const bytes = encodePayload({ a: 1, b: undefined });
    expect(bytes).toEqual(Buffer.from([0x81, 0xa1, 0x61, 0x01]));
  });

  it('refuses trailing bytes after one value', () => {
    expect(() => decodePayload(Buffer.from([0x01, 0x02]))).toThrow();
  });
});
