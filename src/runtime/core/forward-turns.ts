import { RC } from '../../protocol/rc.js';
import { codeString } from '../../util/code-source.js';
import type { WorkItem, WorkResult } from '../worker/worker-protocol.js';
import type { Actor } from './actor.js';
import type { ActorRules, DecideContext } from './actor-rules.js';
import type { BatchSink } from './batch-sink.js';
import type { FailedResults } from './failed-results.js';
import type { OpenBatch } from './open-batch.js';
import type { PendingForward } from './pending-forward.js';

export interface ForwardTurnsOptions {
  readonly rules: ActorRules;
  /** The owner's decision context, set per turn. */
  readonly ctx: { -readonly [K in keyof DecideContext]: DecideContext[K] };
  /** The owner's sink into the open batch. */
  readonly sink: BatchSink;
  readonly failures: FailedResults;
  /** Posts results to the main thread now (a forward waits for no commit). */
  readonly post: (results: WorkResult[]) => void;
  /** Runs, in order, completions and reversals that waited for a forward (LedgerCore.runWaiting). */
  readonly runWaiting: (actor: Actor, items: readonly WorkItem[], nowMs: number) => void;
}

/**
 * The issuer routes' turns on an actor (docs/issuers.md): a transaction
 * answered here, forwarded, or joining a forward with the issuer; the
 * forward's end; and the forwards of an actor that leaves memory. Apart
 * from LedgerCore's control flow, which only routes these items here.
 */
export class ForwardTurns {
  /** The forwards of this turn of the event loop, posted together once it ends. */
  private outgoing: WorkResult[] = [];
  private readonly postForwards = (): void => {
    const outgoing = this.outgoing;
    if (outgoing.length === 0) return;
    this.outgoing = [];
    this.o.post(outgoing);
  };

  constructor(private readonly o: ForwardTurnsOptions) {}

  /**
   * A transaction on an issuer route (docs/issuers.md): the rules answer it
   * (a duplicate, 94, what cannot be forwarded), or it is forwarded: kept
   * pending on the actor, in memory only, and handed to the main thread
   * with the switch's rrn; or it joins the forward of its key already with
   * the issuer. The answer of a forward comes with an issuerAnswer's turn.
   */
  route(actor: Actor, item: Extract<WorkItem, { k: 'txn' }>, batch: OpenBatch, nowMs: number): void {
    const issuer = item.issuer!;
    const { req } = item;
    const pending = forwardOf(actor.forwards, item.institution, req.stan, req.time);
    const ctx = this.o.ctx;
    ctx.nowMs = nowMs;
    ctx.institution = item.institution;
    const original =
      req.txnClass === '0220' || req.txnClass === '0400'
        ? forwardOf(actor.forwards, item.institution, req.origStan, req.origTime)
        : undefined;
    const sink = this.o.sink;
    sink.actor = actor;
    sink.batch = batch;
    const decision = this.o.rules.route(
      actor.records,
      actor.standIn,
      pending,
      original,
      issuer,
      req,
      ctx,
      sink,
    );
    if (decision === 'wait') {
      pending!.waiters.push(item.seq);
      return;
    }
    if (decision === 'waitOriginal') {
      original!.after.push(item);
      return;
    }
    if (decision !== 'forward') {
      batch.results.push({ seq: item.seq, k: 'txn', response: decision });
      return;
    }
    ctx.rrns.next(nowMs);
    const forward: PendingForward = {
      institution: item.institution,
      issuer,
      req,
      rrnHead: ctx.rrns.head,
      rrnTail: ctx.rrns.tail,
      waiters: [item.seq],
      after: [],
    };
    actor.forwards ??= [];
    actor.forwards.push(forward);
    // Not with the batch: a forward waits for no commit (nothing of it is durable). The
    // forwards of one turn go in one post (a post each was ~10% of a worker's time and as
    // many message events on the main thread), at the end of the turn: a microtask runs
    // before any other event, so none waits longer than the turn that made it.
    if (this.outgoing.length === 0) queueMicrotask(this.postForwards);
    this.outgoing.push({ seq: item.seq, k: 'forward', rrn: codeString(ctx.rrns.head, ctx.rrns.tail) });
  }

  /**
   * What became of a forward: the rules make its record, effect and
   * response, which every waiting copy gets once this batch is durable. An
   * answer for a key with nothing pending (answered already, or the actor
   * was reloaded meanwhile) changes nothing.
   */
  settle(
    actor: Actor,
    item: Extract<WorkItem, { k: 'issuerAnswer' }>,
    batch: OpenBatch,
    nowMs: number,
  ): void {
    const forwards = actor.forwards;
    const pending = forwardOf(forwards, item.institution, item.stan, item.time);
    if (pending === undefined) {
      batch.results.push({ seq: item.seq, k: 'issuerAnswer', taken: false });
      return;
    }
    forwards!.splice(forwards!.indexOf(pending), 1);
    const ctx = this.o.ctx;
    ctx.nowMs = nowMs;
    ctx.institution = item.institution;
    const sink = this.o.sink;
    sink.actor = actor;
    sink.batch = batch;
    const response = this.o.rules.settle(actor.records, actor.standIn, pending, item.outcome, ctx, sink);
    batch.join(actor);
    for (const seq of pending.waiters) batch.results.push({ seq, k: 'txn', response });
    batch.results.push({ seq: item.seq, k: 'issuerAnswer', taken: true });
    // Completions and reversals that waited for this one's outcome: decided now, in this batch.
    this.o.runWaiting(actor, pending.after, nowMs);
  }

  /**
   * An actor leaving memory with forwards pending (its batch failed): their
   * copies are answered 96, and an answer that comes for them later finds
   * nothing pending. A retry is forwarded again; the issuer knows it by its
   * stan and time.
   */
  abandon(actor: Actor): void {
    const forwards = actor.forwards;
    if (forwards === undefined || forwards.length === 0) return;
    actor.forwards = undefined;
    // The forwards of this turn first: a 96 reaches the main thread after the forward it ends.
    this.postForwards();
    for (const pending of forwards) {
      this.o.post(pending.after.map((item) => this.o.failures.forItem(item)));
      this.o.post(
        pending.waiters.map((seq) => ({
          seq,
          k: 'txn' as const,
          response: { rc: RC.systemMalfunction, rrn: this.o.failures.nextRrn() },
        })),
      );
    }
  }
}

/**
 * The forward pending under a transaction key, if any. An actor has a
 * handful at most (one PAN's transactions with the issuer now), so a scan
 * of its list, comparing the key's parts: a Map under the key as a string
 * built it twice per transaction (stan and time to decimal, then hashed).
 */
function forwardOf(
  forwards: readonly PendingForward[] | undefined,
  institution: string,
  stan: number,
  time: number,
): PendingForward | undefined {
  if (forwards === undefined) return undefined;
  for (let i = 0; i < forwards.length; i++) {
    const f = forwards[i]!;
    if (f.req.stan === stan && f.req.time === time && f.institution === institution) return f;
  }
  return undefined;
}
