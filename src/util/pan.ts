/** PAN helpers. A PAN never leaves the process unmasked: logs, errors, metrics and job data use maskPan. */

const PAN_PATTERN = /^[0-9]{12,19}$/;

export function isPanShaped(pan: string): boolean {
  return PAN_PATTERN.test(pan);
}

/** Luhn (mod 10) check over an all-digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Digits a mask always hides, whatever the PAN's length. */
export const MASK_HIDDEN_DIGITS_MIN = 6;

/**
 * The first min(6, length - 10) digits and the last 4, with `*` between
 * (docs/protocol.md section 6): a PAN of 16 or more digits shows 6 and 4,
 * a 13-digit one 3 and 4, a 12-digit one 2 and 4. At least six digits stay
 * hidden: first 6 and last 4 of a 12-digit PAN would leave two unknown
 * digits, ten candidates after the check digit. Shorter strings are hidden
 * whole.
 */
export function maskPan(pan: string): string {
  const shownFirst = Math.min(6, pan.length - 4 - MASK_HIDDEN_DIGITS_MIN);
  if (shownFirst < 0) return '*'.repeat(pan.length);
  return `${pan.slice(0, shownFirst)}${'*'.repeat(pan.length - shownFirst - 4)}${pan.slice(-4)}`;
}

/**
 * A run of 12 or more digits: a PAN, or something a PAN could hide inside (a
 * longer run is treated the same rather than trusted).
 */
const PAN_SHAPED_RUN = /[0-9]{12,}/g;

/**
 * `text` with every PAN-shaped digit run masked (maskPan), so a line that
 * echoes what someone sent (a CLI argument, a request path, a server message)
 * never shows a full PAN, whoever wrote it.
 */
export function maskPansIn(text: string): string {
  return text.replace(PAN_SHAPED_RUN, (digits) => maskPan(digits));
}

/** Whether `text` holds a PAN-shaped digit run (12 or more digits): a full PAN could be in it. */
export function holdsPanShapedRun(text: string): boolean {
  return /[0-9]{12}/.test(text);
}

/** Appends the Luhn check digit to a digit string (test data and the simulator). */
export function withLuhnDigit(body: string): string {
  for (let d = 0; d <= 9; d++) {
    const candidate = `${body}${d}`;
    if (luhnValid(candidate)) return candidate;
  }
  throw new Error('unreachable: one check digit always fits');
}
