import { type Job, Queue, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/log.js';
import { RepeatLog } from '../observability/repeat-log.js';
import type { LedgerEngine } from '../runtime/ledger-engine.js';
import type { RotationOutcome } from '../runtime/worker/worker-protocol.js';
import type { KeyFile } from '../security/key-file.js';
import type { KeySpace, StoredAccountRef } from '../store/keys.js';
import { walkKeys } from './key-walk.js';

export const KEY_ROTATION_QUEUE = 'switchyard-key-rotation';
/**
 * A rotation job's lock: renewed every half of it while the job runs. After
 * a crash the job is taken up again once its lock expired and a stalled
 * check (every ROTATION_STALLED_CHECK_MS) saw it: within ~10 s of a
 * restart, not BullMQ's default ~60 s.
 */
const ROTATION_LOCK_MS = 6_000;
const ROTATION_STALLED_CHECK_MS = 3_000;
/** A job is idempotent and resumes from its cursor: it may be taken up again after any number of crashes. */
const ROTATION_STALLS_MAX = 1_000_000;
/** A pass that threw (Redis away) is tried again after this, from its cursor. */
const ROTATION_RETRY_DELAY_MS = 5_000;
/** Between cycles when some accounts could not be asked (a worker restarting). */
const ROTATION_CYCLE_PAUSE_MS = 1_000;
/** Rotation jobs kept once ended: a job id seen again (a restart, a second SIGHUP) is not run twice. */
const ROTATION_JOBS_KEPT = 1_000;

export interface KeyRotationOptions {
  /** BullMQ's connection: one that waits out Redis outages (maxRetriesPerRequest null). */
  readonly connection: Redis;
  readonly keys: KeySpace;
  readonly ledger: Pick<LedgerEngine, 'reseal' | 'settled'>;
  /** The data keys in use now (they change on SIGHUP). */
  readonly currentKeys: () => KeyFile;
  /** Accounts asked per second at most (ledger.rotationAccountsPerSecondMax). */
  readonly accountsPerSecondMax: number;
  readonly log: Logger;
}

/** What a re-seal job did (its BullMQ return value, and its last log line). */
export interface ResealTally {
  /** Another data key became current while it ran: the job for that key does the work. */
  superseded: boolean;
  /** Accounts asked, and what they answered. */
  asked: number;
  resealed: number;
  current: number;
  absent: number;
  unreadable: number;
  /** Cycles over the keyspace (more than one when some accounts had to be asked again). */
  cycles: number;
}

/**
 * The key rotation jobs of docs/security.md "Rotation", on one BullMQ queue
 * worked one job at a time across every switch process on the same Redis.
 * Each job has a deterministic id naming the key it rotates to
 * (`reseal-<currentDataKeyId>`), so enqueuing it again at every start and
 * reload adds nothing while it runs or once it ended.
 *
 * The re-seal job walks every account key (a SCAN cursor saved in Redis
 * after each step: a job stopped or killed goes on from it) and asks each
 * account's owning actor, through the ledger, to re-seal its PAN if an older
 * data key sealed it: one writer per account, and the answer comes after
 * the commit, so the cursor never passes an account whose re-seal is not
 * durable. Before walking, it waits until every owner released what it
 * decided before (LedgerEngine.settled): a new account sealed under the old
 * key just before the reload is in Redis by then, so the walk cannot miss
 * it (SCAN may miss keys created while it runs; after the reload every new
 * seal uses the new key).
 */
export class KeyRotation {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private stopping = false;
  private readonly redisErrors: RepeatLog;

  constructor(private readonly o: KeyRotationOptions) {
    const prefix = `${o.keys.prefix}:bull`;
    this.queue = new Queue(KEY_ROTATION_QUEUE, { connection: o.connection, prefix });
    this.redisErrors = new RepeatLog(o.log, 'warn', 'key rotation job: redis error');
    this.queue.on('error', (error) => this.redisErrors.note({ error }));
  }

  async start(): Promise<void> {
    this.worker = new Worker(
      KEY_ROTATION_QUEUE,
      async (job: Job, token?: string) => this.process(job, token),
      {
        connection: this.o.connection,
        prefix: `${this.o.keys.prefix}:bull`,
        concurrency: 1,
        lockDuration: ROTATION_LOCK_MS,
        stalledInterval: ROTATION_STALLED_CHECK_MS,
        maxStalledCount: ROTATION_STALLS_MAX,
      },
    );
    this.worker.on('error', (error) => this.redisErrors.note({ error }));
    this.worker.on('failed', (job, error) =>
      this.o.log.warn('key rotation job failed; it is tried again from its cursor', { job: job?.id, error }),
    );
    await this.enqueueFor(this.o.currentKeys());
  }

  /**
   * Enqueues the jobs `keys` call for (at start, and after a reload): a
   * re-seal when the file holds a data key besides the current one (what
   * it sealed may still be stored). Ids are deterministic: a job already
   * queued, running or ended is not added again.
   */
  async enqueueFor(keys: KeyFile): Promise<void> {
    if (keys.dataKeys.size > 1) {
      const jobId = resealJobId(keys.currentDataKey);
      await this.queue.add('reseal', { dataKeyId: keys.currentDataKey }, jobOptions(jobId));
      this.o.log.info('key rotation job enqueued', { job: jobId });
    }
  }

  /**
   * The BullMQ state of the rotation jobs to the keys `keys` makes current,
   * by job id ('unknown': never enqueued, since no older key was in the
   * file, or forgotten long after it ended).
   */
  async jobStates(keys: KeyFile): Promise<Record<string, string>> {
    const ids = [resealJobId(keys.currentDataKey)];
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)));
    return Object.fromEntries(ids.map((id, i) => [id, states[i]!]));
  }

  /** Stops taking jobs; a job running saves its cursor and goes back to wait for the next start. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.worker?.close();
    await this.queue.close();
  }

  private process(job: Job, token: string | undefined): Promise<unknown> {
    if (job.name === 'reseal') return this.reseal(job, token);
    throw new Error(`unknown key rotation job ${job.name}`);
  }

  private async reseal(job: Job, token: string | undefined): Promise<ResealTally> {
    const { connection, keys, ledger, log } = this.o;
    const jobId = job.id!;
    const { dataKeyId } = job.data as { dataKeyId: string };
    const tally: ResealTally = {
      superseded: false,
      asked: 0,
      resealed: 0,
      current: 0,
      absent: 0,
      unreadable: 0,
      cycles: 0,
    };
    const superseded = (): boolean => this.o.currentKeys().currentDataKey !== dataKeyId;
    // Whatever was decided under the old keys is in Redis before the walk starts.
    await ledger.settled();
    for (;;) {
      const end = await walkKeys<StoredAccountRef>({
        connection,
        cursorKey: keys.rotationCursor(jobId),
        pattern: keys.accountPattern(),
        select: (key) => keys.accountOfKey(key),
        visit: async (accounts) => {
          const outcomes = await Promise.all(accounts.map((account) => ledger.reseal(account)));
          return count(outcomes, tally);
        },
        perSecondMax: this.o.accountsPerSecondMax,
        interrupted: () => this.stopping || superseded(),
      });
      if (end.resumedFrom !== '0')
        log.info('key rotation job resumed', { job: jobId, cursor: end.resumedFrom });
      if (!end.done) {
        if (!this.stopping) {
          // A newer data key is current: its own job walks every account again.
          await connection.del(keys.rotationCursor(jobId));
          tally.superseded = true;
          log.info('key rotation job superseded by a newer key', { job: jobId, ...tally });
          return tally;
        }
        // Shutting down: back to wait, taken up again (from the cursor) by the next start.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      tally.cycles++;
      if (end.retries === 0) break;
      log.warn('key rotation job: accounts to ask again in another cycle', {
        job: jobId,
        retries: end.retries,
      });
      await delay(ROTATION_CYCLE_PAUSE_MS);
    }
    if (tally.unreadable > 0)
      log.error('key rotation job: accounts whose sealed PAN does not open stay under their old key', {
        job: jobId,
        unreadable: tally.unreadable,
      });
    log.info('key rotation job done', { job: jobId, ...tally });
    return tally;
  }
}

/** The re-seal job's id for `dataKeyId` (BullMQ ids: no ':', never a bare integer). */
export function resealJobId(dataKeyId: string): string {
  return `reseal-${dataKeyId}`;
}

function jobOptions(jobId: string) {
  return {
    jobId,
    attempts: Number.MAX_SAFE_INTEGER,
    backoff: { type: 'fixed', delay: ROTATION_RETRY_DELAY_MS },
    removeOnComplete: { count: ROTATION_JOBS_KEPT },
    removeOnFail: { count: ROTATION_JOBS_KEPT },
  } as const;
}

/** Adds `outcomes` to the tally; returns how many are to be asked again. */
function count(outcomes: readonly RotationOutcome[], tally: ResealTally): number {
  let retries = 0;
  for (const outcome of outcomes) {
    if (outcome === 'retry') {
      retries++;
      continue;
    }
    tally.asked++;
    if (outcome === 'done') tally.resealed++;
    else if (outcome === 'current') tally.current++;
    else if (outcome === 'absent') tally.absent++;
    else tally.unreadable++;
  }
  return retries;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
