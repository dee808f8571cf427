import path from 'node:path';
import { INSTITUTION_ID_PATTERN } from '../config/settings.js';
import { maskPansIn } from '../util/pan.js';

/**
 * Where a cycle's files go: `<outDir>/<cycle>/<institution>.csv` and
 * `<outDir>/<cycle>/settlement.json`. Institution names come from the
 * journal (config ids when they were written), so each is checked against
 * the config's rule for ids before it names a file: letters, digits, `_`,
 * `.`, `-`, which with `.csv` after it is always a plain name inside the
 * cycle's folder.
 */

export const SETTLEMENT_FILE = 'settlement.json';
const CSV_SUFFIX = '.csv';

/** The folder of one cycle. */
export function cycleDir(outDir: string, cycle: number): string {
  if (!Number.isSafeInteger(cycle) || cycle < 1)
    throw new Error(`clearing cycle must be a whole number from 1, got ${cycle}`);
  return path.join(outDir, String(cycle));
}

/** `<institution>.csv`; throws for a name that is not a config id (it could name a path elsewhere). */
export function institutionFileName(institution: string): string {
  if (!INSTITUTION_ID_PATTERN.test(institution))
    throw new Error(
      `institution name ${JSON.stringify(maskPansIn(institution.slice(0, 80)))} cannot name a clearing file: ids are 1 to 64 of A-Z a-z 0-9 _ . -`,
    );
  return `${institution}${CSV_SUFFIX}`;
}

/** The institution a clearing file's name is for, or undefined when it is not one. */
export function institutionOfFileName(fileName: string): string | undefined {
  if (!fileName.endsWith(CSV_SUFFIX)) return undefined;
  const institution = fileName.slice(0, -CSV_SUFFIX.length);
  return INSTITUTION_ID_PATTERN.test(institution) ? institution : undefined;
}
