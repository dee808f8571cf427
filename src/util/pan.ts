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

/** First 6 and last 4 digits with `*` between (docs/protocol.md section 6). */
export function maskPan(pan: string): string {
  if (pan.length <= 10) return '*'.repeat(pan.length);
  return `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;
}

/** Appends the Luhn check digit to a digit string (test data and the simulator). */
export function withLuhnDigit(body: string): string {
  for (let d = 0; d <= 9; d++) {
    const candidate = `${body}${d}`;
    if (luhnValid(candidate)) return candidate;
  }
  throw new Error('unreachable: one check digit always fits');
}
