import type { LedgerEffect } from '../effects.js';
import type { TxnRecord } from '../txn-record.js';
import type { WorkResult } from '../worker-protocol.js';
import type { Actor } from './actor.js';

/**
 * The work a worker decided since its last commit was sent: the results to
 * release once the commit returns, and every change to persist. One batch is
 * open (collecting) while at most one other is committing.
 */
export class OpenBatch {
  readonly results: WorkResult[] = [];
  readonly actors: Actor[] = [];
  /** Version each joined actor is expected to have in Redis (parallel to `actors`). */
  readonly expectedVersions: number[] = [];
  readonly records: { readonly actor: Actor; readonly record: TxnRecord }[] = [];
  private readonly recordSet = new Set<TxnRecord>();
  readonly effects: { readonly actor: Actor; readonly effect: LedgerEffect }[] = [];

  constructor(readonly id: number) {}

  /** Adds an actor whose state this batch writes; its version moves on by one per batch. */
  join(actor: Actor): void {
    if (actor.batchId === this.id) return;
    actor.batchId = this.id;
    this.expectedVersions.push(actor.version);
    actor.version += 1;
    if (actor.account !== undefined) actor.account.version = actor.version;
    this.actors.push(actor);
  }

  addRecord(actor: Actor, record: TxnRecord): void {
    if (this.recordSet.has(record)) return;
    this.recordSet.add(record);
    this.records.push({ actor, record });
  }

  addEffect(actor: Actor, effect: LedgerEffect): void {
    this.effects.push({ actor, effect });
  }

  get hasWrites(): boolean {
    return this.actors.length > 0;
  }
}
