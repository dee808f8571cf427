import type { Redis } from 'ioredis';
import { tokenKeyIdOf } from '../../security/account-refs.js';
import { sealedKeyId } from '../../security/aead.js';
import type { KeyFile } from '../../security/key-file.js';
import type { RetiredKeys } from '../../security/key-retirement.js';
import { type KeySpace, LOG_PARTITION_COUNT, parseHoldMember } from '../../store/keys.js';
import { adviceIssuers, readAdvices, sealKeyIdOf, sealOf } from './advice-seals.js';
import { decodeJournalEntry, forEachValue, IDENTITY_FORMAT } from './state-codec.js';

/** Keys asked of Redis per SCAN step, and journal entries per XRANGE. */
const SCAN_COUNT = 500;
const JOURNAL_ENTRIES_PER_READ = 512;
/** Queued advices per XRANGE. */
const ADVICES_PER_READ = 512;

/** What the store still holds under one data key id. */
export interface DataKeyUsage {
  readonly inKeyFile: boolean;
  readonly current: boolean;
  /** Accounts whose PAN is sealed under it now (their identity's key id). */
  identities: number;
  /**
   * Queued store-and-forward advices whose PAN it seals now (the re-sealed
   * copy's key id when the re-seal job wrote one, else the entry's own).
   */
  advices: number;
}

/** What the store still holds under one token key id. */
export interface TokenKeyUsage {
  readonly inKeyFile: boolean;
  readonly current: boolean;
  readonly previous: boolean;
  /** Account keys whose ref it made. */
  accounts: number;
  /**
   * For a key other than the current one: journal records naming a ref it
   * made that a hold-expiry cursor has not passed yet (a hold among them
   * may still be released by that ref). The journal's only reader today;
   * unfinished clearing cycles join with issue 18.
   */
  journalRecordsUnpassed: number;
  /** For a key other than the current one: hold expiry bucket members naming a ref it made. */
  holdBucketMembers: number;
  /**
   * Aliases a re-key left at refs it made (for the journal records and hold
   * buckets that still name them): deleted once it is retired. Not a reason
   * to keep it.
   */
  aliases: number;
}

/**
 * How many stored things each key id still protects or names, read from
 * Redis at one pass (docs/security.md "Rotation"): what tells an operator
 * (and a reload that drops a key) whether a key can be retired. Ids found
 * in the store but not in the key file are listed too (inKeyFile false):
 * what they protect cannot be read any more.
 */
export interface KeyUsage {
  readonly dataKeys: Record<string, DataKeyUsage>;
  readonly tokenKeys: Record<string, TokenKeyUsage>;
  /** Account keys looked at. */
  accounts: number;
  /** Account logs that could not be read (not counted under any key). */
  unreadableAccounts: number;
  /** Queued advices looked at, every issuer's stream. */
  advices: number;
  /** Queued advices that could not be read (not counted under any key; the delivery passes them over). */
  unreadableAdvices: number;
}

/**
 * Reads the usage of every key id (a SCAN over the account keys with their
 * logs and over the aliases, every issuer's queued advices, and, for token
 * keys other than the current one, the journal past the hold-expiry cursors
 * and the hold buckets). Proportional to the store:
 * an operator's call, not a hot path; it yields to the event loop between
 * reads.
 */
export async function readKeyUsage(redis: Redis, keys: KeySpace, file: KeyFile): Promise<KeyUsage> {
  const usage: KeyUsage = {
    dataKeys: {},
    tokenKeys: {},
    accounts: 0,
    unreadableAccounts: 0,
    advices: 0,
    unreadableAdvices: 0,
  };
  for (const id of file.dataKeys.keys()) dataKeyUsage(usage, file, id);
  for (const id of file.tokenKeys.keys()) tokenKeyUsage(usage, file, id);
  await countAccounts(redis, keys, file, usage);
  await countAliases(redis, keys, file, usage);
  await countAdvices(redis, keys, file, usage);
  const older = [...file.tokenKeys.keys()].filter((id) => id !== file.currentTokenKey);
  if (older.length > 0) {
    await countJournal(redis, keys, file, older, usage);
    await countHoldBuckets(redis, keys, file, older, usage);
  }
  return usage;
}

/**
 * A data key id that seals no account's PAN and no queued advice's, and
 * that is not current: it may leave the key file.
 */
export function dataKeyRetirable(usage: KeyUsage, id: string): boolean {
  const u = usage.dataKeys[id];
  return u === undefined || (!u.current && u.identities === 0 && u.advices === 0);
}

/**
 * A token key id that made no account key, and that no journal record
 * before a hold-expiry cursor and no hold bucket member names: it may leave
 * the key file (and the aliases of the accounts moved from it go).
 */
export function tokenKeyRetirable(usage: KeyUsage, id: string): boolean {
  const u = usage.tokenKeys[id];
  return (
    u === undefined ||
    (!u.current && u.accounts === 0 && u.journalRecordsUnpassed === 0 && u.holdBucketMembers === 0)
  );
}

/** What keeps each of `retired` in use, one line per key (empty: all may go). */
export function stillInUse(usage: KeyUsage, retired: RetiredKeys): string[] {
  const problems: string[] = [];
  for (const id of retired.dataKeyIds) {
    const u = usage.dataKeys[id];
    if (u !== undefined && !dataKeyRetirable(usage, id))
      problems.push(
        `data key ${id} still seals ${u.identities} account PANs and ${u.advices} queued advice PANs ` +
          '(the re-seal job has not finished)',
      );
  }
  for (const id of retired.tokenKeyIds) {
    const u = usage.tokenKeys[id];
    if (u !== undefined && !tokenKeyRetirable(usage, id))
      problems.push(
        `token key ${id} still names ${u.accounts} accounts, ${u.journalRecordsUnpassed} journal records ` +
          `not passed by hold expiry and ${u.holdBucketMembers} hold bucket members`,
      );
  }
  return problems;
}

function dataKeyUsage(usage: KeyUsage, file: KeyFile, id: string): DataKeyUsage {
  let u = usage.dataKeys[id];
  if (u === undefined) {
    u = {
      inKeyFile: file.dataKeys.has(id),
      current: file.currentDataKey === id,
      identities: 0,
      advices: 0,
    };
    usage.dataKeys[id] = u;
  }
  return u;
}

function tokenKeyUsage(usage: KeyUsage, file: KeyFile, id: string): TokenKeyUsage {
  let u = usage.tokenKeys[id];
  if (u === undefined) {
    u = {
      inKeyFile: file.tokenKeys.has(id),
      current: file.currentTokenKey === id,
      previous: file.previousTokenKey === id,
      accounts: 0,
      journalRecordsUnpassed: 0,
      holdBucketMembers: 0,
      aliases: 0,
    };
    usage.tokenKeys[id] = u;
  }
  return u;
}

async function countAccounts(redis: Redis, keys: KeySpace, file: KeyFile, usage: KeyUsage): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.accountPattern(), 'COUNT', SCAN_COUNT);
    cursor = next;
    const accounts = found.flatMap((key) => {
      const account = keys.accountOfKey(key);
      return account === undefined ? [] : [{ key, ref: account.ref }];
    });
    const reads = redis.pipeline();
    for (const { key } of accounts) reads.getBuffer(key);
    const replies = (await reads.exec()) ?? [];
    accounts.forEach(({ ref }, i) => {
      const [error, data] = replies[i] ?? [];
      // Gone between the SCAN and the GET (moved by a re-key, say): not counted here.
      if (error === null && data === null) return;
      usage.accounts++;
      tokenKeyUsage(usage, file, tokenKeyIdOf(ref)).accounts++;
      const sealed = error === null ? lastSealIn(data as Buffer) : undefined;
      if (sealed === undefined) usage.unreadableAccounts++;
      else dataKeyUsage(usage, file, sealed).identities++;
    });
  } while (cursor !== '0');
}

async function countAliases(redis: Redis, keys: KeySpace, file: KeyFile, usage: KeyUsage): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.accountAliasPattern(), 'COUNT', SCAN_COUNT);
    cursor = next;
    for (const key of found) {
      const alias = keys.aliasOfKey(key);
      if (alias !== undefined) tokenKeyUsage(usage, file, tokenKeyIdOf(alias.ref)).aliases++;
    }
  } while (cursor !== '0');
}

/**
 * Every issuer's queued advices, by the key id of the seal that protects
 * each now (advice-seals.ts sealOf). Found by SCAN, so the streams of
 * institutions no longer configured are counted too.
 */
async function countAdvices(redis: Redis, keys: KeySpace, file: KeyFile, usage: KeyUsage): Promise<void> {
  for (const issuer of await adviceIssuers(redis, keys)) {
    let after: string | undefined;
    for (;;) {
      const page = await readAdvices(redis, keys, issuer, after, ADVICES_PER_READ);
      for (const queued of page) {
        usage.advices++;
        const keyId = sealKeyIdOf(sealOf(queued));
        if (keyId === undefined) usage.unreadableAdvices++;
        else dataKeyUsage(usage, file, keyId).advices++;
      }
      if (page.length < ADVICES_PER_READ) break;
      after = page.at(-1)!.streamId;
    }
  }
}

/** The data key id of the log's last identity entry (the account's PAN as it is sealed now). */
function lastSealIn(log: Buffer): string | undefined {
  let keyId: string | undefined;
  try {
    forEachValue(log, (value) => {
      if (Array.isArray(value) && value[0] === IDENTITY_FORMAT && value[1] instanceof Uint8Array)
        keyId = sealedKeyId(value[1]);
    });
  } catch {
    return undefined;
  }
  return keyId;
}

/**
 * Journal records past each partition's hold-expiry cursor naming a ref
 * made by one of `older`. Entries without the bytes `<id>.` of any of them
 * name none, and are passed over without being decoded.
 */
async function countJournal(
  redis: Redis,
  keys: KeySpace,
  file: KeyFile,
  older: readonly string[],
  usage: KeyUsage,
): Promise<void> {
  const needles = older.map((id) => Buffer.from(`${id}.`, 'utf8'));
  const wanted = new Set(older);
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    let after = await redis.get(keys.holdExpiryCursor(partition));
    for (;;) {
      const entries = await redis.xrangeBuffer(
        keys.journal(partition),
        after === null ? '-' : `(${after}`,
        '+',
        'COUNT',
        JOURNAL_ENTRIES_PER_READ,
      );
      for (const [, fields] of entries) {
        const data = fields[0]?.toString() === 'd' ? fields[1] : undefined;
        if (data === undefined || !needles.some((needle) => data.includes(needle))) continue;
        let records: ReturnType<typeof decodeJournalEntry>;
        try {
          records = decodeJournalEntry(data);
        } catch {
          continue;
        }
        for (const record of records) {
          const id = tokenKeyIdOf(record.ref);
          if (wanted.has(id)) tokenKeyUsage(usage, file, id).journalRecordsUnpassed++;
        }
      }
      if (entries.length < JOURNAL_ENTRIES_PER_READ) break;
      after = entries[entries.length - 1]![0].toString();
    }
  }
}

async function countHoldBuckets(
  redis: Redis,
  keys: KeySpace,
  file: KeyFile,
  older: readonly string[],
  usage: KeyUsage,
): Promise<void> {
  const wanted = new Set(older);
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    for (const bucket of await redis.smembers(keys.holdBuckets(partition))) {
      for (const member of await redis.lrange(keys.holdBucket(partition, Number(bucket)), 0, -1)) {
        const hold = parseHoldMember(member);
        if (hold === undefined) continue;
        const id = tokenKeyIdOf(hold.ref);
        if (wanted.has(id)) tokenKeyUsage(usage, file, id).holdBucketMembers++;
      }
    }
  }
}
