import { Packr } from 'msgpackr';
import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import type { TxnClass } from '../../protocol/mti.js';
import type { Proc } from '../../protocol/request.js';
import {
  type AccountFields,
  type AccountIdentity,
  type AccountLimits,
  type AccountState,
  type AccountStatus,
  accountState,
} from '../account.js';
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
 * Format numbers are unique across kinds (account 6, and 2 before layout 3;
 * identity 7; records 2-4 were stored under their own hash field, so record
 * format 2 never meets an account): an account log (account-log.ts) tells
 * its entries apart by them.
 *
 * 6: the state without the PAN; the PAN is in the identity entry (7),
 * written when the account is created or its PAN re-sealed, not with every
 * state, so a commit appends no more bytes than before layout 3. 2 (layout
 * 2) held the PAN in clear: only the upgrade to layout 3 reads it
 * (decodeLegacyAccountFields).
 */
export const ACCOUNT_FORMAT = 6;
export const LEGACY_ACCOUNT_FORMAT = 2;
/** An account's identity: [IDENTITY_FORMAT, panSealed (bin), panMasked]. */
export const IDENTITY_FORMAT = 7;
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
/** An issuer-routed PAN's stand-in approvals of one UTC day: [STAND_IN_FORMAT, day, amount]. */
export const STAND_IN_FORMAT = 8;
/**
 * 2 (layout 3): the account as its stored reference (shard, ref) and masked
 * PAN, with the issuer and the MTI. 1 (layout 2) held the PAN in clear: only
 * the upgrade reads it (decodeLegacyJournalEntry).
 */
export const JOURNAL_FORMAT = 2;
export const LEGACY_JOURNAL_FORMAT = 1;

/** Writes the stored form of an account's state (one MessagePack array), without its identity. */
export function writeAccount(w: MsgpackWriter, a: AccountState): void {
  const l = a.limits;
  w.arrayHeader(11);
  w.number(ACCOUNT_FORMAT);
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

/** Writes an account's identity entry. */
export function writeIdentity(w: MsgpackWriter, identity: AccountIdentity): void {
  w.arrayHeader(3);
  w.number(IDENTITY_FORMAT);
  w.bin(identity.panSealed);
  w.str(identity.panMasked);
}

/** The state and identity entries of an account, as a log holding just them (tests and tools). */
export function encodeAccount(a: AccountState): Buffer {
  const w = new MsgpackWriter(256);
  writeIdentity(w, a);
  writeAccount(w, a);
  return Buffer.from(w.view());
}

/** An identity entry's fields, already unpacked. */
export function decodeIdentityFields(f: unknown[]): AccountIdentity {
  if (f[0] !== IDENTITY_FORMAT || !(f[1] instanceof Uint8Array) || typeof f[2] !== 'string')
    throw new Error('not an account identity entry');
  return { panSealed: f[1], panMasked: f[2] };
}

/** An account from its state's array (already unpacked) and its identity. */
export function decodeAccountFields(f: unknown[], identity: AccountIdentity): AccountState {
  if (f[0] !== ACCOUNT_FORMAT) throw new Error(`unknown account format ${String(f[0])}`);
  return accountState(identity, accountFieldsFrom(f, 1));
}

/** The fields of an account from `at` on (currency first), shared by formats 6 and 2. */
function accountFieldsFrom(f: unknown[], at: number): AccountFields {
  const limits: AccountLimits = {};
  if (typeof f[at + 4] === 'number') limits.perTxnMax = f[at + 4] as number;
  if (typeof f[at + 5] === 'number') limits.dailyMax = f[at + 5] as number;
  if (typeof f[at + 6] === 'number') limits.dailyCountMax = f[at + 6] as number;
  return {
    currency: f[at] as string,
    balance: f[at + 1] as number,
    held: f[at + 2] as number,
    status: f[at + 3] as AccountStatus,
    limits,
    day: f[at + 7] as number,
    dayAmount: f[at + 8] as number,
    dayCount: f[at + 9] as number,
  };
}

/** An account of layout 2 (format 2, the PAN in clear): what the upgrade to layout 3 reads. */
export interface LegacyAccount {
  readonly pan: string;
  readonly state: Omit<AccountState, 'panMasked' | 'panSealed'>;
}

export function decodeLegacyAccountFields(f: unknown[]): LegacyAccount {
  if (f[0] !== LEGACY_ACCOUNT_FORMAT) throw new Error(`not a layout 2 account (format ${String(f[0])})`);
  return { pan: f[1] as string, state: accountFieldsFrom(f, 2) };
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

/** Writes a stand-in entry (docs/issuers.md): the last in a log is the PAN's. */
export function writeStandIn(
  w: MsgpackWriter,
  standIn: { readonly day: number; readonly amount: number },
): void {
  w.arrayHeader(3);
  w.number(STAND_IN_FORMAT);
  w.number(standIn.day);
  w.number(standIn.amount);
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
 * is a sequence of these, concatenated (decodeJournalEntry). The account is
 * named by its stored reference and masked PAN, never the PAN.
 */
export interface JournalEntry {
  readonly kind: LedgerEffect['kind'];
  readonly shard: number;
  readonly ref: string;
  readonly panMasked: string;
  /** Who decided it: `local` (the ledger) or an issuer institution. */
  readonly issuer: string;
  /** The MTI of the request that caused it; undefined for the switch's own (admin, hold expiry). */
  readonly mti: string | undefined;
  readonly amount: number;
  readonly currency: string;
  readonly proc: Proc;
  readonly key: string;
  readonly origKey: string | undefined;
  readonly rrn: string;
  readonly atMs: number;
}

/** The account a journal record names: its stored reference and masked PAN. */
export interface JournalAccount {
  readonly shard: number;
  readonly ref: string;
  readonly panMasked: string;
}

/** Writes one journal record (one MessagePack array). */
export function writeJournal(w: MsgpackWriter, account: JournalAccount, e: LedgerEffect): void {
  w.arrayHeader(14);
  w.number(JOURNAL_FORMAT);
  w.str(e.kind);
  w.number(account.shard);
  w.str(account.ref);
  w.str(account.panMasked);
  w.str(e.issuer);
  w.strOrNil(e.mti);
  w.number(e.amount);
  w.str(e.currency);
  w.str(e.proc);
  writeKey(w, e);
  if (e.original === undefined) w.nil();
  else writeKey(w, e.original);
  w.code(e.rrnHead, e.rrnTail);
  w.number(e.atMs);
}

export function encodeJournal(account: JournalAccount, e: LedgerEffect): Buffer {
  const w = new MsgpackWriter(256);
  writeJournal(w, account, e);
  return Buffer.from(w.view());
}

/**
 * Writes one journal record from its decoded form (the keys and rrn as
 * strings): the same array writeJournal makes from an effect. The upgrade
 * to layout 3 (storage/upgrade/) rewrites layout 2 records with it.
 */
export function writeJournalRecord(w: MsgpackWriter, e: JournalEntry): void {
  w.arrayHeader(14);
  w.number(JOURNAL_FORMAT);
  w.str(e.kind);
  w.number(e.shard);
  w.str(e.ref);
  w.str(e.panMasked);
  w.str(e.issuer);
  w.strOrNil(e.mti);
  w.number(e.amount);
  w.str(e.currency);
  w.str(e.proc);
  w.str(e.key);
  w.strOrNil(e.origKey);
  w.str(e.rrn);
  w.number(e.atMs);
}

export function encodeJournalRecord(e: JournalEntry): Buffer {
  return encodeWith(writeJournalRecord, e);
}

/** The records of one journal stream entry, in the order they were decided. */
export function decodeJournalEntry(data: Buffer): JournalEntry[] {
  return (packr.unpackMultiple(data) as unknown[][]).map(decodeJournalRecord);
}

function decodeJournalRecord(f: unknown[]): JournalEntry {
  if (f[0] !== JOURNAL_FORMAT) throw new Error(`unknown journal format ${String(f[0])}`);
  return {
    kind: f[1] as LedgerEffect['kind'],
    shard: f[2] as number,
    ref: f[3] as string,
    panMasked: f[4] as string,
    issuer: f[5] as string,
    mti: typeof f[6] === 'string' ? f[6] : undefined,
    ...effectFieldsFrom(f, 7),
  };
}

/** The effect's fields of a journal record from `at` on (amount first), shared by formats 2 and 1. */
function effectFieldsFrom(
  f: unknown[],
  at: number,
): Pick<JournalEntry, 'amount' | 'currency' | 'proc' | 'key' | 'origKey' | 'rrn' | 'atMs'> {
  return {
    amount: f[at] as number,
    currency: f[at + 1] as string,
    proc: f[at + 2] as Proc,
    key: f[at + 3] as string,
    origKey: typeof f[at + 4] === 'string' ? (f[at + 4] as string) : undefined,
    rrn: f[at + 5] as string,
    atMs: f[at + 6] as number,
  };
}

/** A journal record of layout 2 (format 1, the PAN in clear): what the upgrade to layout 3 rewrites. */
export interface LegacyJournalRecord {
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

/** The records of a layout 2 journal stream entry; throws on any other format. */
export function decodeLegacyJournalEntry(data: Buffer): LegacyJournalRecord[] {
  return (packr.unpackMultiple(data) as unknown[][]).map(decodeLegacyJournalFields);
}

/** One layout 2 journal record from its array, already unpacked; throws on any other format. */
export function decodeLegacyJournalFields(f: unknown[]): LegacyJournalRecord {
  if (f[0] !== LEGACY_JOURNAL_FORMAT)
    throw new Error(`not a layout 2 journal record (format ${String(f[0])})`);
  return {
    kind: f[1] as LedgerEffect['kind'],
    pan: f[2] as string,
    ...effectFieldsFrom(f, 3),
  };
}

/**
 * A store-and-forward advice (docs/issuers.md): what the issuer must be
 * told, with the PAN sealed (the advice id as record id) and masked. The
 * delivery decrypts the PAN to send it; nothing else ever does.
 */
export interface AdviceRecord {
  /** Stable across repeats and restarts: `<rrn>.<mti>`. */
  readonly id: string;
  /** 0120, 0220 or 0420. */
  readonly mti: string;
  readonly acquirer: string;
  readonly stan: number;
  readonly time: number;
  readonly amount: number;
  readonly currency: string;
  readonly proc: string;
  readonly merchant: string | undefined;
  readonly terminal: string | undefined;
  readonly mcc: string | undefined;
  readonly rrn: string;
  /** A stand-in's approval: its authCode and approved amount. */
  readonly authCode: string | undefined;
  readonly approvedAmount: number | undefined;
  /** A completion's or reversal's original. */
  readonly origStan: number | undefined;
  readonly origTime: number | undefined;
  readonly panSealed: Uint8Array;
  readonly panMasked: string;
  readonly atMs: number;
}

export const ADVICE_FORMAT = 1;

/** An advice but its PAN, which encodeAdvice takes apart, sealed and masked. */
export type AdviceFields = Omit<AdviceRecord, 'panSealed' | 'panMasked'>;

/** One writer for every advice of this thread: each is copied out before the next is written. */
const adviceWriter = new MsgpackWriter(256);

/**
 * The stored form of an advice. `a` may carry more than AdviceFields (the
 * rules' AdviceOrder has the issuer and the PAN too): only the advice's own
 * fields are read, so the caller need not copy them into a new object (an
 * object rest and spread per advice were ~9% of a worker at stand-in b64).
 */
export function encodeAdvice(a: AdviceFields, panSealed: Uint8Array, panMasked: string): Buffer {
  const w = adviceWriter;
  w.reset();
  w.arrayHeader(20);
  w.number(ADVICE_FORMAT);
  w.str(a.id);
  w.str(a.mti);
  w.str(a.acquirer);
  w.number(a.stan);
  w.number(a.time);
  w.number(a.amount);
  w.str(a.currency);
  w.str(a.proc);
  w.strOrNil(a.merchant);
  w.strOrNil(a.terminal);
  w.strOrNil(a.mcc);
  w.str(a.rrn);
  w.strOrNil(a.authCode);
  w.numberOrNil(a.approvedAmount);
  w.numberOrNil(a.origStan);
  w.numberOrNil(a.origTime);
  w.bin(panSealed);
  w.str(panMasked);
  w.number(a.atMs);
  return Buffer.from(w.view());
}

export function decodeAdvice(data: Buffer): AdviceRecord {
  const f = packr.unpack(data) as unknown[];
  if (f[0] !== ADVICE_FORMAT || !(f[17] instanceof Uint8Array))
    throw new Error(`unknown advice format ${String(f[0])}`);
  const optional = <T>(value: unknown): T | undefined => (value === null ? undefined : (value as T));
  return {
    id: f[1] as string,
    mti: f[2] as string,
    acquirer: f[3] as string,
    stan: f[4] as number,
    time: f[5] as number,
    amount: f[6] as number,
    currency: f[7] as string,
    proc: f[8] as string,
    merchant: optional(f[9]),
    terminal: optional(f[10]),
    mcc: optional(f[11]),
    rrn: f[12] as string,
    authCode: optional(f[13]),
    approvedAmount: optional(f[14]),
    origStan: optional(f[15]),
    origTime: optional(f[16]),
    panSealed: f[17],
    panMasked: f[18] as string,
    atMs: f[19] as number,
  };
}
