import { ScheduledJob, type ScheduledJobBase } from '../jobs/scheduled-job.js';
import { holdBucketOf, type KeySpace, LOG_PARTITION_COUNT } from '../store/keys.js';
import type { LedgerEngine } from './ledger-engine.js';
import type { ExpireOutcome } from './worker-protocol.js';

/** Holds handled per pass at most: bounds one pass's memory and time; the rest waits for the next pass. */
export const HOLDS_PER_PASS_MAX = 200_000;
export const HOLD_EXPIRY_QUEUE = 'switchyard-hold-expiry';
const SCHEDULER_ID = 'hold-expiry';

export interface HoldExpiryOptions extends ScheduledJobBase {
  readonly keys: KeySpace;
  readonly ledger: LedgerEngine;
  readonly nowMs?: () => number;
}

/**
 * Releases holds older than holdTtlMs (PROTOCOL.md section 5) as a BullMQ job
 * scheduler. Holds are listed in per-log-partition expiry buckets (HOLD_BUCKET_MS
 * wide) when they are placed; the job reads the buckets that are entirely in
 * the past and asks each hold's owning actor to release it (never behind its
 * back). The actor decides: still open and due -> released and journaled;
 * closed meanwhile -> nothing to do.
 */
export class HoldExpiry {
  private readonly job: ScheduledJob;

  constructor(private readonly o: HoldExpiryOptions) {
    const names = { queueName: HOLD_EXPIRY_QUEUE, schedulerId: SCHEDULER_ID, jobName: 'expire-holds' };
    this.job = new ScheduledJob(o, names, () => this.runOnce());
  }

  start(): Promise<void> {
    return this.job.start();
  }

  /**
   * One pass: every log partition's due buckets (entirely in the past), each hold
   * handed to its actor. A bucket is deleted only when none of its holds
   * needs a retry, so a worker restart mid-pass loses nothing: the next pass
   * asks again, and holds already released answer 'closed'. Returns how many
   * holds were released.
   */
  async runOnce(): Promise<number> {
    const nowMs = (this.o.nowMs ?? Date.now)();
    const dueBefore = holdBucketOf(nowMs);
    const { connection, keys, ledger } = this.o;
    const listing = connection.pipeline();
    for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++)
      listing.smembers(keys.holdBuckets(partition));
    const sets = (await listing.exec()) ?? [];
    const due: { partition: number; bucket: number }[] = [];
    sets.forEach(([error, members], partition) => {
      if (error !== null) throw error;
      for (const member of members as string[]) {
        const bucket = Number(member);
        if (bucket < dueBefore) due.push({ partition, bucket });
      }
    });
    let released = 0;
    let handled = 0;
    for (const { partition, bucket } of due) {
      if (handled >= HOLDS_PER_PASS_MAX) break;
      const key = keys.holdBucket(partition, bucket);
      const members = await connection.lrange(key, 0, -1);
      handled += members.length;
      const outcomes = await Promise.all(
        members.map((member) => {
          const cut = member.indexOf('#');
          return cut > 0
            ? ledger.expire(member.slice(0, cut), member.slice(cut + 1))
            : Promise.resolve<ExpireOutcome>('closed');
        }),
      );
      released += outcomes.filter((o) => o === 'released').length;
      if (outcomes.every((o) => o !== 'retry')) {
        await connection.multi().del(key).srem(keys.holdBuckets(partition), String(bucket)).exec();
      }
    }
    if (released > 0) this.o.log.info('released expired holds', { released });
    return released;
  }

  close(): Promise<void> {
    return this.job.close();
  }
}
