import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import type { KeySpace } from '../../store/keys.js';
import { maskPan } from '../../util/pan.js';
import { decodeRecord, encodeRecord } from './state-codec.js';

/**
 * The layout accounts are stored in. 3: no PAN anywhere (docs/security.md):
 * account keys named by (shard, ref), the PAN sealed in the account's
 * identity entry, journal records and hold buckets by stored reference. 2:
 * one log string per account (account-log.ts), named and holding the PAN
 * in clear. 1, before 2026-11-27: one hash per account, field `d` the state
 * and one field per record, named by its key. No marker means layout 1 or
 * a Redis the switch has not used yet.
 */
export const ACCOUNT_LAYOUT = 3;
const LOG_LAYOUT = 2;

/** Account hashes asked of Redis per SCAN step while looking for layout 1. */
const SCAN_COUNT = 1_000;

export class AccountLayoutError extends Error {}

/** Moves a store from layout 2 to 3 (storage/layout-upgrade.ts); returns the accounts it upgraded. */
export type LayoutUpgrade = () => Promise<number>;

/**
 * Makes sure every account is in ACCOUNT_LAYOUT before the ledger reads one:
 * account hashes a build before 2026-11-27 wrote are rewritten as logs
 * (same state bytes, each record in format 4), each in one MULTI/EXEC, the
 * marker set to 2, then `upgrade` takes layout 2 to 3 and sets it to 3.
 * Run at start, before any ledger owner exists (so nothing else writes
 * accounts meanwhile); a start interrupted half-way simply migrates the rest
 * next time. Refuses a layout newer than this build knows. Returns the
 * number of accounts migrated or upgraded.
 */
export async function ensureAccountLayout(
  redis: Redis,
  keys: KeySpace,
  log: Logger,
  upgrade: LayoutUpgrade,
): Promise<number> {
  const marker = await redis.get(keys.accountLayout());
  if (marker === String(ACCOUNT_LAYOUT)) return 0;
  if (marker === String(LOG_LAYOUT)) return upgrade();
  if (marker !== null) {
    throw new AccountLayoutError(
      `accounts in Redis are in layout ${marker}; this build reads layout ${ACCOUNT_LAYOUT} only (a newer build wrote them)`,
    );
  }
  return (await migrateHashes(redis, keys, log)) + (await upgrade());
}

/** Layout 1 to 2: every account hash rewritten as a log; sets the marker to 2. */
async function migrateHashes(redis: Redis, keys: KeySpace, log: Logger): Promise<number> {
  let migrated = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(
      cursor,
      'MATCH',
      keys.accountPattern(),
      'COUNT',
      SCAN_COUNT,
      'TYPE',
      'hash',
    );
    for (const key of found) {
      await migrateHash(redis, keys, key);
      migrated++;
    }
    cursor = next;
  } while (cursor !== '0');
  await redis.set(keys.accountLayout(), String(LOG_LAYOUT));
  if (migrated > 0) log.info('migrated account hashes to account logs', { accounts: migrated });
  return migrated;
}

/** Rewrites one layout-1 account hash as a log (state first, then its records). */
async function migrateHash(redis: Redis, keys: KeySpace, key: string): Promise<void> {
  const fields = await redis.hgetallBuffer(key);
  const state = fields.d;
  const parts: Buffer[] = state === undefined ? [] : [state];
  try {
    for (const [field, value] of Object.entries(fields)) {
      if (field !== 'd') parts.push(encodeRecord(decodeRecord(value, field)));
    }
  } catch (error) {
    // Nothing written yet: the hash stays as it was, and the start stops with the account named.
    throw new AccountLayoutError(
      `account ${maskedOf(keys, key)}: a record cannot be read (${String(error)})`,
    );
  }
  const transaction = redis.multi().del(key);
  // Records without a state belong to no account (none can be created from them): dropped.
  if (state !== undefined) transaction.set(key, Buffer.concat(parts));
  const result = await transaction.exec();
  if (result === null || result.some(([error]) => error !== null))
    throw new AccountLayoutError(`could not rewrite account ${maskedOf(keys, key)} as a log`);
}

/** A layout 1 account key's PAN (in its name), masked, for errors. */
function maskedOf(keys: KeySpace, key: string): string {
  const account = keys.accountOfKey(key);
  return account === undefined ? '?' : maskPan(account.ref);
}
