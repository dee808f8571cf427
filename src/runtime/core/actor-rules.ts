import type { TxnRequest } from '../../protocol/request.js';
import type { CodeSource } from '../../util/code-source.js';
import type { AccountState } from '../account.js';
import type { LedgerEffect } from '../effects.js';
import type { RecordIndex } from '../records/record-index.js';
import type { StoredResponse } from '../records/stored-response.js';
import type { TxnRecord } from '../records/txn-record.js';
import type { AdviceRecord } from '../storage/state-codec.js';
import type { AdminOutcome, ExpireOutcome, IssuerOutcome, WorkItem } from '../worker/worker-protocol.js';
import type { Actor } from './actor.js';
import type { PendingForward, StandInDay } from './pending-forward.js';

export type { PendingForward, StandInDay } from './pending-forward.js';

import type { OpenBatch } from './open-batch.js';

/**
 * The seam between the actor runtime and the rules that run on it. The
 * runtime owns everything a rule set should not have to think about:
 * actors by PAN and by stored ref with one writer each, their mailboxes, loading from Redis,
 * transaction records and exactly-once by key, group commit with the
 * journal, fencing, eviction and passivation. A rule set decides one item
 * on one ready actor, synchronously, writing records and effects through
 * the sink or the open batch; the runtime persists them before any answer
 * leaves. The on-us ledger (src/rules/onus) is one rule set; issuer routing
 * is built as another on the same runtime, so forwarded and stand-in
 * transactions get the same durability, journal and exactly-once.
 */
export interface ActorRules {
  /** One transaction on an account this switch holds; returns the response fields. */
  decide(
    account: AccountState,
    records: RecordIndex,
    req: TxnRequest,
    ctx: DecideContext,
    sink: DecisionSink,
  ): StoredResponse;
  /** The admin API's account calls and hold expiry, on the owning actor. */
  get(actor: Actor): AdminOutcome;
  /** `identity` makes what a new account stores of its PAN (sealed and masked): called only to create one. */
  put(
    actor: Actor,
    item: Extract<WorkItem, { k: 'put' }>,
    identity: () => Pick<AccountState, 'panSealed' | 'panMasked'>,
    batch: OpenBatch,
    nowMs: number,
  ): AdminOutcome;
  adjust(
    actor: Actor,
    item: Extract<WorkItem, { k: 'adjust' }>,
    batch: OpenBatch,
    nowMs: number,
  ): AdminOutcome;
  expire(actor: Actor, recordKey: string, batch: OpenBatch, nowMs: number): ExpireOutcome;
  /**
   * A transaction on an issuer route (docs/issuers.md): the switch's own
   * answer, or `forward` (new: the runtime keeps it pending and the main
   * thread sends it), or `wait` (a copy of the pending forward under its
   * key: it gets that one's answer), or `waitOriginal` (a completion or
   * reversal whose original is with the issuer: run again once it is
   * settled). `pending` and `originalPending` are the forwards under the
   * request's key and its original's, if with the issuer now.
   */
  route(
    records: RecordIndex,
    standIn: StandInDay | undefined,
    pending: PendingForward | undefined,
    originalPending: PendingForward | undefined,
    issuer: string,
    req: TxnRequest,
    ctx: DecideContext,
    sink: DecisionSink,
  ): RouteDecision;
  /** What became of a pending forward: its record and effects through the sink; the response. */
  settle(
    records: RecordIndex,
    standIn: StandInDay | undefined,
    pending: PendingForward,
    outcome: IssuerOutcome,
    ctx: DecideContext,
    sink: DecisionSink,
  ): StoredResponse;
}

export type RouteDecision = StoredResponse | 'forward' | 'wait' | 'waitOriginal';

/** What a decision reads besides the account: the batch's clock and the owner's code generators. */
export interface DecideContext {
  readonly nowMs: number;
  readonly holdTtlMs: number;
  /** The acquirer's institution (from the session). */
  readonly institution: string;
  /** rrn and authCode generators, moved on with the decision's `nowMs` (no clock read per approval). */
  readonly rrns: CodeSource;
  readonly authCodes: CodeSource;
}

/** Where a decision's records and effects go: the actor's open batch, or arrays for tests. */
export interface DecisionSink {
  /** A record to write (new, or an original a 0220/0400 changed). */
  record(record: TxnRecord): void;
  /** A balance-changing effect to journal (the account changed). */
  effect(effect: LedgerEffect): void;
  /** An advice to queue for an issuer, in the same commit (issuer routes only; the runtime seals its PAN). */
  advice?(order: AdviceOrder): void;
  /** The PAN's stand-in approvals of the UTC day `day` now total `amount` (issuer routes only). */
  standIn?(day: number, amount: number): void;
  /** A forward to `issuer` approved by stand-in: counted once its commit is confirmed (metrics). */
  standInApproved?(issuer: string): void;
}

/** An advice as the rules order it (docs/issuers.md); the runtime seals the PAN and writes it. */
export type AdviceOrder = Omit<AdviceRecord, 'panSealed' | 'panMasked'> & {
  readonly issuer: string;
  readonly pan: string;
};
