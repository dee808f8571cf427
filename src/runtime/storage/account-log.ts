import type { AccountState } from '../account.js';
import { keyOf, outlivesWindow, type TxnRecord } from '../records/txn-record.js';
import {
  ACCOUNT_FORMAT,
  DROP_FORMAT,
  decodeAccountFields,
  decodeIdentityFields,
  decodeRecordFields,
  forEachValue,
  IDENTITY_FORMAT,
  RECORD_FORMAT,
  STAND_IN_FORMAT,
} from './state-codec.js';

/**
 * How an account is stored in Redis: one string per account, its log. A
 * commit APPENDs one piece to the log of every account it touched: the
 * account's state, the records the batch wrote and the keys it pruned, each
 * one MessagePack array (state-codec.ts: account format 6, record format 4,
 * a drop [5, key]), and, when the account is created or its PAN re-sealed,
 * its identity (format 7: the PAN sealed and masked). Read back in order,
 * the last state with the last identity is the account and the last
 * version of each key not dropped after it is a record.
 *
 * Why a log and not a hash with a field per record (the layout before
 * 2026-11-27): an APPEND finds nothing, while an HSET of a new field searches
 * the hash for it first (a listpack linearly), and one APPEND per account
 * replaces the HSET's field and value pairs. Measured with
 * `npm run bench:profile -- b64 --no-prof`: Redis 4.3-4.4 µs per approval
 * against 6.7-7.1 (docs/performance-log.md, change 34).
 *
 * The price is dead bytes: every piece repeats the state, a record written
 * again (completed, reversed, released) leaves its older version, and a
 * pruned record stays until the log is compacted: rewritten as its live
 * entries (the last state, each record's last version unless dropped or
 * past the window). The owning actor compacts its log (ledger-core.ts) once
 * half of it is dead, as a commit op that replaces the prefix it read and
 * keeps whatever was appended after (commit-script.ts), so compaction costs
 * at most a constant number of bytes per byte appended.
 */

/**
 * A busy actor compacts its log only past this size; activation and the
 * record sweep compact a log of any size once half of it is dead.
 */
export const LOG_COMPACT_MIN_BYTES = 4_096;

/** Compaction is worth it: half the log (at least) is dead; small logs wait unless `anySize`. */
export function compactionDue(logBytes: number, deadBytes: number, anySize = false): boolean {
  return deadBytes > 0 && deadBytes * 2 >= logBytes && (anySize || logBytes >= LOG_COMPACT_MIN_BYTES);
}

/** What a log holds, read at one instant. */
export interface AccountLog {
  /** The last state in the log; undefined for no log (or one without a state). */
  readonly account: AccountState | undefined;
  /** An issuer-routed PAN's stand-in approvals of their UTC day (the last stand-in entry), if any. */
  readonly standIn: { readonly day: number; readonly amount: number } | undefined;
  /** Each key's last version not dropped after it, oldest write first. */
  readonly records: TxnRecord[];
  /** The log's length in bytes. */
  readonly bytes: number;
  /** The bytes compacted() keeps. */
  readonly liveBytes: number;
  /** Records past the window (and not outliving it) that compacted() leaves out, and their bytes. */
  readonly expiredRecords: number;
  readonly expiredBytes: number;
  /** The live entries, for the commit op that replaces the first `bytes` of the log. */
  compacted(): Buffer;
}

interface Span {
  readonly start: number;
  readonly end: number;
}

interface RecordEntry extends Span {
  readonly record: TxnRecord;
}

/**
 * Reads a log. Records written before `cutoffMs` (the dedupe window's start)
 * are still returned (the actor prunes them as before), but count as dead.
 * Throws on an entry it does not know: the caller answers 96 rather than
 * run an account it could not read whole.
 */
export function readAccountLog(data: Buffer, cutoffMs: number): AccountLog {
  let stateFields: unknown[] | undefined;
  let state: Span | undefined;
  let identityFields: unknown[] | undefined;
  let identity: Span | undefined;
  let standInFields: unknown[] | undefined;
  let standIn: Span | undefined;
  const records = new Map<string, RecordEntry>();
  forEachValue(data, (value, start, end) => {
    if (!Array.isArray(value)) throw new Error('account log: an entry is not an array');
    const format = value[0];
    if (format === ACCOUNT_FORMAT) {
      stateFields = value;
      state = { start, end };
    } else if (format === IDENTITY_FORMAT) {
      identityFields = value;
      identity = { start, end };
    } else if (format === STAND_IN_FORMAT) {
      standInFields = value;
      standIn = { start, end };
    } else if (format === RECORD_FORMAT) {
      const record = decodeRecordFields(value);
      const key = keyOf(record);
      // Deleted first: the Map's order is then each key's last write, as the log's is.
      records.delete(key);
      records.set(key, { record, start, end });
    } else if (format === DROP_FORMAT && typeof value[1] === 'string') {
      records.delete(value[1]);
    } else {
      throw new Error(`account log: unknown entry format ${String(format)}`);
    }
  });
  if (stateFields !== undefined && identityFields === undefined)
    throw new Error('account log: a state without an identity');
  const live: Span[] = [];
  if (identity !== undefined) live.push(identity);
  if (state !== undefined) live.push(state);
  if (standIn !== undefined) live.push(standIn);
  let expiredRecords = 0;
  let expiredBytes = 0;
  for (const entry of records.values()) {
    if (entry.record.atMs < cutoffMs && !outlivesWindow(entry.record)) {
      expiredRecords++;
      expiredBytes += entry.end - entry.start;
    } else live.push(entry);
  }
  let liveBytes = 0;
  for (const span of live) liveBytes += span.end - span.start;
  return {
    account:
      stateFields === undefined
        ? undefined
        : decodeAccountFields(stateFields, decodeIdentityFields(identityFields!)),
    standIn:
      standInFields === undefined
        ? undefined
        : { day: standInFields[1] as number, amount: standInFields[2] as number },
    records: Array.from(records.values(), (entry) => entry.record),
    bytes: data.length,
    liveBytes,
    expiredRecords,
    expiredBytes,
    compacted: () => {
      const out = Buffer.allocUnsafe(liveBytes);
      let at = 0;
      for (const span of live) at += data.copy(out, at, span.start, span.end);
      return out;
    },
  };
}
