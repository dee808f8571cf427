import type { TxnClass } from '../../protocol/mti.js';
import type { Proc } from '../../protocol/request.js';
import { StoredResponse } from './stored-response.js';

/**
 * What the ledger remembers per transaction key (institution, pan, stan,
 * time): the content to compare repeats against, the response to replay
 * field for field, and, for originals, what later completions and reversals
 * need. Kept per account in a RecordIndex (the PAN is the account's).
 */

/** Lifecycle of an original: what a 0220/0400 naming it finds. */
export type OriginalState =
  /** Declined: a reversal of it answers 00 and changes nothing. */
  | 'declined'
  /** 0100 hold still placed. */
  | 'open'
  /** 0100 hold completed by a 0220 (postedAmount posted). */
  | 'completed'
  /** 0100 hold released by expiry. */
  | 'expired'
  /** 0200 posted (purchase/cash debit or refund credit). */
  | 'posted'
  /** Not an original (completion, reversal, inquiry, tombstone). */
  | 'none';

export interface TxnRecord {
  /**
   * The key, in parts (no string kept per record: building, hashing and
   * keeping `institution|stan|time` strings was the largest cost of keeping
   * records; docs/performance-log.md). keyOf() makes the string when one is
   * needed (Redis field names, the journal). Adjustments have no such key:
   * `refKey` is theirs, and institution is '' and time 0.
   */
  readonly institution: string;
  readonly stan: number;
  readonly time: number;
  /** The key of a record that is not a transaction's (an operations' adjustment); undefined otherwise. */
  readonly refKey: string | undefined;
  /** A tombstone stands for an original that a reversal named before it arrived. */
  readonly tombstone: boolean;
  readonly txnClass: TxnClass;
  readonly amount: number;
  readonly currency: string;
  /** '' on 0220/0400: their proc is the original's, not part of their content. */
  readonly proc: Proc | '';
  /**
   * The response, replayed field for field: StoredResponse's fields, kept
   * inline rather than as an object of its own (one object per kept record,
   * not two; responseOf() makes the StoredResponse).
   */
  readonly rc: string;
  readonly rrnHead: string;
  readonly rrnTail: number;
  readonly authHead: string | undefined;
  readonly authTail: number;
  readonly respAmount: number | undefined;
  readonly respBalance: number | undefined;
  readonly error: string | undefined;
  state: OriginalState;
  /** The approved amount of an original (0 when declined). */
  readonly approvedAmount: number;
  /** What was posted: a 0200's amount, or a completion's amount. */
  postedAmount: number;
  /** rc of the reversal that reversed this original; undefined while not reversed. */
  reversedRc: string | undefined;
  /** UTC day and amount this original counted toward the daily limits (0 = not counted). */
  readonly countedDay: number;
  readonly countedAmount: number;
  /** When it was recorded (epoch ms): pruning after dedupeWindowMs. */
  readonly atMs: number;
  /** For open holds: when the hold expires (epoch ms); 0 otherwise. */
  readonly holdExpiresAtMs: number;
  /**
   * The owner's batch that last wrote it (LedgerCore bookkeeping, not stored):
   * a record may leave memory only once that batch is confirmed durable.
   */
  batch: number | undefined;
}

/** The record's response (a new StoredResponse over its fields). */
export function responseOf(r: TxnRecord): StoredResponse {
  return new StoredResponse(
    r.rc,
    r.rrnHead,
    r.rrnTail,
    r.authHead,
    r.authTail,
    r.respAmount,
    r.respBalance,
    r.error,
  );
}

/** Record keys of operations' adjustments: '#' cannot appear in an institution id, so they never meet transaction keys. */
export const ADJUST_KEY_PREFIX = '#adj|';

/**
 * Records the window does not end: an open hold (hold expiry and
 * completions still need it) and an adjustment (its reference is
 * idempotent for good). Everything else leaves memory and Redis once past
 * the dedupe window.
 */
export function outlivesWindow(record: Readonly<TxnRecord>): boolean {
  return (
    (record.state === 'open' && record.reversedRc === undefined) ||
    (record.refKey?.startsWith(ADJUST_KEY_PREFIX) ?? false)
  );
}

export function recordKey(institution: string, stan: number, time: number): string {
  return `${institution}|${stan}|${time}`;
}

/** A key's parts: a transaction's (institution, stan, time), or refKey for any other key. */
export interface KeyParts {
  readonly institution: string;
  readonly stan: number;
  readonly time: number;
  readonly refKey: string | undefined;
}

/** A key as stored and journaled: `institution|stan|time`, or a reference key (records are KeyParts too). */
export function keyOf(key: KeyParts): string {
  return key.refKey ?? recordKey(key.institution, key.stan, key.time);
}

/** The parts of a reference key (an adjustment's, an account opening's). */
export function refKeyParts(refKey: string): KeyParts {
  return { institution: '', stan: 0, time: 0, refKey };
}

/**
 * Parses a stored key. Institution ids never contain '|' or start with '#'
 * (config validation), and stan and time are decimal integers; anything
 * else (adjustments' `#adj|reference`) is a reference key.
 */
export function parseKey(key: string): KeyParts {
  const second = key.lastIndexOf('|');
  const first = second > 0 ? key.lastIndexOf('|', second - 1) : -1;
  if (first > 0 && key.charCodeAt(0) !== 0x23 /* # */) {
    const stan = decimal(key, first + 1, second);
    const time = decimal(key, second + 1, key.length);
    if (stan >= 0 && time >= 0 && key.indexOf('|') === first)
      return { institution: key.slice(0, first), stan, time, refKey: undefined };
  }
  return refKeyParts(key);
}

/** The decimal integer in key[start, end), or -1 when it is not one (or not a safe integer). */
function decimal(key: string, start: number, end: number): number {
  if (end <= start || end - start > 16) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = key.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return Number.isSafeInteger(value) && String(value) === key.slice(start, end) ? value : -1;
}

/**
 * A record that is not an original: a tombstone (under the original's key
 * parts), or an operations' adjustment (under its refKey). The hot path
 * (decide's finish) builds its records literally, in this field order.
 */
export function sideRecord(fields: {
  key: KeyParts;
  tombstone: boolean;
  amount: number;
  currency: string;
  response: StoredResponse;
  atMs: number;
}): TxnRecord {
  return {
    institution: fields.key.institution,
    stan: fields.key.stan,
    time: fields.key.time,
    refKey: fields.key.refKey,
    tombstone: fields.tombstone,
    // Not an original: class and proc only matter for content comparison, which never reaches these.
    txnClass: '0200',
    amount: fields.amount,
    currency: fields.currency,
    proc: '',
    rc: fields.response.rc,
    rrnHead: fields.response.rrnHead,
    rrnTail: fields.response.rrnTail,
    authHead: fields.response.authHead,
    authTail: fields.response.authTail,
    respAmount: fields.response.amount,
    respBalance: fields.response.balance,
    error: fields.response.error,
    state: 'none',
    approvedAmount: 0,
    postedAmount: 0,
    reversedRc: undefined,
    countedDay: 0,
    countedAmount: 0,
    atMs: fields.atMs,
    holdExpiresAtMs: 0,
    batch: undefined,
  };
}
