import { Packr } from 'msgpackr';
import type { TxnClass } from '../protocol/mti.js';
import type { Proc } from '../protocol/request.js';
import { MsgpackWriter } from '../wire/msgpack-writer.js';
import type { AccountLimits, AccountState, AccountStatus } from './account.js';
import type { LedgerEffect } from './effects.js';
import { type KeyParts, type OriginalState, parseKey, type TxnRecord } from './txn-record.js';

/**
 * Stored forms of accounts, records and journal entries: positional
 * MessagePack arrays with a leading format version. Positional arrays are
 * about half the bytes of maps and decode without key lookups; the version
 * lets a later format read these. Written with MsgpackWriter straight into
 * the commit blob (write*); read with msgpackr (decode*). encode* are the
 * same writers into a fresh buffer, for tests and tools.
 */

const packr = new Packr({ useRecords: false, variableMapSize: true });

function encodeWith<T>(write: (w: MsgpackWriter, value: T) => void, value: T): Buffer {
  const w = new MsgpackWriter(256);
  write(w, value);
  return Buffer.from(w.view());
}

const ACCOUNT_FORMAT = 2;
/**
 * 3: as 2, with the key (f[1]) and stan (f[7]) left nil: the hash field a
 * record is stored under is its key, so storing it again cost ~36 bytes per
 * approval in Redis, the AOF and every rewrite. Format 2 still decodes.
 */
const RECORD_FORMAT = 3;
const RECORD_FORMAT_WITH_KEY = 2;
export const JOURNAL_FORMAT = 1;

/** Writes the stored form of an account (one MessagePack array). */
export function writeAccount(w: MsgpackWriter, a: AccountState): void {
  const l = a.limits;
  w.arrayHeader(12);
  w.number(ACCOUNT_FORMAT);
  w.str(a.pan);
  w.str(a.currency);
  w.number(a.balance);
  w.number(a.held);
  w.str(a.status);
  w.numberOrNil(l.perTxnMax);
  w.numberOrNil(l.dailyMax);
  w.numberOrNil(l.dailyCountMax);
  w.number(a.day);
  w.number(a.dayAmount);
  w.number(a.dayCount);
}

export function encodeAccount(a: AccountState): Buffer {
  return encodeWith(writeAccount, a);
}

export function decodeAccount(data: Buffer): AccountState {
  const f = packr.unpack(data) as unknown[];
  if (f[0] !== ACCOUNT_FORMAT) throw new Error(`unknown account format ${String(f[0])}`);
  const limits: AccountLimits = {};
  if (typeof f[6] === 'number') limits.perTxnMax = f[6];
  if (typeof f[7] === 'number') limits.dailyMax = f[7];
  if (typeof f[8] === 'number') limits.dailyCountMax = f[8];
  return {
    pan: f[1] as string,
    currency: f[2] as string,
    balance: f[3] as number,
    held: f[4] as number,
    status: f[5] as AccountStatus,
    limits,
    day: f[9] as number,
    dayAmount: f[10] as number,
    dayCount: f[11] as number,
  };
}

/**
 * Writes a key as the string keyOf() makes, from its parts:
 * the hot path stores and journals keys without making the strings.
 */
export function writeKey(w: MsgpackWriter, key: KeyParts): void {
  if (key.refKey !== undefined) w.str(key.refKey);
  else w.txnKey(key.institution, key.stan, key.time);
}

/** Writes the stored form of a transaction record (one MessagePack array). */
export function writeRecord(w: MsgpackWriter, r: TxnRecord): void {
  w.arrayHeader(22);
  w.number(RECORD_FORMAT);
  w.nil(); // the key: the field name (format 3)
  w.bool(r.tombstone);
  w.str(r.txnClass);
  w.number(r.amount);
  w.str(r.currency);
  w.str(r.proc);
  w.nil(); // stan: in the key (format 3)
  w.str(r.rc);
  w.code(r.rrnHead, r.rrnTail);
  w.codeOrNil(r.authHead, r.authTail);
  w.numberOrNil(r.respAmount);
  w.numberOrNil(r.respBalance);
  w.str(r.state);
  w.number(r.approvedAmount);
  w.number(r.postedAmount);
  w.strOrNil(r.reversedRc);
  w.number(r.countedDay);
  w.number(r.countedAmount);
  w.number(r.atMs);
  w.number(r.holdExpiresAtMs);
  w.strOrNil(r.error);
}

export function encodeRecord(r: TxnRecord): Buffer {
  return encodeWith(writeRecord, r);
}

/** Decodes a stored record; `storedKey` is the hash field it was stored under (its key). */
export function decodeRecord(data: Buffer, storedKey: string): TxnRecord {
  const f = packr.unpack(data) as unknown[];
  if (f[0] !== RECORD_FORMAT && f[0] !== RECORD_FORMAT_WITH_KEY)
    throw new Error(`unknown record format ${String(f[0])}`);
  // The key carries the parts (format 2 also stored it at f[1], and stan at f[7]).
  const key = parseKey(storedKey);
  return {
    institution: key.institution,
    stan: key.stan,
    time: key.time,
    refKey: key.refKey,
    tombstone: f[2] as boolean,
    txnClass: f[3] as TxnClass,
    amount: f[4] as number,
    currency: f[5] as string,
    proc: f[6] as Proc | '',
    // Codes decoded whole: head is the code, tail -1 (util/code-source.ts).
    rc: f[8] as string,
    rrnHead: f[9] as string,
    rrnTail: -1,
    authHead: typeof f[10] === 'string' ? f[10] : undefined,
    authTail: -1,
    respAmount: typeof f[11] === 'number' ? f[11] : undefined,
    respBalance: typeof f[12] === 'number' ? f[12] : undefined,
    error: typeof f[21] === 'string' ? f[21] : undefined,
    state: f[13] as OriginalState,
    approvedAmount: f[14] as number,
    postedAmount: f[15] as number,
    reversedRc: typeof f[16] === 'string' ? f[16] : undefined,
    countedDay: f[17] as number,
    countedAmount: f[18] as number,
    atMs: f[19] as number,
    holdExpiresAtMs: f[20] as number,
    batch: undefined,
  };
}

/**
 * One journal record: one balance effect. A journal stream entry (field `d`)
 * is a sequence of these, concatenated (decodeJournalEntry).
 */
export interface JournalEntry {
  readonly kind: LedgerEffect['kind'];
  readonly pan: string;
  readonly amount: number;
  readonly currency: string;
  readonly proc: Proc;
  readonly key: string;
  readonly origKey: string | undefined;
  readonly rrn: string;
  readonly atMs: number;
}

/** Writes one journal record (one MessagePack array). */
export function writeJournal(w: MsgpackWriter, pan: string, e: LedgerEffect): void {
  w.arrayHeader(10);
  w.number(JOURNAL_FORMAT);
  w.str(e.kind);
  w.str(pan);
  w.number(e.amount);
  w.str(e.currency);
  w.str(e.proc);
  writeKey(w, e);
  if (e.original === undefined) w.nil();
  else writeKey(w, e.original);
  w.code(e.rrnHead, e.rrnTail);
  w.number(e.atMs);
}

export function encodeJournal(pan: string, e: LedgerEffect): Buffer {
  const w = new MsgpackWriter(256);
  writeJournal(w, pan, e);
  return Buffer.from(w.view());
}

/** The records of one journal stream entry, in the order they were decided. */
export function decodeJournalEntry(data: Buffer): JournalEntry[] {
  return (packr.unpackMultiple(data) as unknown[][]).map(decodeJournalRecord);
}

function decodeJournalRecord(f: unknown[]): JournalEntry {
  if (f[0] !== JOURNAL_FORMAT) throw new Error(`unknown journal format ${String(f[0])}`);
  return {
    kind: f[1] as LedgerEffect['kind'],
    pan: f[2] as string,
    amount: f[3] as number,
    currency: f[4] as string,
    proc: f[5] as Proc,
    key: f[6] as string,
    origKey: typeof f[7] === 'string' ? f[7] : undefined,
    rrn: f[8] as string,
    atMs: f[9] as number,
  };
}
