import { RC } from '../../protocol/rc.js';
import type { Proc, TxnRequest } from '../../protocol/request.js';
import { utcDay } from '../../runtime/account.js';
import type {
  AdviceOrder,
  DecideContext,
  DecisionSink,
  PendingForward,
  RouteDecision,
  StandInDay,
} from '../../runtime/core/actor-rules.js';
import type { LedgerEffect } from '../../runtime/effects.js';
import type { RecordIndex } from '../../runtime/records/record-index.js';
import { StoredResponse } from '../../runtime/records/stored-response.js';
import {
  type OriginalState,
  responseOf,
  sideRecord,
  type TxnRecord,
} from '../../runtime/records/txn-record.js';
import type { IssuerOutcome } from '../../runtime/worker/worker-protocol.js';
import { codeString } from '../../util/code-source.js';

/**
 * The issuer rule set (docs/issuers.md): what the switch decides itself for
 * a transaction on an issuer route, and how the issuer's answer (or its
 * absence) becomes the transaction's record, journal effect and response.
 * Pure and synchronous, like the on-us rules; the runtime keeps the pending
 * forwards and persists what these return before any answer leaves.
 */

/** A transaction on an issuer route as its record, effects and advices name it. */
type RoutedTxn = Pick<PendingForward, 'issuer' | 'req' | 'rrnHead' | 'rrnTail'>;

/** The content a duplicate must repeat to be one (section 3): class, amount, currency, proc. */
function sameContent(
  a: { txnClass: string; amount: number; currency: string; proc: string },
  req: TxnRequest,
): boolean {
  return (
    a.txnClass === req.txnClass &&
    a.amount === req.amount &&
    a.currency === req.currency &&
    a.proc === req.proc
  );
}

function switchAnswer(rc: string, ctx: DecideContext): StoredResponse {
  ctx.rrns.next(ctx.nowMs);
  return new StoredResponse(rc, ctx.rrns.head, ctx.rrns.tail, undefined, -1, undefined, undefined, undefined);
}

/**
 * A transaction on an issuer route: the answer the switch gives itself (a
 * duplicate's original answer, 94 for a duplicate key with other content;
 * a completion or reversal, which the switch answers and the issuer learns
 * of by advice), or `forward` (new), or `wait` (a copy of a transaction
 * with the issuer now: it gets that one's answer), or `waitOriginal` (a
 * completion or reversal whose original is with the issuer now: decided
 * once that one is).
 */
export function routeTransaction(
  records: RecordIndex,
  standIn: StandInDay | undefined,
  pending: PendingForward | undefined,
  originalPending: PendingForward | undefined,
  issuer: string,
  req: TxnRequest,
  ctx: DecideContext,
  sink: DecisionSink,
): RouteDecision {
  const existing = records.find(ctx.institution, req.stan, req.time);
  if (existing !== undefined && !existing.tombstone) {
    return sameContent(existing, req) ? responseOf(existing) : switchAnswer(RC.duplicateMismatch, ctx);
  }
  if (pending !== undefined) {
    return sameContent(pending.req, req) ? 'wait' : switchAnswer(RC.duplicateMismatch, ctx);
  }
  if (req.txnClass === '0100' || req.txnClass === '0200') {
    // 05: an earlier reversal named this key before it arrived (the switch answers it, as section 3 says).
    if (existing?.tombstone === true) return own(records, issuer, req, RC.doNotHonour, ctx, sink);
    return 'forward';
  }
  if (originalPending !== undefined) return 'waitOriginal';
  return req.txnClass === '0220'
    ? complete(records, issuer, req, ctx, sink)
    : reverse(records, standIn, issuer, req, ctx, sink);
}

/** A completion of an issuer-approved authorization: answered here, the issuer told by a 0220 advice. */
function complete(
  records: RecordIndex,
  issuer: string,
  req: TxnRequest,
  ctx: DecideContext,
  sink: DecisionSink,
): StoredResponse {
  const original = records.find(ctx.institution, req.origStan, req.origTime);
  if (original === undefined || original.tombstone)
    return own(records, issuer, req, RC.originalNotFound, ctx, sink);
  if (
    original.txnClass !== '0100' ||
    original.proc === '31' ||
    original.state !== 'open' ||
    original.reversedRc !== undefined
  ) {
    return own(records, issuer, req, RC.invalidTransaction, ctx, sink);
  }
  if (req.amount === 0 || req.amount > original.approvedAmount)
    return own(records, issuer, req, RC.invalidAmount, ctx, sink);
  const response = own(records, issuer, req, RC.approved, ctx, sink);
  const txn: RoutedTxn = { issuer, req, rrnHead: response.rrnHead, rrnTail: response.rrnTail };
  original.state = 'completed';
  original.postedAmount = req.amount;
  records.set(original);
  sink.record(original);
  sink.effect(issuerEffect('complete', req.amount, txn, original, ctx));
  sink.effect(issuerEffect('release', original.approvedAmount, txn, original, ctx));
  sink.advice?.(adviceOf(txn, '0220', ctx, undefined, undefined, original));
  return response;
}

/**
 * A reversal on an issuer route: answered here, the issuer told by a 0420
 * advice. One whose original the switch does not know (the switch may have
 * died while the issuer held it) gets 25 and still queues a 0420, so the
 * issuer can release what it may have approved; the key is remembered, so
 * the original arriving later is declined 05.
 */
function reverse(
  records: RecordIndex,
  standIn: StandInDay | undefined,
  issuer: string,
  req: TxnRequest,
  ctx: DecideContext,
  sink: DecisionSink,
): StoredResponse {
  const original = records.find(ctx.institution, req.origStan, req.origTime);
  if (original === undefined || original.tombstone) {
    if (original === undefined) {
      const tombstone = sideRecord({
        key: { institution: ctx.institution, stan: req.origStan, time: req.origTime, refKey: undefined },
        tombstone: true,
        amount: 0,
        currency: req.currency,
        response: StoredResponse.of({ rc: RC.doNotHonour, rrn: '' }),
        atMs: ctx.nowMs,
      });
      records.set(tombstone);
      sink.record(tombstone);
    }
    const response = own(records, issuer, req, RC.originalNotFound, ctx, sink);
    const txn: RoutedTxn = { issuer, req, rrnHead: response.rrnHead, rrnTail: response.rrnTail };
    sink.advice?.(
      adviceOf(txn, '0420', ctx, undefined, undefined, { stan: req.origStan, time: req.origTime }),
    );
    return response;
  }
  if (original.reversedRc !== undefined) return own(records, issuer, req, original.reversedRc, ctx, sink);
  if (original.txnClass !== '0100' && original.txnClass !== '0200')
    return own(records, issuer, req, RC.invalidTransaction, ctx, sink);
  if (original.proc === '31' || original.state === 'expired')
    return own(records, issuer, req, RC.invalidTransaction, ctx, sink);
  if (original.state === 'declined') {
    original.reversedRc = RC.approved;
    records.set(original);
    sink.record(original);
    return own(records, issuer, req, RC.approved, ctx, sink);
  }
  if (req.amount !== original.approvedAmount) return own(records, issuer, req, RC.invalidAmount, ctx, sink);
  const response = own(records, issuer, req, RC.approved, ctx, sink);
  const txn: RoutedTxn = { issuer, req, rrnHead: response.rrnHead, rrnTail: response.rrnTail };
  if (original.txnClass === '0200' && original.proc === '20') {
    sink.effect(issuerEffect('debit', original.postedAmount, txn, original, ctx));
  } else if (original.state === 'open') {
    sink.effect(issuerEffect('release', original.approvedAmount, txn, original, ctx));
  } else {
    sink.effect(issuerEffect('credit', original.postedAmount, txn, original, ctx));
  }
  // A reversed stand-in gives its amount back to the day's stand-in total, if it was today's.
  if (
    original.authHead?.startsWith(STAND_IN_AUTH_PREFIX) === true &&
    standIn?.day === utcDay(original.atMs)
  ) {
    sink.standIn?.(standIn.day, Math.max(0, standIn.amount - original.approvedAmount));
  }
  original.reversedRc = RC.approved;
  records.set(original);
  sink.record(original);
  sink.advice?.(adviceOf(txn, '0420', ctx, undefined, undefined, original));
  return response;
}

/** The switch's own answer to a completion or reversal (or a 05): its record, with a new rrn. */
function own(
  records: RecordIndex,
  issuer: string,
  req: TxnRequest,
  rc: string,
  ctx: DecideContext,
  sink: DecisionSink,
): StoredResponse {
  ctx.rrns.next(ctx.nowMs);
  const txn: RoutedTxn = { issuer, req, rrnHead: ctx.rrns.head, rrnTail: ctx.rrns.tail };
  return finish(records, txn, rc, undefined, undefined, undefined, ctx, sink, false);
}

/**
 * The transaction's end (docs/issuers.md): the issuer's answer as it gave
 * it; or, with none (no answer in time, no connection), a stand-in approval
 * within the issuer's limits (an authCode starting with `S`, never for a
 * balance inquiry) with an advice 0120/0220 queued; else 91, with a 0420
 * queued when the request had been forwarded. Writes the record (so a
 * duplicate gets this answer again) and, for an approval, its journal
 * effect with the issuer named (what clearing reads); no account of this
 * switch changes. Advices go in the same commit as the answer.
 */
export function settleForward(
  records: RecordIndex,
  standIn: StandInDay | undefined,
  pending: PendingForward,
  outcome: IssuerOutcome,
  ctx: DecideContext,
  sink: DecisionSink,
): StoredResponse {
  const { req } = pending;
  if (outcome.k === 'answered') {
    return finish(records, pending, outcome.rc, outcome.authCode, outcome.amount, outcome.balance, ctx, sink);
  }
  const limits = outcome.standIn;
  const day = utcDay(ctx.nowMs);
  const usedToday = standIn?.day === day ? standIn.amount : 0;
  if (
    limits !== undefined &&
    req.proc !== '31' &&
    req.amount <= limits.perTxnMax &&
    usedToday + req.amount <= limits.dailyMax
  ) {
    ctx.authCodes.next(ctx.nowMs);
    const authCode = `${STAND_IN_AUTH_PREFIX}${codeString(ctx.authCodes.head, ctx.authCodes.tail).slice(1)}`;
    sink.standIn?.(day, usedToday + req.amount);
    sink.standInApproved?.(pending.issuer);
    const response = finish(records, pending, RC.approved, authCode, req.amount, undefined, ctx, sink);
    sink.advice?.(
      adviceOf(pending, req.txnClass === '0100' ? '0120' : '0220', ctx, authCode, req.amount, undefined),
    );
    return response;
  }
  const response = finish(records, pending, RC.issuerUnavailable, undefined, undefined, undefined, ctx, sink);
  // The issuer may have approved what it never answered: it is told to release it. Not sent: nothing to release.
  if (outcome.k === 'timeout') sink.advice?.(adviceOf(pending, '0420', ctx, undefined, undefined, undefined));
  return response;
}

/** authCodes of stand-in approvals start with this (docs/protocol.md section 4). */
const STAND_IN_AUTH_PREFIX = 'S';

/** An advice about the pending forward's transaction; a 0420 names it as its original (same stan and time). */
function adviceOf(
  pending: RoutedTxn,
  mti: '0120' | '0220' | '0420',
  ctx: DecideContext,
  authCode: string | undefined,
  approvedAmount: number | undefined,
  /** The completed or reversed transaction; undefined for a 0420 the switch makes of the request itself. */
  original: { readonly stan: number; readonly time: number } | undefined,
): AdviceOrder {
  const { req } = pending;
  const rrn = codeString(pending.rrnHead, pending.rrnTail);
  const orig =
    mti === '0120' ? undefined : mti === '0220' && original === undefined ? undefined : (original ?? req);
  return {
    issuer: pending.issuer,
    pan: req.pan,
    id: `${rrn}.${mti}`,
    mti,
    acquirer: ctx.institution,
    stan: req.stan,
    time: req.time,
    amount: req.amount,
    currency: req.currency,
    proc: req.proc,
    merchant: req.merchant,
    terminal: req.terminal,
    mcc: req.mcc,
    rrn,
    authCode,
    approvedAmount,
    origStan: orig?.stan,
    origTime: orig?.time,
    atMs: ctx.nowMs,
  };
}

/** The record, the journal effect of an approved original (`original`: a forwarded 0100/0200), and the response. */
function finish(
  records: RecordIndex,
  pending: RoutedTxn,
  rc: string,
  authCode: string | undefined,
  amount: number | undefined,
  balance: number | undefined,
  ctx: DecideContext,
  sink: DecisionSink,
  isOriginal = true,
): StoredResponse {
  const { req } = pending;
  const approved = rc === RC.approved || rc === RC.partial;
  const approvedAmount = approved ? (amount ?? req.amount) : 0;
  const response = new StoredResponse(
    rc,
    pending.rrnHead,
    pending.rrnTail,
    approved ? authCode : undefined,
    -1,
    amount,
    balance,
    undefined,
  );
  const inquiry = req.proc === '31';
  let state: OriginalState = 'declined';
  if (approved && isOriginal) state = inquiry ? 'none' : req.txnClass === '0100' ? 'open' : 'posted';
  if (!isOriginal) state = 'none';
  const record: TxnRecord = {
    institution: ctx.institution,
    stan: req.stan,
    time: req.time,
    refKey: undefined,
    tombstone: false,
    txnClass: req.txnClass,
    amount: req.amount,
    currency: req.currency,
    proc: req.proc,
    rc,
    rrnHead: response.rrnHead,
    rrnTail: response.rrnTail,
    authHead: response.authHead,
    authTail: -1,
    respAmount: response.amount,
    respBalance: response.balance,
    error: undefined,
    state,
    approvedAmount: isOriginal ? approvedAmount : 0,
    postedAmount: state === 'posted' ? approvedAmount : 0,
    reversedRc: undefined,
    countedDay: 0,
    countedAmount: 0,
    atMs: ctx.nowMs,
    holdExpiresAtMs: 0,
    batch: undefined,
  };
  // Into the actor's records (a duplicate finds it there) and the batch's (the commit writes it).
  records.set(record);
  sink.record(record);
  if (state === 'open' || state === 'posted') {
    sink.effect(issuerEffect(effectKindOf(req), approvedAmount, pending, undefined, ctx));
  }
  return response;
}

/** From the card's side: an authorization holds, a purchase or cash debits, a refund credits. */
function effectKindOf(req: TxnRequest): LedgerEffect['kind'] {
  if (req.txnClass === '0100') return 'hold';
  return req.proc === '20' ? 'credit' : 'debit';
}

function issuerEffect(
  kind: LedgerEffect['kind'],
  amount: number,
  pending: RoutedTxn,
  original: TxnRecord | undefined,
  ctx: DecideContext,
): LedgerEffect {
  const { req } = pending;
  return {
    kind,
    amount,
    issuer: pending.issuer,
    mti: req.txnClass,
    institution: ctx.institution,
    stan: req.stan,
    time: req.time,
    refKey: undefined,
    original,
    proc: (original?.proc || req.proc) as Proc,
    currency: req.currency,
    atMs: ctx.nowMs,
    rrnHead: pending.rrnHead,
    rrnTail: pending.rrnTail,
  };
}
