import { maskPan } from '../util/pan.js';

/**
 * A run of 12 or more digits: a PAN, or something a PAN could hide inside (a
 * longer run is masked too rather than trusted).
 */
const PAN_SHAPED_RUN = /[0-9]{12,}/g;

/**
 * Masks (first 6 / last 4) every PAN-shaped digit run in a line the CLI is
 * about to print, so an echoed argument or a server message never shows a
 * full PAN, whoever wrote it.
 */
export function maskPansIn(text: string): string {
  return text.replace(PAN_SHAPED_RUN, (digits) => maskPan(digits));
}
