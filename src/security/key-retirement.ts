import type { KeyFile } from './key-file.js';

/** The key ids a reload from `before` to `after` retires. */
export interface RetiredKeys {
  /** Data keys in `before` and no longer in `after`: what they sealed cannot be opened after it. */
  readonly dataKeyIds: readonly string[];
  /**
   * Token keys `before` accepted for lookups (current or previous) that
   * `after` does not: accounts whose refs they made are no longer found by
   * PAN after it.
   */
  readonly tokenKeyIds: readonly string[];
}

/** What a reload from `before` to `after` retires (docs/security.md "Retiring a key"). */
export function retiredKeys(before: KeyFile, after: KeyFile): RetiredKeys {
  const accepted = (keys: KeyFile): string[] =>
    keys.previousTokenKey === undefined
      ? [keys.currentTokenKey]
      : [keys.currentTokenKey, keys.previousTokenKey];
  const acceptedAfter = new Set(accepted(after));
  return {
    dataKeyIds: [...before.dataKeys.keys()].filter((id) => !after.dataKeys.has(id)),
    tokenKeyIds: accepted(before).filter((id) => !acceptedAfter.has(id)),
  };
}

export function retiresAny(retired: RetiredKeys): boolean {
  return retired.dataKeyIds.length > 0 || retired.tokenKeyIds.length > 0;
}

/**
 * The keys `retired` names that are current in `before`: refused whatever
 * the store holds, since until the reload they make new seals and refs, so
 * no count taken before it could show them unused. Make another key
 * current first (one reload), then retire the old one (another).
 */
export function retiredWhileCurrent(before: KeyFile, retired: RetiredKeys): string[] {
  const problems: string[] = [];
  if (retired.dataKeyIds.includes(before.currentDataKey))
    problems.push(`data key ${before.currentDataKey} is current: add another first (keys add-data-key)`);
  if (retired.tokenKeyIds.includes(before.currentTokenKey))
    problems.push(`token key ${before.currentTokenKey} is current: add another first (keys add-token-key)`);
  return problems;
}
