import { AMOUNT_MAX } from '../protocol/validate-request.js';
import type { AccountLimits, AccountStatus } from '../runtime/account.js';
import { isPanShaped, luhnValid, maskPansIn } from '../util/pan.js';
import { HttpError } from './http-json.js';

/** Validation of admin request bodies: each bad field a 400 with its own message. */

export const REFERENCE_BYTES_MAX = 128;
const LIMIT_KEYS = ['perTxnMax', 'dailyMax', 'dailyCountMax'] as const;
const CURRENCY = /^[A-Z]{3}$/;

export function bad(message: string): HttpError {
  return new HttpError('invalid_request', message);
}

export function requirePan(raw: string | undefined): string {
  if (raw === undefined || !isPanShaped(raw) || !luhnValid(raw))
    throw bad('pan must be 12..19 digits and pass the Luhn check');
  return raw;
}

export function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** An unknown field name, as an answer says it back: a name can be anything, a PAN too (masked). */
export function unknownField(where: string, key: string): HttpError {
  return bad(`${where}: unknown field ${JSON.stringify(maskPansIn(key))}`);
}

export function onlyKeys(body: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw unknownField(where, key);
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= AMOUNT_MAX;
}

export function parseLimits(value: unknown): AccountLimits | undefined {
  if (value === undefined) return undefined;
  const limits = asObject(value);
  onlyKeys(limits, LIMIT_KEYS, 'limits');
  const out: AccountLimits = {};
  for (const key of LIMIT_KEYS) {
    const v = limits[key];
    if (v === undefined || v === null) continue;
    if (!isAmount(v)) throw bad(`limits.${key} must be an integer 0..10^15`);
    out[key] = v;
  }
  return out;
}

export function parseStatus(value: unknown): AccountStatus | undefined {
  if (value === undefined) return undefined;
  if (value !== 'active' && value !== 'blocked') throw bad('status must be "active" or "blocked"');
  return value;
}

export function parseCurrency(value: unknown): string {
  if (typeof value !== 'string' || !CURRENCY.test(value))
    throw bad('currency must be an ISO 4217 alpha-3 code in upper case');
  return value;
}

export function parseBalance(value: unknown): number {
  if (!isAmount(value)) throw bad('balance must be an integer 0..10^15 (minor units)');
  return value;
}
