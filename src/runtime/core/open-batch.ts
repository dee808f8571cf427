import type { LedgerEffect } from '../effects.js';
import type { TxnRecord } from '../records/txn-record.js';
import type { WorkResult } from '../worker/worker-protocol.js';
import type { Actor } from './actor.js';

/**
 * The work a worker decided since its last commit was sent: the results to
 * release once the commit returns, and every change to persist. One batch is
 * open (collecting) while at most one other is committing.
 */
export class OpenBatch {
  readonly results: WorkResult[] = [];
  readonly actors: Actor[] = [];
  /** Effects to journal, in decision order, and the actor of each (parallel arrays: no pair object per effect). */
  readonly effects: LedgerEffect[] = [];
  readonly effectActors: Actor[] = [];
  /** Records to write, in decision order; each actor lists its own by position (Actor.dirtyAt). */
  readonly records: TxnRecord[] = [];
  /** Advices to append to their issuers' queues (encoded, PAN sealed), in decision order. */
  readonly advices: { readonly issuer: string; readonly data: Buffer }[] = [];
  /** The issuer of each stand-in approval decided in this batch (counted for metrics once it is released). */
  readonly standInApprovals: string[] = [];

  constructor(readonly id: number) {}

  /** Adds an actor whose state this batch writes (once per batch). */
  join(actor: Actor): void {
    if (actor.batchId === this.id) return;
    actor.batchId = this.id;
    this.actors.push(actor);
  }

  /** A record to write with this batch (once per batch: its `batch` says it is listed already). */
  addRecord(actor: Actor, record: TxnRecord): void {
    this.join(actor);
    if (record.batch === this.id) return;
    // Written before (by an earlier batch, or read back from Redis: 0): its older version in the log is dead now.
    if (record.batch !== undefined) actor.rewrittenRecords++;
    record.batch = this.id;
    actor.dirtyAt.push(this.records.push(record) - 1);
  }

  addEffect(actor: Actor, effect: LedgerEffect): void {
    this.join(actor);
    this.effects.push(effect);
    this.effectActors.push(actor);
  }

  get hasWrites(): boolean {
    return this.actors.length > 0;
  }
}
