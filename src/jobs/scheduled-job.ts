import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../util/log.js';

export interface ScheduledJobOptions {
  /** BullMQ's connection: one that waits out Redis outages (maxRetriesPerRequest null). */
  readonly connection: Redis;
  /** The switch's key prefix: the queue's keys go under `${keyPrefix}:bull`. */
  readonly keyPrefix: string;
  readonly queueName: string;
  /** The scheduler's id: upserted under it, so a restart updates the schedule, never duplicates it. */
  readonly schedulerId: string;
  readonly jobName: string;
  readonly everyMs: number;
  readonly log: Logger;
  /** One pass of the job; a throw is logged (`scheduled job failed`) and the next pass runs as usual. */
  readonly run: () => Promise<unknown>;
}

/**
 * A pass run every `everyMs` by a BullMQ job scheduler, one at a time
 * (concurrency 1) across every switch process on the same Redis: what the
 * switch's background jobs (hold expiry, record sweep) share.
 */
export class ScheduledJob {
  private readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(private readonly o: ScheduledJobOptions) {
    this.queue = new Queue(o.queueName, { connection: o.connection, prefix: `${o.keyPrefix}:bull` });
  }

  async start(): Promise<void> {
    const { o } = this;
    await this.queue.upsertJobScheduler(
      o.schedulerId,
      { every: o.everyMs },
      { name: o.jobName, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.worker = new Worker(o.queueName, async () => o.run(), {
      connection: o.connection,
      prefix: `${o.keyPrefix}:bull`,
      concurrency: 1,
    });
    this.worker.on('failed', (_job, error) => o.log.warn('scheduled job failed', { job: o.jobName, error }));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
