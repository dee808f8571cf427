/**
 * Upper-case base-36 digits for the identifiers the ledger makes per
 * approval (rrn, authCode). Tables instead of toString(36).toUpperCase()
 * .padStart(): each identifier costs one or two small string concatenations
 * (under 13 characters V8 copies them flat, no cons string), which matters
 * at millions of decisions per second.
 */
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The 36 one-character digits. */
export const BASE36_DIGIT: readonly string[] = Array.from(DIGITS);

/** The 1,296 two-character pairs, '00' to 'ZZ', by value. */
export const BASE36_PAIR: readonly string[] = Array.from(
  { length: 36 * 36 },
  (_, i) => DIGITS[Math.floor(i / 36)]! + DIGITS[i % 36]!,
);

/** `value` in upper-case base 36, left-padded with '0' to `width` characters. */
export function base36(value: number, width: number): string {
  return value.toString(36).toUpperCase().padStart(width, '0');
}

/**
 * The value of `text` read as `width` upper-case base-36 digits (as base36()
 * writes them), or -1 when it is not exactly that. Up to 10 digits the
 * value is an exact integer in a double (36^10 < 2^53).
 */
export function parseBase36(text: string, width: number): number {
  if (text.length !== width || width > 10) return -1;
  let value = 0;
  for (let i = 0; i < width; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 90 ? c - 55 : -1;
    if (digit < 0) return -1;
    value = value * 36 + digit;
  }
  return value;
}
