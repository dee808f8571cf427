import type { TxnClass } from '../../protocol/mti.js';
import { RC } from '../../protocol/rc.js';
import type { Proc, TxnRequest } from '../../protocol/request.js';
import { LOCAL_ISSUER } from '../../protocol/txn-context.js';
import { type AccountState, available, rollDay, utcDay } from '../../runtime/account.js';
import type { DecideContext, DecisionSink } from '../../runtime/core/actor-rules.js';
import { type JournaledEffect, journaled, type LedgerEffect } from '../../runtime/effects.js';
import type { RecordIndex } from '../../runtime/records/record-index.js';
import { fieldsOf, type ResponseFields, StoredResponse } from '../../runtime/records/stored-response.js';
import {
  type OriginalState,
  responseOf,
  sideRecord,
  type TxnRecord,
} from '../../runtime/records/txn-record.js';
import type { Mutable } from '../../util/mutable.js';

export type { DecideContext, DecisionSink } from '../../runtime/core/actor-rules.js';

/**
 * The on-us ledger's decision for one transaction on one account, in the
 * exact check order of docs/protocol.md section 3 (after 63/30/12/15/14, which the
 * session layer decides). Pure and synchronous: it mutates the account and its
 * record map in memory and says what to persist; the actor persists before
 * the response leaves. Business outcomes are response codes, never throws.
 */

export interface Decision {
  /** Fields to send back (the caller adds mti, id, stan). */
  readonly response: ResponseFields;
  /** Records to write (new or changed), in order. Empty for replays and 94. */
  readonly records: TxnRecord[];
  /** Balance-changing effects to journal, in order, with their keys as journaled. */
  readonly effects: JournaledEffect[];
  /** The account's fields changed (balance, held, counters). */
  readonly accountChanged: boolean;
}

const INVALID_TRANSACTION_TEXT = 'not valid for this account or original';

/** decideInto() collected into arrays: the shape tests and tools read. */
export function decide(
  account: AccountState,
  records: RecordIndex,
  req: TxnRequest,
  ctx: DecideContext,
): Decision {
  const out = { records: [] as TxnRecord[], effects: [] as JournaledEffect[] };
  const response = decideInto(account, records, req, ctx, {
    record: (r) => out.records.push(r),
    effect: (e) => out.effects.push(journaled(e)),
  });
  return {
    response: fieldsOf(response),
    records: out.records,
    effects: out.effects,
    accountChanged: out.effects.length > 0,
  };
}

// One builder, reset per decision: decisions are synchronous and never nest,
// and not allocating one per message keeps the hot path free of garbage.
let builder: DecisionBuilder | undefined;

/**
 * Decides `req` on `account`, writing records and effects to `sink`; returns
 * the response fields. Replays and 94 write nothing.
 */
export function decideInto(
  account: AccountState,
  records: RecordIndex,
  req: TxnRequest,
  ctx: DecideContext,
  sink: DecisionSink,
): StoredResponse {
  const contentProc: Proc | '' = req.txnClass === '0220' || req.txnClass === '0400' ? '' : req.proc;

  // Duplicate handling: same key, same content -> the original response; different content -> 94.
  const existing = records.find(ctx.institution, req.stan, req.time);
  if (existing !== undefined && !existing.tombstone) {
    const same =
      existing.txnClass === req.txnClass &&
      existing.amount === req.amount &&
      existing.currency === req.currency &&
      existing.proc === contentProc;
    if (same) return responseOf(existing);
    ctx.rrns.next(ctx.nowMs);
    return new StoredResponse(
      RC.duplicateMismatch,
      ctx.rrns.head,
      ctx.rrns.tail,
      undefined,
      -1,
      undefined,
      undefined,
      undefined,
    );
  }

  builder ??= new DecisionBuilder();
  const d = builder.reset(account, records, req, ctx, contentProc, sink, existing !== undefined);
  // 05: an earlier reversal named this key before it arrived. The 05 record
  // keeps the reversal's 25, so further reversals of it get 25 again.
  if (existing?.tombstone === true) return d.decline(RC.doNotHonour, RC.originalNotFound);

  switch (req.txnClass) {
    case '0100':
      return req.proc === '31' ? decideInquiry(d) : decideHoldOrDebit(d);
    case '0200':
      return req.proc === '20' ? decideRefund(d) : decideHoldOrDebit(d);
    case '0220':
      return decideCompletion(d);
    case '0400':
      return decideReversal(d);
  }
}

/**
 * A decision's new record. A class, not an object literal: V8 tracks every
 * literal's allocation site and, when a collection finds most of a site's
 * recent objects alive, allocates all its later objects in the old
 * generation ("pretenuring"). A record lives until its batch's commit is
 * built, so a young collection at the wrong moment (after a batch, before
 * its seal) found them alive, and from then on every record of the
 * process was an old-generation allocation: the in-memory benchmark ran at
 * half speed in one process out of three or four (docs/performance-log.md,
 * change 30). Objects made by `new` have no allocation site.
 */
// The fields are TxnRecord's, declared once there (declaration merging); written only here.
// biome-ignore lint/correctness/noUnusedVariables: merged into the class below.
interface DecidedRecord extends Mutable<TxnRecord> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor assigns every field.
class DecidedRecord {
  constructor(
    institution: string,
    req: TxnRequest,
    contentProc: Proc | '',
    response: StoredResponse,
    state: OriginalState,
    approvedAmount: number,
    postedAmount: number,
    reversedRc: string | undefined,
    countedDay: number,
    countedAmount: number,
    atMs: number,
    holdExpiresAtMs: number,
  ) {
    this.institution = institution;
    this.stan = req.stan;
    this.time = req.time;
    this.refKey = undefined;
    this.tombstone = false;
    this.txnClass = req.txnClass;
    this.amount = req.amount;
    this.currency = req.currency;
    this.proc = contentProc;
    this.rc = response.rc;
    this.rrnHead = response.rrnHead;
    this.rrnTail = response.rrnTail;
    this.authHead = response.authHead;
    this.authTail = response.authTail;
    this.respAmount = response.amount;
    this.respBalance = response.balance;
    this.error = response.error;
    this.state = state;
    this.approvedAmount = approvedAmount;
    this.postedAmount = postedAmount;
    this.reversedRc = reversedRc;
    this.countedDay = countedDay;
    this.countedAmount = countedAmount;
    this.atMs = atMs;
    this.holdExpiresAtMs = holdExpiresAtMs;
    this.batch = undefined;
  }
}

/** The state of the decision being made, so each rule reads as a line. */
class DecisionBuilder {
  account!: AccountState;
  recordMap!: RecordIndex;
  req!: TxnRequest;
  ctx!: DecideContext;
  contentProc: Proc | '' = '';
  sink!: DecisionSink;
  /**
   * A record may be under the request's key already (a tombstone found, or
   * one this decision wrote): the new one replaces it.
   */
  replaces = false;

  reset(
    account: AccountState,
    recordMap: RecordIndex,
    req: TxnRequest,
    ctx: DecideContext,
    contentProc: Proc | '',
    sink: DecisionSink,
    replaces: boolean,
  ): this {
    this.account = account;
    this.recordMap = recordMap;
    this.req = req;
    this.ctx = ctx;
    this.contentProc = contentProc;
    this.sink = sink;
    this.replaces = replaces;
    return this;
  }

  /**
   * Records an answer without effect under the request's key: a decline, or
   * a 00 that changes nothing (reversal of a declined or already reversed
   * original), which like every approval carries amount and balance.
   */
  decline(rc: string, reversedRc?: string): StoredResponse {
    const { rrns } = this.ctx;
    rrns.next(this.ctx.nowMs);
    const approved = rc === RC.approved;
    const response = new StoredResponse(
      rc,
      rrns.head,
      rrns.tail,
      undefined,
      -1,
      approved ? this.req.amount : undefined,
      approved ? available(this.account) : undefined,
      // docs/protocol.md section 3: a short `error` text on 30 and 12.
      rc === RC.invalidTransaction ? INVALID_TRANSACTION_TEXT : undefined,
    );
    // Set before the record goes to the sink, which may encode it at once.
    this.finish(response, 'declined', 0, 0, 0, 0, reversedRc);
    return response;
  }

  finish(
    response: StoredResponse,
    state: TxnRecord['state'],
    approvedAmount: number,
    postedAmount: number,
    counted = 0,
    holdExpiresAtMs = 0,
    reversedRc: string | undefined = undefined,
  ): StoredResponse {
    const { req, ctx } = this;
    const record = new DecidedRecord(
      ctx.institution,
      req,
      this.contentProc,
      response,
      state,
      approvedAmount,
      postedAmount,
      reversedRc,
      counted > 0 ? this.account.day : 0,
      counted,
      ctx.nowMs,
      holdExpiresAtMs,
    );
    // decideInto looked the key up already: a new key needs no second look.
    if (this.replaces) this.recordMap.set(record);
    else this.recordMap.setNew(record);
    this.sink.record(record);
    return response;
  }

  /**
   * Saves a change to an existing record (the original a 0220/0400 acted
   * on, or a new tombstone): back into the index (a sealed record was found
   * as a copy), and to the sink.
   */
  touch(record: TxnRecord): void {
    this.recordMap.set(record);
    // Under the request's own key, possibly (a reversal naming itself leaves its tombstone there).
    this.replaces = true;
    this.sink.record(record);
  }

  effect(kind: LedgerEffect['kind'], amount: number, original: TxnRecord | undefined, proc: Proc): void {
    const { req } = this;
    this.sink.effect({
      kind,
      amount,
      issuer: LOCAL_ISSUER,
      mti: req.txnClass,
      institution: this.ctx.institution,
      stan: req.stan,
      time: req.time,
      refKey: undefined,
      original,
      proc,
      currency: this.req.currency,
      atMs: this.ctx.nowMs,
      rrnHead: '',
      rrnTail: -1,
    });
  }
}

function approvalFields(
  d: DecisionBuilder,
  rc: string,
  amount: number,
  withAuthCode: boolean,
): StoredResponse {
  const { rrns, authCodes, nowMs } = d.ctx;
  rrns.next(nowMs);
  let authHead: string | undefined;
  let authTail = -1;
  if (withAuthCode) {
    authCodes.next(nowMs);
    authHead = authCodes.head;
    authTail = authCodes.tail;
  }
  return new StoredResponse(
    rc,
    rrns.head,
    rrns.tail,
    authHead,
    authTail,
    amount,
    available(d.account),
    undefined,
  );
}

/**
 * Balances are integers in a double: exact only up to 2^53 - 1 minor units.
 * A credit that would pass that is refused (13) rather than rounded.
 */
export const BALANCE_MAX = Number.MAX_SAFE_INTEGER;

export function creditFits(account: AccountState, amount: number): boolean {
  return account.balance + amount <= BALANCE_MAX;
}

/** 57 (blocked), 12 (currency), 13 (amount): the account checks shared by every kind. */
function accountChecks(d: DecisionBuilder, blockedApplies: boolean): string | undefined {
  if (blockedApplies && d.account.status === 'blocked') return RC.notPermitted;
  if (d.req.currency !== d.account.currency) return RC.invalidTransaction;
  return undefined;
}

function decideInquiry(d: DecisionBuilder): StoredResponse {
  const rc = accountChecks(d, true) ?? (d.req.amount !== 0 ? RC.invalidAmount : undefined);
  if (rc !== undefined) return d.decline(rc);
  return d.finish(approvalFields(d, RC.approved, 0, true), 'none', 0, 0);
}

/** 0100 hold (proc 00/01) and 0200 purchase/cash debit (proc 00/01). */
function decideHoldOrDebit(d: DecisionBuilder): StoredResponse {
  const { account, req, ctx } = d;
  const early = accountChecks(d, true) ?? (req.amount === 0 ? RC.invalidAmount : undefined);
  if (early !== undefined) return d.decline(early);
  rollDay(account, utcDay(ctx.nowMs));
  const { perTxnMax, dailyMax, dailyCountMax } = account.limits;
  // Limits are checked against the requested amount, before funds (partial applies to funds only).
  if (perTxnMax !== undefined && req.amount > perTxnMax) return d.decline(RC.exceedsAmountLimit);
  if (dailyMax !== undefined && account.dayAmount + req.amount > dailyMax)
    return d.decline(RC.exceedsAmountLimit);
  if (dailyCountMax !== undefined && account.dayCount + 1 > dailyCountMax)
    return d.decline(RC.exceedsCountLimit);
  const avail = available(account);
  let approved = req.amount;
  let rc: string = RC.approved;
  if (avail < req.amount) {
    if (!req.partial || avail <= 0) return d.decline(RC.insufficientFunds);
    approved = avail;
    rc = RC.partial;
  }
  account.dayAmount += approved;
  account.dayCount += 1;
  if (req.txnClass === '0100') {
    account.held += approved;
    d.effect('hold', approved, undefined, req.proc);
    return d.finish(
      approvalFields(d, rc, approved, true),
      'open',
      approved,
      0,
      approved,
      ctx.nowMs + ctx.holdTtlMs,
    );
  }
  account.balance -= approved;
  d.effect('debit', approved, undefined, req.proc);
  return d.finish(approvalFields(d, rc, approved, true), 'posted', approved, approved, approved);
}

/** 0200 proc 20: credits the account. Not blocked, not limited. */
function decideRefund(d: DecisionBuilder): StoredResponse {
  const { account, req } = d;
  const early =
    accountChecks(d, false) ??
    (req.amount === 0 || !creditFits(account, req.amount) ? RC.invalidAmount : undefined);
  if (early !== undefined) return d.decline(early);
  account.balance += req.amount;
  d.effect('credit', req.amount, undefined, '20');
  return d.finish(approvalFields(d, RC.approved, req.amount, true), 'posted', req.amount, req.amount);
}

/** Finds the original a 0220/0400 names: same institution and PAN (the account), orig stan/time. */
function findOriginal(d: DecisionBuilder): TxnRecord | undefined {
  return d.recordMap.find(d.ctx.institution, d.req.origStan, d.req.origTime);
}

function isOriginalClass(txnClass: TxnClass): boolean {
  return txnClass === '0100' || txnClass === '0200';
}

function decideCompletion(d: DecisionBuilder): StoredResponse {
  const { account, req } = d;
  const original = findOriginal(d);
  if (original === undefined || original.tombstone) return d.decline(RC.originalNotFound);
  // A completion names an authorization that is open: not a 0200 (nor a completion or reversal),
  // not an inquiry, not declined/completed/reversed/expired.
  if (
    original.txnClass !== '0100' ||
    original.proc === '31' ||
    original.state !== 'open' ||
    original.reversedRc !== undefined
  ) {
    return d.decline(RC.invalidTransaction);
  }
  const rc =
    accountChecks(d, false) ??
    (req.amount === 0 || req.amount > original.approvedAmount ? RC.invalidAmount : undefined);
  if (rc !== undefined) return d.decline(rc);
  account.held -= original.approvedAmount;
  account.balance -= req.amount;
  original.state = 'completed';
  original.postedAmount = req.amount;
  d.touch(original);
  d.effect('complete', req.amount, original, original.proc as Proc);
  d.effect('release', original.approvedAmount, original, original.proc as Proc);
  return d.finish(approvalFields(d, RC.approved, req.amount, false), 'none', 0, 0);
}

function decideReversal(d: DecisionBuilder): StoredResponse {
  const { account, req, ctx } = d;
  const original = findOriginal(d);
  if (original === undefined || original.tombstone) {
    // Remember the key: the original arriving later is declined with 05.
    if (original === undefined) {
      const tombstone = sideRecord({
        key: { institution: ctx.institution, stan: req.origStan, time: req.origTime, refKey: undefined },
        tombstone: true,
        amount: 0,
        currency: req.currency,
        response: StoredResponse.of({ rc: RC.doNotHonour, rrn: '' }),
        atMs: ctx.nowMs,
      });
      d.touch(tombstone);
    }
    return d.decline(RC.originalNotFound);
  }
  // Already reversed, under any key: no further effect, the first reversal's rc.
  if (original.reversedRc !== undefined) return d.decline(original.reversedRc);
  if (!isOriginalClass(original.txnClass) || original.proc === '31') return d.decline(RC.invalidTransaction);
  if (original.state === 'expired') return d.decline(RC.invalidTransaction);
  if (original.state === 'declined') {
    original.reversedRc = RC.approved;
    d.touch(original);
    return d.decline(RC.approved);
  }
  const rc =
    accountChecks(d, false) ?? (req.amount !== original.approvedAmount ? RC.invalidAmount : undefined);
  if (rc !== undefined) return d.decline(rc);
  const proc = original.proc as Proc;
  if (original.txnClass === '0200' && proc === '20') {
    // Reversing a refund debits it back; not subject to limits, but to funds.
    if (available(account) < original.postedAmount) return d.decline(RC.insufficientFunds);
    account.balance -= original.postedAmount;
    d.effect('debit', original.postedAmount, original, proc);
  } else if (original.state === 'open') {
    account.held -= original.approvedAmount;
    d.effect('release', original.approvedAmount, original, proc);
  } else {
    // A posted 0200 purchase/cash, or a completed 0100: credit back what was posted.
    if (!creditFits(account, original.postedAmount)) return d.decline(RC.invalidAmount);
    account.balance += original.postedAmount;
    d.effect('credit', original.postedAmount, original, proc);
  }
  giveBackLimits(account, original, ctx.nowMs);
  original.reversedRc = RC.approved;
  d.touch(original);
  return d.finish(approvalFields(d, RC.approved, req.amount, false), 'none', 0, 0);
}

/** A reversal gives back what its original counted, if that was today's count. */
function giveBackLimits(account: AccountState, original: TxnRecord, nowMs: number): void {
  if (original.countedAmount === 0) return;
  rollDay(account, utcDay(nowMs));
  if (original.countedDay !== account.day) return;
  account.dayAmount -= original.countedAmount;
  account.dayCount -= 1;
  if (account.dayAmount < 0 || account.dayCount < 0)
    throw new Error('invariant: daily counters went negative');
}
