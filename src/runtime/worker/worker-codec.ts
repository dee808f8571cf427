import { Packr, Unpackr } from 'msgpackr';
import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import type { Role, TxnClass } from '../../protocol/mti.js';
import type { Proc, TxnRequest } from '../../protocol/request.js';
import type { Mutable } from '../../util/mutable.js';
import { type ResponseFields, StoredResponse } from '../records/stored-response.js';
import type { WorkItem, WorkResult } from './worker-protocol.js';

/**
 * The encoding of work and results between the main thread and ledger
 * workers: one MessagePack array per batch. The hot entries (transactions and
 * their results) are positional arrays written by hand with MsgpackWriter;
 * the rare ones (admin calls, hold expiry) are msgpackr-packed maps. msgpackr
 * records (the previous encoding) cost ~30% of the main thread at 64 msgs per
 * frame in pack/writeRecord (profile in docs/performance-log.md). Every message
 * is self-contained: a restarted worker needs no shared state.
 */
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });
const writer = new MsgpackWriter(64 * 1024);

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
    else writer.raw(packr.pack(item));
  }
  return owned();
}

export function unpackWork(bytes: Uint8Array): WorkItem[] {
  const entries = unpackr.unpack(bytes) as unknown[];
  return entries.map((e) => (Array.isArray(e) ? readTxn(e) : (e as WorkItem)));
}

export function packResults(items: readonly WorkResult[]): Uint8Array {
  writer.reset();
  writer.arrayHeader(items.length);
  for (const item of items) {
    if (item.k === 'txn') writeTxnResult(item.seq, item.response);
    else writer.raw(packr.pack(item));
  }
  return owned();
}

export function unpackResults(bytes: Uint8Array): WorkResult[] {
  const entries = unpackr.unpack(bytes) as unknown[];
  return entries.map((e) => (Array.isArray(e) ? readTxnResult(e) : (e as WorkResult)));
}

type TxnItem = Extract<WorkItem, { k: 'txn' }>;

function writeTxn(item: TxnItem): void {
  const r = item.req;
  const w = writer;
  w.arrayHeader(19);
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

function writeTxnResult(seq: number, r: ResponseFields): void {
  const w = writer;
  w.arrayHeader(7);
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
