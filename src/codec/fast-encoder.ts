import { MsgpackWriter } from './msgpack-writer.js';

/**
 * The common case of encodePayload() without msgpackr: plain objects and
 * arrays (nested at most NESTING_MAX deep) of strings, numbers, booleans and
 * null, undefined map values skipped. Integers beyond 32 bits go out as
 * int64 straight from the number (the msgpackr path converts them to
 * BigInt first). Returns undefined for anything else (a Buffer, a bigint, a
 * class instance, undefined in an array, deeper nesting), which the caller
 * encodes with msgpackr. Same bytes as the msgpackr path for what it covers;
 * responses are all it sees in practice (~10% of the main thread, profiled).
 */

const NESTING_MAX = 3;
const writer = new MsgpackWriter(64 * 1024);

export function fastEncode(value: unknown): Buffer | undefined {
  writer.reset();
  if (!write(value, 0)) return undefined;
  // An owned copy: the socket keeps it until written, and the writer is reused.
  return Buffer.from(writer.view());
}

function write(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      writer.str(value);
      return true;
    case 'number':
      writer.integer(value);
      return true;
    case 'boolean':
      writer.bool(value);
      return true;
    case 'object':
      if (value === null) {
        writer.nil();
        return true;
      }
      if (depth >= NESTING_MAX) return false;
      if (Array.isArray(value)) return writeArray(value, depth);
      if (!isPlainObject(value)) return false;
      return writeMap(value as Record<string, unknown>, depth);
    default:
      return false;
  }
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function writeArray(items: readonly unknown[], depth: number): boolean {
  writer.arrayHeader(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === undefined || !write(item, depth + 1)) return false;
  }
  return true;
}

function writeMap(map: Record<string, unknown>, depth: number): boolean {
  let count = 0;
  for (const key in map) if (map[key] !== undefined) count++;
  writer.mapHeader(count);
  for (const key in map) {
    const v = map[key];
    if (v === undefined) continue;
    writer.str(key);
    if (!write(v, depth + 1)) return false;
  }
  return true;
}
