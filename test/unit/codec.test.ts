import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload, encodeWithMsgpackr } from '../../src/codec/codec.js';
import { fastEncode } from '../../src/codec/fast-encoder.js';

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

describe('codec fast path (plain messages without msgpackr)', () => {
  /** Seeded: SWITCHYARD_SEED=<int> replays a run; the seed is in the failure message. */
  const SEED = Number(process.env['SWITCHYARD_SEED'] ?? 20_261_126);
  const scalar = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.integer({ min: -(2 ** 31) - 10, max: 2 ** 32 + 10 }),
    fc.maxSafeInteger(),
    fc.integer({ min: -(2 ** 53) + 1, max: -(2 ** 31) }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
  );
  const message = fc.dictionary(fc.string({ maxLength: 12 }), scalar, { maxKeys: 12 });
  const nested = fc.record({ mti: fc.constantFrom('0110', '0210', '0410'), orig: message, extra: message });
  const payload = fc.oneof(message, nested, fc.array(message, { maxLength: 5 }));

  it('writes the same bytes as the msgpackr path for every plain message, single or batch (seeded)', () => {
    try {
      fc.assert(
        fc.property(payload, (value) => {
          const fast = fastEncode(value);
          expect(fast).toBeDefined();
          expect(fast?.toString('hex')).toBe(encodeWithMsgpackr(value).toString('hex'));
        }),
        { seed: SEED, numRuns: 500 },
      );
    } catch (error) {
      throw new Error(`codec fast path property failed (SWITCHYARD_SEED=${SEED}): ${String(error)}`);
    }
  });

  it('leaves what it does not cover to msgpackr', () => {
    expect(fastEncode({ a: Buffer.from([1]) })).toBeUndefined();
    expect(fastEncode({ a: 1n })).toBeUndefined();
    expect(fastEncode([1, undefined])).toBeUndefined();
    expect(fastEncode({ a: { b: { c: { d: 1 } } } })).toBeUndefined();
    expect(decodePayload(encodePayload({ a: { b: { c: { d: 1 } } } }))).toEqual({
      a: { b: { c: { d: 1 } } },
    });
  });
});
