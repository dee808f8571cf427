import { isPanField, isSecretField, maskPanField, REDACTED, scrubNumber, scrubText } from './log-redact.js';

/**
 * Log fields to JSON text, written directly (no replacer, no intermediate
 * copy: JSON.stringify with a replacer costs several times more) and
 * scrubbed on the way (log-redact.ts). Errors keep name, message, code,
 * stack, their other own fields and their cause, recursively. Everything is
 * bounded, so a huge or cyclic value costs a bounded line, never a crash.
 */

export type LogFields = Readonly<Record<string, unknown>>;

/** Nesting below a field (a cause chain counts one level per cause). */
const DEPTH_MAX = 8;
/** Keys written per object and items per array; the rest are counted, not written. */
const KEYS_MAX = 64;
const ITEMS_MAX = 64;
/** Characters kept of one string (a stack, a Redis reply); the rest are counted. */
const STRING_CHARS_MAX = 8_192;

/** Names the line itself uses; a field of the same name is written with this suffix instead of twice. */
const RESERVED = new Set(['time', 'level', 'msg']);
const RESERVED_SUFFIX = '_';

/** Error properties written first and in this order; the rest of its own fields follow. */
const ERROR_HEAD = new Set(['name', 'message', 'code', 'stack', 'cause', 'errors']);

/** `,"name":value` for every field that has a JSON form: the tail of a JSON object. */
export function fieldsJson(fields: LogFields): string {
  let out = '';
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue;
    const json = valueJson(fields[name], name, 0, ancestors);
    if (json !== undefined) out += keyJson(name) + json;
  }
  return out;
}

/**
 * The objects being written, outermost first, to tell a cycle from a value
 * seen twice. Shared: a line is written synchronously, and every push is
 * popped in a finally.
 */
const ancestors: object[] = [];

/** `,"name":` for a top-level field name: names are constants, so built once each. */
const keyFragments = new Map<string, string>();
const KEY_FRAGMENTS_CACHED_MAX = 4_096;

function keyJson(name: string): string {
  const known = keyFragments.get(name);
  if (known !== undefined) return known;
  const fragment = `,${stringJson(RESERVED.has(name) ? name + RESERVED_SUFFIX : name)}:`;
  if (keyFragments.size < KEY_FRAGMENTS_CACHED_MAX) keyFragments.set(name, fragment);
  return fragment;
}

/** A constant message, scrubbed all the same (a message that broke the rule must not leak). */
export function messageJson(msg: string): string {
  return stringJson(msg);
}

/** JSON text of `value` held by a field called `name`, or undefined where JSON has no form for it. */
function valueJson(value: unknown, name: string, depth: number, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'boolean':
      if (isSecretField(name)) return REDACTED_JSON;
      return value ? 'true' : 'false';
    case 'string':
      if (isSecretField(name)) return REDACTED_JSON;
      if (isPanField(name)) return JSON.stringify(maskPanField(value));
      return stringJson(value);
    case 'number':
      if (isSecretField(name)) return REDACTED_JSON;
      if (isPanField(name)) return JSON.stringify(maskPanField(value));
      if (!Number.isFinite(value)) return 'null';
      return numberJson(value, name);
    case 'bigint':
      if (isSecretField(name)) return REDACTED_JSON;
      if (isPanField(name)) return JSON.stringify(maskPanField(value));
      return stringJson(value.toString());
    default:
      if (value === null) return 'null';
      // A secret or a card number in an object is still one: nothing of it is written.
      if (isSecretField(name) || isPanField(name)) return REDACTED_JSON;
      return objectJson(value as object, name, depth, ancestors);
  }
}

const REDACTED_JSON = JSON.stringify(REDACTED);

function numberJson(value: number, name: string): string {
  const masked = scrubNumber(value, name);
  return masked === undefined ? String(value) : JSON.stringify(masked);
}

function stringJson(text: string): string {
  const clean = scrubText(text);
  if (clean.length <= STRING_CHARS_MAX) return JSON.stringify(clean);
  return JSON.stringify(
    `${clean.slice(0, STRING_CHARS_MAX)}...[${clean.length - STRING_CHARS_MAX} more chars]`,
  );
}

function objectJson(value: object, name: string, depth: number, ancestors: object[]): string | undefined {
  if (ancestors.includes(value)) return '"[circular]"';
  if (ArrayBuffer.isView(value)) return `"[${value.byteLength} bytes]"`;
  if (value instanceof ArrayBuffer) return `"[${value.byteLength} bytes]"`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : `"${value.toISOString()}"`;
  if (depth >= DEPTH_MAX) return '"[too deep]"';
  ancestors.push(value);
  try {
    if (value instanceof Error) return errorJson(value, depth, ancestors);
    if (Array.isArray(value)) return itemsJson(value, name, depth, ancestors);
    if (value instanceof Set) return itemsJson([...value], name, depth, ancestors);
    if (value instanceof Map) return entriesJson([...value], depth, ancestors);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return valueJson(toJSON.call(value), name, depth + 1, ancestors);
    return entriesJson(Object.entries(value), depth, ancestors);
  } finally {
    ancestors.pop();
  }
}

function itemsJson(items: readonly unknown[], name: string, depth: number, ancestors: object[]): string {
  let out = '[';
  const written = Math.min(items.length, ITEMS_MAX);
  for (let i = 0; i < written; i++) {
    if (i > 0) out += ',';
    out += valueJson(items[i], name, depth + 1, ancestors) ?? 'null';
  }
  if (items.length > written) out += `${written > 0 ? ',' : ''}"[${items.length - written} more items]"`;
  return `${out}]`;
}

function entriesJson(entries: readonly [unknown, unknown][], depth: number, ancestors: object[]): string {
  let out = '{';
  let count = 0;
  let skipped = 0;
  for (const [rawKey, item] of entries) {
    const key = String(rawKey);
    if (count >= KEYS_MAX) {
      skipped++;
      continue;
    }
    const json = valueJson(item, key, depth + 1, ancestors);
    if (json === undefined) continue;
    out += `${count > 0 ? ',' : ''}${stringJson(key)}:${json}`;
    count++;
  }
  if (skipped > 0) out += `${count > 0 ? ',' : ''}"[more keys]":${skipped}`;
  return `${out}}`;
}

/**
 * name, message, code, stack, then the error's other own fields (ioredis
 * puts the failed command there, Node the syscall), then cause (and an
 * AggregateError's errors), each an Error written the same way.
 */
function errorJson(error: Error, depth: number, ancestors: object[]): string {
  const e = error as Error & { code?: unknown; cause?: unknown; errors?: unknown };
  let out = `{"name":${stringJson(String(e.name))},"message":${stringJson(String(e.message))}`;
  const code = valueJson(e.code, 'code', depth + 1, ancestors);
  if (code !== undefined) out += `,"code":${code}`;
  if (typeof e.stack === 'string') out += `,"stack":${stringJson(e.stack)}`;
  let extra = 0;
  for (const key of Object.keys(e)) {
    if (ERROR_HEAD.has(key) || extra >= KEYS_MAX) continue;
    const json = valueJson((e as unknown as Record<string, unknown>)[key], key, depth + 1, ancestors);
    if (json === undefined) continue;
    out += `,${stringJson(key)}:${json}`;
    extra++;
  }
  if (Array.isArray(e.errors)) out += `,"errors":${itemsJson(e.errors, 'errors', depth, ancestors)}`;
  const cause = valueJson(e.cause, 'cause', depth + 1, ancestors);
  if (cause !== undefined) out += `,"cause":${cause}`;
  return `${out}}`;
}
