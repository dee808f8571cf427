import { Packr } from 'msgpackr';
import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import type { TxnClass } from '../../protocol/mti.js';
import type { Proc } from '../../protocol/request.js';
import type { AccountLimits, AccountState, AccountStatus } from '../account.js';
import type { LedgerEffect } from '../effects.js';
import { type KeyParts, type OriginalState, parseKey, type TxnRecord } from '../records/txn-record.js';

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

/**
 * Format numbers are unique across kinds (account 2; records 2-4 were stored
 * under their own hash field, so record format 2 never meets an account): an
 * account log (account-log.ts) tells its entries apart by them.
 */
export const ACCOUNT_FORMAT = 2;
/**
 * 4: as 3, with the key at f[1] again: in an account log a record is an
 * entry of its own, no longer a hash field named by its key. 3 (the key and
 * stan left nil, stored under the key as the field) and 2 (key and stan
 * stored) still decode, with the field name as the key.
 */
export const RECORD_FORMAT = 4;
const RECORD_FORMAT_HASH_FIELD = 3;
const RECORD_FORMAT_WITH_KEY = 2;
/** An account log entry that drops a record: [DROP_FORMAT, key]. */
export const DROP_FORMAT = 5;
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
  return decodeAccountFields(packr.unpack(data) as unknown[]);
}

/** decodeAccount from the account's array, already unpacked. */
export function decodeAccountFields(f: unknown[]): AccountState {
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
  writeKey(w, r);
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

/** Writes an account log entry that drops the record under `key` (pruned past the window). */
export function writeDrop(w: MsgpackWriter, key: string): void {
  w.arrayHeader(2);
  w.number(DROP_FORMAT);
  w.str(key);
}

/**
 * Decodes a stored record: format 4 carries its key; formats 2 and 3 were
 * hash fields, whose name (`storedKey`) is the key.
 */
export function decodeRecord(data: Buffer, storedKey?: string): TxnRecord {
  return decodeRecordFields(packr.unpack(data) as unknown[], storedKey);
}

/** decodeRecord from the record's array, already unpacked. */
export function decodeRecordFields(f: unknown[], storedKey?: string): TxnRecord {
  const format = f[0];
  let keyString: unknown;
  if (format === RECORD_FORMAT) keyString = f[1];
  else if (format === RECORD_FORMAT_HASH_FIELD || format === RECORD_FORMAT_WITH_KEY) keyString = storedKey;
  else throw new Error(`unknown record format ${String(format)}`);
  if (typeof keyString !== 'string') throw new Error(`record format ${String(format)} without its key`);
  const key = parseKey(keyString);
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
    // Read back from Redis, so written before: 0, a batch every owner has confirmed.
    batch: 0,
  };
}

/**
 * Calls `each` with every MessagePack value of `data` (an account log) and
 * the byte range it took, in order.
 */
export function forEachValue(data: Buffer, each: (value: unknown, start: number, end: number) => void): void {
  if (data.length === 0) return;
  packr.unpackMultiple(data, (value: unknown, start?: number, end?: number) => {
    each(value, start ?? 0, end ?? data.length);
  });
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
