import { maskPan } from '../../util/pan.js';
import type { LedgerEffect } from '../effects.js';
import type { TxnRecord } from '../records/txn-record.js';
import { encodeAdvice } from '../storage/state-codec.js';
import type { Actor } from './actor.js';
import type { AdviceOrder, DecisionSink } from './actor-rules.js';
import type { OpenBatch } from './open-batch.js';

/** Routes a decision's records, effects, advices and stand-in totals into the open batch for the actor being run. */
export class BatchSink implements DecisionSink {
  actor!: Actor;
  batch!: OpenBatch;

  /** Seals an advice's PAN (the advice id as record id): the owner's current data key. */
  constructor(private readonly sealPan: (pan: string, recordId: string) => Uint8Array) {}

  advice(order: AdviceOrder): void {
    const { pan } = order;
    this.batch.advices.push({
      issuer: order.issuer,
      data: encodeAdvice(order, this.sealPan(pan, order.id), maskPan(pan)),
    });
  }

  standIn(day: number, amount: number): void {
    this.actor.standIn = { day, amount };
    this.actor.standInDirty = true;
  }

  standInApproved(issuer: string): void {
    this.batch.standInApprovals.push(issuer);
  }

  record(record: TxnRecord): void {
    this.batch.addRecord(this.actor, record);
  }

  effect(effect: LedgerEffect): void {
    this.batch.addEffect(this.actor, effect);
  }
}
