import { type Options, Packr, Unpackr } from 'msgpackr';
import { fastEncode } from './fast-encoder.js';

/**
 * MessagePack exactly as docs/protocol.md section 1 requires: standard maps (no
 * msgpackr record extension), plain objects out, integers beyond 2^53 kept as
 * bigint so validation can refuse them instead of silently losing precision.
 *
 * One shared Packr/Unpackr pair: both are reusable and allocation-light when
 * kept alive (msgpackr keeps an internal buffer it grows once).
 */
// `skipValues` and `int64AsType: 'auto'` exist at runtime (msgpackr 2.x) but
// not in its typings. Skipping undefined matters: msgpackr would otherwise
// encode it as fixext 0, an extension type other decoders do not know.
const packOptions = {
  useRecords: false,
  moreTypes: false,
  variableMapSize: true,
  skipValues: [undefined],
} as Options;

const unpackOptions = {
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  int64AsType: 'auto',
} as unknown as Options;

const packr = new Packr(packOptions);
const unpackr = new Unpackr(unpackOptions);

export function encodePayload(value: unknown): Buffer {
  return fastEncode(value) ?? encodeWithMsgpackr(value);
}

/** The general path (anything MessagePack can carry); exported so tests can hold the fast path to it. */
export function encodeWithMsgpackr(value: unknown): Buffer {
  return packr.pack(wideIntegersAsBigInt(value, 0));
}

const INT32_MIN = -0x80000000;
const UINT32_MAX = 0xffffffff;
/** Messages are flat maps with at most one nested map (`orig`); batches add one level. */
const NESTING_MAX = 3;

/**
 * msgpackr writes an integer outside the 32-bit range as float64, which a
 * strict peer reads as a float, not the int the contract promises (`time`
 * always, `amount` and `balance` above 2^32 minor units). As a bigint it is
 * written as int64/uint64. Objects are copied only when something changes.
 */
function wideIntegersAsBigInt(value: unknown, depth: number): unknown {
  if (typeof value === 'number') {
    return (value > UINT32_MAX || value < INT32_MIN) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (typeof value !== 'object' || value === null || depth >= NESTING_MAX || ArrayBuffer.isView(value))
    return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const w = wideIntegersAsBigInt(v, depth + 1);
      if (w !== v) {
        out ??= value.slice();
        out[i] = w;
      }
    }
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const v = record[key];
    const w = wideIntegersAsBigInt(v, depth + 1);
    if (w !== v) {
      out ??= { ...record };
      out[key] = w;
    }
  }
  return out ?? value;
}

/** Throws on bytes that are not exactly one MessagePack value. */
export function decodePayload(payload: Uint8Array): unknown {
  return unpackr.unpack(payload);
}
