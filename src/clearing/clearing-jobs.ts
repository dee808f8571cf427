import { fileURLToPath } from 'node:url';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/log.js';
import { RepeatLog } from '../observability/repeat-log.js';
import { type KeySpace, LOG_PARTITION_COUNT } from '../store/keys.js';
import { storeNowMs } from '../store/store-clock.js';
import type { ClearingJobData, ClearingWorkerData } from './clearing-processor.js';
import { type CycleRange, CycleStore } from './cycle-store.js';
import { renderSettlementJson } from './settlement.js';

export const CLEARING_QUEUE = 'switchyard-clearing';
/** Attempts of a cycle's job before its settlement is `failed` (a Redis outage, a full disk). */
const CLEARING_ATTEMPTS = 5;
const CLEARING_BACKOFF_MS = 2_000;
/**
 * A clearing job's lock, renewed every half of it while it runs: a worker
 * killed mid-job is noticed by a stalled check within about this, and its
 * job is run again by any worker (the files are written whole or not at all).
 */
const CLEARING_LOCK_MS = 10_000;
const CLEARING_STALLED_CHECK_MS = 5_000;
const JOBS_KEPT = 1_000;
/** How often due cycles are looked for: the cut is the boundary whenever the check runs. */
const CLOSE_CHECK_EVERY_MS_MAX = 1_000;

/** BullMQ job ids: not a bare integer, no ':' (docs/clearing.md). */
export const clearingJobId = (cycle: number): string => `cycle-${cycle}`;

/** Why a rerun was refused. */
export type RerunRefusal = 'unknown' | 'running';

export interface ClearingJobsOptions {
  /** BullMQ's connection: one that waits out Redis outages (maxRetriesPerRequest null). */
  readonly connection: Redis;
  readonly keys: KeySpace;
  readonly cycleMs: number;
  /** What the processor needs, handed to its worker thread. */
  readonly worker: ClearingWorkerData;
  /** Run the clearing worker here (the switch does; `switchyard clearing worker` only runs it). */
  readonly runWorker: boolean;
  /** Close due cycles on a schedule here (the switch does; a standalone worker does not). */
  readonly closeCycles: boolean;
  readonly log: Logger;
  /** A cycle's job ended: `done`, or `failed` for good (switchyard_clearing_cycles_total). */
  readonly ended?: (status: 'done' | 'failed') => void;
  /** A job run (one attempt) ended, done or failed, after `seconds` (switchyard_clearing_job_duration_seconds). */
  readonly ran?: (seconds: number) => void;
}

/**
 * Clearing on BullMQ (docs/clearing.md): closes cycles (on the store's clock,
 * at each multiple of clearing.cycleMs, or on a cutoff), gives each closed
 * cycle its job under a deterministic id, reruns one on request, and runs
 * the jobs' processor in BullMQ's sandboxed worker threads, so reading the
 * journal and rendering files never runs on the thread that serves
 * connections.
 */
export class ClearingJobs {
  readonly cycles: CycleStore;
  private readonly queue: Queue<ClearingJobData>;
  private worker: Worker<ClearingJobData> | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private closing: Promise<unknown> = Promise.resolve();
  private readonly redisErrors: RepeatLog;

  constructor(private readonly o: ClearingJobsOptions) {
    this.cycles = new CycleStore(o.connection, o.keys, o.cycleMs);
    this.queue = new Queue(CLEARING_QUEUE, { connection: o.connection, prefix: `${o.keys.prefix}:bull` });
    this.redisErrors = new RepeatLog(o.log, 'warn', 'clearing: redis error');
    this.queue.on('error', (error) => this.redisErrors.note({ error }));
  }

  async start(): Promise<void> {
    if (this.o.runWorker) this.startWorker();
    if (!this.o.closeCycles) return;
    if (await this.cycles.openFirst(await firstJournalMs(this.o.connection, this.o.keys))) {
      this.o.log.info('clearing cycle 1 opened');
    }
    // Once per store: cycles closed by a build older than the progress index join it.
    if (await this.cycles.indexProgress()) this.o.log.info('clearing progress index built');
    await this.closeDue();
    // Cycles closed by a process that died before enqueuing their jobs.
    for (const cycle of await this.cycles.unfinished()) await this.enqueue(cycle);
    this.closeTimer = setInterval(
      () => void this.closeDue(),
      Math.min(CLOSE_CHECK_EVERY_MS_MAX, Math.max(1, Math.floor(this.o.cycleMs / 10))),
    );
    this.closeTimer.unref();
  }

  /** POST /clearing/cutoff: closes what is due and the open cycle now; the number of the cycle it closed. */
  async cutoff(): Promise<number> {
    const closed = await this.serially(() => this.cycles.cutoff());
    await this.enqueueAll(closed);
    return closed.at(-1)!.cycle;
  }

  /**
   * POST /clearing/cycles/{cycle}/rerun: runs a closed cycle's job again,
   * unless it is queued or running now. One at a time in this process, with
   * the cuts: a second rerun sees the first one's job queued.
   */
  rerun(cycle: number): Promise<RerunRefusal | undefined> {
    return this.serially(() => this.rerunNow(cycle));
  }

  private async rerunNow(cycle: number): Promise<RerunRefusal | undefined> {
    if ((await this.cycles.range(cycle)) === undefined) return 'unknown';
    const job = await this.queue.getJob(clearingJobId(cycle));
    if (job !== undefined) {
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return 'running';
      await job.remove();
    }
    await this.cycles.reopen(cycle);
    await this.enqueue(cycle);
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closeTimer !== undefined) clearInterval(this.closeTimer);
    this.closeTimer = undefined;
    await this.closing.catch(() => {});
    // Lets a running job finish (or, past BullMQ's close, be taken up by another worker: its lock lapses).
    await this.worker?.close();
    await this.queue.close();
  }

  private startWorker(): void {
    const processor = fileURLToPath(new URL('./clearing-processor.js', import.meta.url));
    const worker = new Worker<ClearingJobData>(CLEARING_QUEUE, processor, {
      connection: this.o.connection,
      prefix: `${this.o.keys.prefix}:bull`,
      concurrency: 1,
      useWorkerThreads: true,
      // BullMQ hands the sandbox thread this process's execArgv explicitly, and node refuses V8
      // flags there (ERR_WORKER_INVALID_EXEC_ARGV: every job failed when the switch ran as
      // docs/operations.md says, `node --no-memory-reducer ...`). The processor needs none.
      workerThreadsOptions: { workerData: this.o.worker, execArgv: [] },
      lockDuration: CLEARING_LOCK_MS,
      stalledInterval: CLEARING_STALLED_CHECK_MS,
      maxStalledCount: CLEARING_ATTEMPTS,
    });
    worker.on('error', (error) => this.redisErrors.note({ error }));
    worker.on('completed', (job: Job<ClearingJobData>) => {
      this.noteRun(job);
      this.o.log.info('clearing cycle done', { cycle: job.data.cycle, ...(job.returnvalue as object) });
      this.o.ended?.('done');
    });
    worker.on('failed', (job: Job<ClearingJobData> | undefined, error: Error) => {
      if (job === undefined) return;
      this.noteRun(job);
      const attemptsMax = job.opts.attempts ?? 1;
      const final = job.attemptsMade >= attemptsMax || error.name === 'UnrecoverableError';
      const fields = { cycle: job.data.cycle, attempts: job.attemptsMade, attemptsMax, error };
      if (!final) {
        this.o.log.warn('clearing job failed; it is tried again', fields);
        return;
      }
      this.o.log.error('clearing cycle failed', fields);
      void this.markFailed(job.data.cycle);
      this.o.ended?.('failed');
    });
    this.worker = worker;
  }

  /**
   * A run's duration from BullMQ's own stamps: processedOn (the attempt
   * taken) and finishedOn (done or failed), both this process's clock, since
   * the worker that ran it lives here.
   */
  private noteRun(job: Job<ClearingJobData>): void {
    const startedMs = job.processedOn;
    if (startedMs === undefined || startedMs === null) return;
    this.o.ran?.(Math.max(0, (job.finishedOn ?? Date.now()) - startedMs) / 1000);
  }

  /** A job that gave up: its settlement says so (the processor's own refusals have already written it). */
  private async markFailed(cycle: number): Promise<void> {
    try {
      if ((await this.cycles.status(cycle)) === 'failed') return;
      const failed = { cycle, status: 'failed' as const, items: 0, positions: [] };
      await this.cycles.setSettlementText(cycle, renderSettlementJson(failed));
    } catch (error) {
      this.o.log.warn('clearing: could not mark a cycle failed', { cycle, error });
    }
  }

  private async closeDue(): Promise<void> {
    try {
      const closed = await this.serially(() => this.cycles.closeDue());
      await this.enqueueAll(closed);
    } catch (error) {
      this.redisErrors.note({ error });
    }
  }

  /** Cuts and reruns one at a time in this process (a cut is atomic in Redis anyway; this keeps the log in order). */
  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.closing.catch(() => {}).then(step);
    this.closing = next;
    return next;
  }

  private async enqueueAll(closed: readonly CycleRange[]): Promise<void> {
    for (const range of closed) {
      this.o.log.info('clearing cycle closed', { ...range });
      await this.enqueue(range.cycle);
    }
  }

  /** Adds the cycle's job; BullMQ keeps one job per id, so adding it again while it exists adds nothing. */
  private async enqueue(cycle: number): Promise<void> {
    await this.queue.add(
      'clear',
      { cycle },
      {
        jobId: clearingJobId(cycle),
        attempts: CLEARING_ATTEMPTS,
        backoff: { type: 'exponential', delay: CLEARING_BACKOFF_MS },
        removeOnComplete: JOBS_KEPT,
        removeOnFail: JOBS_KEPT,
      },
    );
  }
}

/** The store-clock ms of the journal's first entry over every partition, or the store's now when it has none. */
async function firstJournalMs(redis: Redis, keys: KeySpace): Promise<number> {
  let first = await storeNowMs(redis);
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    const [entry] = await redis.xrange(keys.journal(partition), '-', '+', 'COUNT', 1);
    if (entry !== undefined) first = Math.min(first, Number(entry[0].split('-')[0]));
  }
  return first;
}
