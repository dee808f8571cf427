import { Packr, Unpackr } from 'msgpackr';
import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import type { Role, TxnClass } from '../../protocol/mti.js';
import type { Proc, TxnRequest } from '../../protocol/request.js';
import type { Mutable } from '../../util/mutable.js';
import { type ResponseFields, StoredResponse } from '../records/stored-response.js';
import type { IssuerOutcome, StandInLimits, WorkItem, WorkResult } from './worker-protocol.js';

/**
 * The encoding of work and results between the main thread and ledger
 * workers: one MessagePack array per batch. The hot entries are positional
 * arrays written by hand with MsgpackWriter, told apart by their length:
 * transactions (TXN_FIELDS) and issuers' answers (ANSWER_FIELDS) as work;
 * transactions' results (TXN_RESULT_FIELDS), and forwards and answers' own
 * results (SHORT_RESULT_FIELDS: seq, a tag, one value) as results. The rare
 * ones (admin calls, hold expiry, sweeps, rotation) are msgpackr-packed maps.
 * msgpackr records (the previous encoding) cost ~30% of the main thread at 64
 * msgs per frame in pack/writeRecord, and the maps of the issuer route
 * ~20% of it (profiles in docs/performance-log.md). Every message is
 * self-contained: a restarted worker needs no shared state.
 */
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });
const writer = new MsgpackWriter(64 * 1024);

const TXN_FIELDS = 19;
const ANSWER_FIELDS = 12;
const TXN_RESULT_FIELDS = 7;
const SHORT_RESULT_FIELDS = 3;
/** The tags of the short results. */
const FORWARD_TAG = 1;
const ANSWER_TAKEN_TAG = 2;
/** IssuerOutcome['k'] by its code in an answer entry, and back. */
const OUTCOME_KINDS = ['answered', 'timeout', 'unavailable'] as const;
const OUTCOME_CODES: Readonly<Record<IssuerOutcome['k'], number>> = {
  answered: 0,
  timeout: 1,
  unavailable: 2,
};

/**
 * A copy of the written bytes in its own exact-size ArrayBuffer, to be posted
 * with that buffer in the transfer list. structured clone copies a view's
 * WHOLE backing buffer: posting a view into a grown scratch buffer copied
 * ~0.5 MB per one-item batch, most of the CPU per approval at low load.
 */
function owned(): Uint8Array {
  return new Uint8Array(writer.view());
}

/** The transfer list for a packed batch (its buffer moves, nothing is copied). */
export function transferOf(bytes: Uint8Array): ArrayBuffer[] {
  return [bytes.buffer as ArrayBuffer];
}

export function packWork(items: readonly WorkItem[]): Uint8Array {
  writer.reset();
  writer.arrayHeader(items.length);
  for (const item of items) {
    if (item.k === 'txn') writeTxn(item);
    else if (item.k === 'issuerAnswer') writeAnswer(item);
    else writer.raw(packr.pack(item));
  }
  return owned();
}

export function unpackWork(bytes: Uint8Array): WorkItem[] {
  const entries = unpackr.unpack(bytes) as unknown[];
  return entries.map((e) => {
    if (!Array.isArray(e)) return e as WorkItem;
    return e.length === TXN_FIELDS ? readTxn(e) : readAnswer(e);
  });
}

export function packResults(items: readonly WorkResult[]): Uint8Array {
  writer.reset();
  writer.arrayHeader(items.length);
  for (const item of items) {
    if (item.k === 'txn') writeTxnResult(item.seq, item.response);
    else if (item.k === 'forward') writeShortResult(item.seq, FORWARD_TAG).str(item.rrn);
    else if (item.k === 'issuerAnswer') writeShortResult(item.seq, ANSWER_TAKEN_TAG).bool(item.taken);
    else writer.raw(packr.pack(item));
  }
  return owned();
}

export function unpackResults(bytes: Uint8Array): WorkResult[] {
  const entries = unpackr.unpack(bytes) as unknown[];
  return entries.map((e) => {
    if (!Array.isArray(e)) return e as WorkResult;
    if (e.length === TXN_RESULT_FIELDS) return readTxnResult(e);
    const seq = e[0] as number;
    return e[1] === FORWARD_TAG
      ? { seq, k: 'forward', rrn: e[2] as string }
      : { seq, k: 'issuerAnswer', taken: e[2] as boolean };
  });
}

type TxnItem = Extract<WorkItem, { k: 'txn' }>;

function writeTxn(item: TxnItem): void {
  const r = item.req;
  const w = writer;
  w.arrayHeader(TXN_FIELDS);
  w.number(item.seq);
  w.str(item.institution);
  w.strOrNil(item.role);
  w.str(r.txnClass);
  w.bool(r.repeat);
  if (typeof r.id === 'string') w.str(r.id);
  else w.number(r.id);
  w.number(r.stan);
  w.number(r.time);
  w.str(r.pan);
  w.number(r.amount);
  w.str(r.currency);
  w.str(r.proc);
  w.bool(r.partial);
  w.strOrNil(r.merchant);
  w.strOrNil(r.terminal);
  w.strOrNil(r.mcc);
  w.number(r.origStan);
  w.number(r.origTime);
  w.strOrNil(item.issuer);
}

function readTxn(f: unknown[]): TxnItem {
  const req: TxnRequest = {
    txnClass: f[3] as TxnClass,
    repeat: f[4] as boolean,
    id: f[5] as number | string,
    stan: f[6] as number,
    time: f[7] as number,
    pan: f[8] as string,
    amount: f[9] as number,
    currency: f[10] as string,
    proc: f[11] as Proc,
    partial: f[12] as boolean,
    merchant: optional(f[13]),
    terminal: optional(f[14]),
    mcc: optional(f[15]),
    origStan: f[16] as number,
    origTime: f[17] as number,
  };
  const role = optional<Role>(f[2]);
  const issuer = optional<string>(f[18]);
  const item: Mutable<TxnItem> = { k: 'txn', seq: f[0] as number, institution: f[1] as string, req };
  // Absent, not undefined, when not set: the item is what the main thread sent.
  if (role !== undefined) item.role = role;
  if (issuer !== undefined) item.issuer = issuer;
  return item;
}

type AnswerItem = Extract<WorkItem, { k: 'issuerAnswer' }>;

function writeAnswer(item: AnswerItem): void {
  const w = writer;
  const o = item.outcome;
  w.arrayHeader(ANSWER_FIELDS);
  w.number(item.seq);
  w.str(item.pan);
  w.str(item.institution);
  w.number(item.stan);
  w.number(item.time);
  w.number(OUTCOME_CODES[o.k]);
  if (o.k === 'answered') {
    w.str(o.rc);
    w.strOrNil(o.authCode);
    w.numberOrNil(o.amount);
    w.numberOrNil(o.balance);
    w.nil();
    w.nil();
  } else {
    w.nil();
    w.nil();
    w.nil();
    w.nil();
    w.numberOrNil(o.standIn?.perTxnMax);
    w.numberOrNil(o.standIn?.dailyMax);
  }
}

function readAnswer(f: unknown[]): AnswerItem {
  const k = OUTCOME_KINDS[f[5] as number]!;
  let outcome: IssuerOutcome;
  if (k === 'answered') {
    outcome = {
      k,
      rc: f[6] as string,
      authCode: optional(f[7]),
      amount: optional(f[8]),
      balance: optional(f[9]),
    };
  } else {
    const standIn: StandInLimits | undefined =
      f[10] === null ? undefined : { perTxnMax: f[10] as number, dailyMax: f[11] as number };
    outcome = { k, standIn };
  }
  return {
    k: 'issuerAnswer',
    seq: f[0] as number,
    pan: f[1] as string,
    institution: f[2] as string,
    stan: f[3] as number,
    time: f[4] as number,
    outcome,
  };
}

/** A short result's head (seq and tag); its one value is written next. */
function writeShortResult(seq: number, tag: number): MsgpackWriter {
  writer.arrayHeader(SHORT_RESULT_FIELDS);
  writer.number(seq);
  writer.number(tag);
  return writer;
}

function writeTxnResult(seq: number, r: ResponseFields): void {
  const w = writer;
  w.arrayHeader(TXN_RESULT_FIELDS);
  w.number(seq);
  w.str(r.rc);
  // A ledger's own responses keep rrn and authCode in parts: written without making the strings.
  if (r instanceof StoredResponse) {
    w.code(r.rrnHead, r.rrnTail);
    w.codeOrNil(r.authHead, r.authTail);
  } else {
    w.str(r.rrn);
    w.strOrNil(r.authCode);
  }
  w.numberOrNil(r.amount);
  w.numberOrNil(r.balance);
  w.strOrNil(r.error);
}

function readTxnResult(f: unknown[]): WorkResult {
  const response: { -readonly [K in keyof ResponseFields]: ResponseFields[K] } = {
    rc: f[1] as string,
    rrn: f[2] as string,
  };
  if (typeof f[3] === 'string') response.authCode = f[3];
  if (typeof f[4] === 'number') response.amount = f[4];
  if (typeof f[5] === 'number') response.balance = f[5];
  if (typeof f[6] === 'string') response.error = f[6];
  return { seq: f[0] as number, k: 'txn', response };
}

function optional<T>(value: unknown): T | undefined {
  return value === null ? undefined : (value as T);
}
