import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type KeySpace, SHARD_COUNT } from '../store/keys.js';
import type { Logger } from '../util/log.js';
import type { LedgerEngine } from './ledger-engine.js';

/** Due holds read per shard per pass: bounds one job's memory and time. */
const DUE_HOLDS_PER_SHARD_MAX = 1_000;
export const HOLD_EXPIRY_QUEUE = 'switchyard-hold-expiry';
const SCHEDULER_ID = 'hold-expiry';

export interface HoldExpiryOptions {
  readonly connection: Redis;
  readonly keys: KeySpace;
  readonly ledger: LedgerEngine;
  readonly everyMs: number;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

/**
 * Releases holds older than holdTtlMs (PROTOCOL.md section 5) as a BullMQ job
 * scheduler. The job only finds due holds in the shards' hold indexes; each
 * release runs through the owning actor (never behind its back), which
 * journals it and removes it from the index in its commit.
 */
export class HoldExpiry {
  private readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(private readonly o: HoldExpiryOptions) {
    this.queue = new Queue(HOLD_EXPIRY_QUEUE, { connection: o.connection, prefix: `${o.keys.prefix}:bull` });
  }

  async start(): Promise<void> {
    // The one place the scheduler is upserted: same id, so a restart updates it, never duplicates it.
    await this.queue.upsertJobScheduler(
      SCHEDULER_ID,
      { every: this.o.everyMs },
      { name: 'expire-holds', opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.worker = new Worker(HOLD_EXPIRY_QUEUE, async () => this.runOnce(), {
      connection: this.o.connection,
      prefix: `${this.o.keys.prefix}:bull`,
      concurrency: 1,
    });
    this.worker.on('failed', (_job, error) => this.o.log.warn('hold expiry pass failed', { error }));
  }

  /** One pass over every shard; returns how many holds were released. */
  async runOnce(): Promise<number> {
    const nowMs = (this.o.nowMs ?? Date.now)();
    const { connection, keys, ledger } = this.o;
    const pipeline = connection.pipeline();
    for (let shard = 0; shard < SHARD_COUNT; shard++)
      pipeline.zrangebyscore(keys.holds(shard), 0, nowMs, 'LIMIT', 0, DUE_HOLDS_PER_SHARD_MAX);
    const replies = (await pipeline.exec()) ?? [];
    const due: Promise<boolean>[] = [];
    for (const [error, members] of replies) {
      if (error !== null) throw error;
      for (const member of members as string[]) {
        const cut = member.indexOf('#');
        if (cut > 0) due.push(ledger.expire(member.slice(0, cut), member.slice(cut + 1)));
      }
    }
    const released = (await Promise.all(due)).filter(Boolean).length;
    if (released > 0) this.o.log.info('released expired holds', { released });
    return released;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
