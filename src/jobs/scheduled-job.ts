import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/log.js';
import { RepeatLog } from '../observability/repeat-log.js';

/** What a background job's options carry for its scheduler (HoldExpiryOptions, RecordSweepOptions). */
export interface ScheduledJobBase {
  /** BullMQ's connection: one that waits out Redis outages (maxRetriesPerRequest null). */
  readonly connection: Redis;
  /** The switch's key space: the queue's keys go under `${prefix}:bull`. */
  readonly keys: { readonly prefix: string };
  readonly everyMs: number;
  readonly log: Logger;
}

export interface ScheduledJobNames {
  readonly queueName: string;
  /** The scheduler's id: upserted under it, so a restart updates the schedule, never duplicates it. */
  readonly schedulerId: string;
  readonly jobName: string;
}

/**
 * A pass run every `everyMs` by a BullMQ job scheduler, one at a time
 * (concurrency 1) across every switch process on the same Redis: what the
 * switch's background jobs (hold expiry, record sweep) share.
 */
export class ScheduledJob {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly redisErrors: RepeatLog;

  /** `run` is one pass; a throw is logged (`scheduled job failed`) and the next pass runs as usual. */
  constructor(
    private readonly o: ScheduledJobBase,
    private readonly names: ScheduledJobNames,
    private readonly run: () => Promise<unknown>,
  ) {
    this.queue = new Queue(names.queueName, { connection: o.connection, prefix: `${o.keys.prefix}:bull` });
    this.redisErrors = new RepeatLog(o.log, 'warn', 'scheduled job: redis error');
    // BullMQ prints an 'error' nobody listens to on stderr, unstructured, once per reconnect attempt.
    this.queue.on('error', (error) => this.redisErrors.note({ job: names.jobName, error }));
  }

  async start(): Promise<void> {
    const { o, names } = this;
    await this.queue.upsertJobScheduler(
      names.schedulerId,
      { every: o.everyMs },
      { name: names.jobName, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.worker = new Worker(names.queueName, async () => this.run(), {
      connection: o.connection,
      prefix: `${o.keys.prefix}:bull`,
      concurrency: 1,
    });
    this.worker.on('error', (error) => this.redisErrors.note({ job: names.jobName, error }));
    this.worker.on('failed', (_job, error) =>
      o.log.warn('scheduled job failed', { job: names.jobName, error }),
    );
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
