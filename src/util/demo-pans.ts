import { withLuhnDigit } from './pan.js';

export const SIM_PAN_DIGITS = 16;
/**
 * `count` distinct Luhn-valid PANs of SIM_PAN_DIGITS digits: the prefix, the
 * index zero-padded, the check digit. Deterministic, so a setup script can
 * create the same accounts the simulator will use.
 */
export function generatePans(count: number, prefix: string, panDigits = SIM_PAN_DIGITS): string[] {
  const indexDigits = panDigits - 1 - prefix.length;
  if (!/^[0-9]+$/.test(prefix) || indexDigits < 1)
    throw new RangeError(`prefix must be 1..${panDigits - 2} digits`);
  if (!Number.isInteger(count) || count < 1 || count > 10 ** indexDigits) {
    throw new RangeError(`a ${prefix.length}-digit prefix allows 1..${10 ** indexDigits} PANs`);
  }
  const pans = new Array<string>(count);
  for (let i = 0; i < count; i++) pans[i] = simPanAt(prefix, i, panDigits);
  return pans;
}

/** The PAN generatePans puts at `index` (no range checks: the caller's count was checked). */
export function simPanAt(prefix: string, index: number, panDigits = SIM_PAN_DIGITS): string {
  return withLuhnDigit(`${prefix}${String(index).padStart(panDigits - 1 - prefix.length, '0')}`);
}
