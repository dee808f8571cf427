import { RC } from '../../protocol/rc.js';
import type { Proc, TxnRequest } from '../../protocol/request.js';
import type {
  DecideContext,
  DecisionSink,
  PendingForward,
  RouteDecision,
} from '../../runtime/core/actor-rules.js';
import type { LedgerEffect } from '../../runtime/effects.js';
import type { RecordIndex } from '../../runtime/records/record-index.js';
import { StoredResponse } from '../../runtime/records/stored-response.js';
import { type OriginalState, responseOf, type TxnRecord } from '../../runtime/records/txn-record.js';
import type { IssuerOutcome } from '../../runtime/worker/worker-protocol.js';

/**
 * The issuer rule set (docs/issuers.md): what the switch decides itself for
 * a transaction on an issuer route, and how the issuer's answer (or its
 * absence) becomes the transaction's record, journal effect and response.
 * Pure and synchronous, like the on-us rules; the runtime keeps the pending
 * forwards and persists what these return before any answer leaves.
 */

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
 * duplicate's original answer, 94 for a duplicate key with other content,
 * 91 for what cannot be forwarded yet), or `forward` (new) or `wait` (a
 * copy of a transaction with the issuer now: it gets that one's answer).
 */
export function routeTransaction(
  records: RecordIndex,
  pending: PendingForward | undefined,
  req: TxnRequest,
  ctx: DecideContext,
): RouteDecision {
  const existing = records.find(ctx.institution, req.stan, req.time);
  if (existing !== undefined && !existing.tombstone) {
    return sameContent(existing, req) ? responseOf(existing) : switchAnswer(RC.duplicateMismatch, ctx);
  }
  if (pending !== undefined) {
    return sameContent(pending.req, req) ? 'wait' : switchAnswer(RC.duplicateMismatch, ctx);
  }
  // Completions and reversals reach the issuer as advices, which come with store-and-forward.
  if (req.txnClass === '0220' || req.txnClass === '0400') return switchAnswer(RC.issuerUnavailable, ctx);
  return 'forward';
}

/**
 * The transaction's end: the issuer's answer as it gave it, or 91 when it
 * gave none in time or could not be reached (stand-in comes with its
 * limits). Writes the record (so a duplicate gets this answer again) and,
 * for an approval, its journal effect with the issuer named (what clearing
 * reads); no account of this switch changes.
 */
export function settleForward(
  records: RecordIndex,
  pending: PendingForward,
  outcome: IssuerOutcome,
  ctx: DecideContext,
  sink: DecisionSink,
): StoredResponse {
  const { req } = pending;
  const answered = outcome.k === 'answered' ? outcome : undefined;
  const rc = answered?.rc ?? RC.issuerUnavailable;
  const approved = rc === RC.approved || rc === RC.partial;
  const approvedAmount = approved ? (answered?.amount ?? req.amount) : 0;
  const response = new StoredResponse(
    rc,
    pending.rrnHead,
    pending.rrnTail,
    approved ? answered?.authCode : undefined,
    -1,
    answered?.amount,
    answered?.balance,
    undefined,
  );
  const inquiry = req.proc === '31';
  let state: OriginalState = 'declined';
  if (approved && !inquiry) state = req.txnClass === '0100' ? 'open' : 'posted';
  if (approved && inquiry) state = 'none';
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
    approvedAmount,
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
    sink.effect(issuerEffect(effectKindOf(req), approvedAmount, pending, ctx));
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
  pending: PendingForward,
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
    original: undefined,
    proc: req.proc as Proc,
    currency: req.currency,
    atMs: ctx.nowMs,
    rrnHead: pending.rrnHead,
    rrnTail: pending.rrnTail,
  };
}
