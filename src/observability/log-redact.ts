import { luhnValid, maskPan } from '../util/pan.js';

/**
 * What the logger does to a value before it is written, so that no card
 * number or secret reaches a log line even when a caller forgets maskPan:
 *
 * - a field named `pan` (or ending in `Pan`) is always masked, first 6 /
 *   last 4, whatever it holds (a malformed PAN from a format error too);
 * - a field whose name is a secret (token, key, secret, sig, password, ...)
 *   is replaced by REDACTED;
 * - inside any other string, a run of 12-19 digits that passes Luhn is
 *   masked, and a run of 20 or more digits is masked whole (a PAN may hide
 *   in it); shorter runs and non-Luhn runs (rrns, stream ids) stay readable;
 * - an integer of 12 or more digits that passes Luhn is masked too, unless
 *   its field name ends in `Ms` (the project's unit suffix for times).
 *
 * Every check starts with a cheap scan, so the common string with no long
 * digit run costs one pass over its characters and no allocation.
 */

export const REDACTED = '[redacted]';

/** Shortest digit run that can be a PAN (docs/protocol.md: 12-19 digits). */
const PAN_DIGITS_MIN = 12;
const PAN_DIGITS_MAX = 19;

/** Smallest integer with PAN_DIGITS_MIN digits. */
const PAN_NUMBER_MIN = 10 ** (PAN_DIGITS_MIN - 1);

const DIGIT_RUN = /[0-9]{12,}/g;
/** redis://user:password@host -> redis://user:[redacted]@host */
const URL_PASSWORD = /(\/\/[^/:@\s]*:)[^/@\s]*@/g;

/** Any name, whole and case-insensitive, that is a secret. */
const SECRET_WORDS = [
  'token',
  'key',
  'secret',
  'sig',
  'signature',
  'password',
  'passphrase',
  'passwd',
  'authorization',
  'cookie',
  'cvv',
  'cvv2',
  'cvc',
  'pin',
  'pinblock',
];
const SECRET_WHOLE = new RegExp(`^(?:${SECRET_WORDS.join('|')})$`, 'i');
/** ...or the last word of a camelCase, snake_case or kebab-case name: adminToken, api_key, x-signature. */
const SECRET_LAST_WORD = new RegExp(
  `(?:[a-z0-9](?:${SECRET_WORDS.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('|')})|[_-](?:${SECRET_WORDS.join('|')}))$`,
);

/** Field names seen so far and whether they are secret: names are constants, so this stays small. */
const secretNames = new Map<string, boolean>();
const SECRET_NAMES_CACHED_MAX = 4_096;

export function isSecretField(name: string): boolean {
  const known = secretNames.get(name);
  if (known !== undefined) return known;
  const secret = SECRET_WHOLE.test(name) || SECRET_LAST_WORD.test(name);
  if (secretNames.size < SECRET_NAMES_CACHED_MAX) secretNames.set(name, secret);
  return secret;
}

/** `pan`, `PAN`, or a camelCase name ending in Pan (cardPan); not `span` or `japan`. */
export function isPanField(name: string): boolean {
  return name === 'pan' || name === 'PAN' || (name.length > 3 && name.endsWith('Pan'));
}

/** A field holding a time or duration in ms (units last in names), never a card number. */
function isMillisField(name: string): boolean {
  return name.endsWith('Ms') || name === 'time';
}

/** The masked form of whatever a `pan` field holds. */
export function maskPanField(value: unknown): string {
  return maskPan(typeof value === 'string' ? value : String(value));
}

/** `text` with every PAN-like digit run masked and URL passwords redacted; `text` itself when clean. */
export function scrubText(text: string): string {
  let out = text;
  if (hasLongDigitRun(text)) out = out.replace(DIGIT_RUN, maskRun);
  if (out.indexOf('@') >= 0 && out.indexOf('://') >= 0) out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  return out;
}

/** A masked string for an integer that may be a card number, or undefined to write it as is. */
export function scrubNumber(value: number, name: string): string | undefined {
  if (value < PAN_NUMBER_MIN || !Number.isSafeInteger(value) || isMillisField(name)) return undefined;
  const digits = String(value);
  return luhnValid(digits) ? maskPan(digits) : undefined;
}

function hasLongDigitRun(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= PAN_DIGITS_MIN) return true;
    } else run = 0;
  }
  return false;
}

function maskRun(run: string): string {
  if (run.length > PAN_DIGITS_MAX || luhnValid(run)) return maskPan(run);
  return run;
}
