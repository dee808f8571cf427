import { type Job, Queue, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/log.js';
import { RepeatLog } from '../observability/repeat-log.js';
import type { LedgerEngine } from '../runtime/ledger-engine.js';
import type { RotationOutcome } from '../runtime/worker/worker-protocol.js';
import { type AccountRefs, tokenKeyIdOf } from '../security/account-refs.js';
import type { KeyFile } from '../security/key-file.js';
import type { KeySpace } from '../store/keys.js';
import { type AdviceResealTally, emptyAdviceTally, resealAdvices } from './advice-reseal.js';
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
  readonly ledger: Pick<LedgerEngine, 'reseal' | 'rekey' | 'settled'>;
  /** The data keys in use now (they change on SIGHUP). */
  readonly currentKeys: () => KeyFile;
  /** Refs made with currentKeys() (the re-seal job seals queued advices' PANs with them). */
  readonly refs: () => AccountRefs;
  /** Accounts asked per second at most (ledger.rotationAccountsPerSecondMax). */
  readonly accountsPerSecondMax: number;
  readonly log: Logger;
}

/** What a rotation job did (its BullMQ return value, and its last log line). */
export interface RotationTally {
  /** Another key became current while it ran: the job for that key does the work. */
  superseded: boolean;
  /** Accounts (or aliases) handled, and what they answered. */
  asked: number;
  /** Re-sealed, moved, or (unalias) deleted. */
  done: number;
  current: number;
  absent: number;
  unreadable: number;
  conflict: number;
  /** Cycles over the keyspace (more than one when some accounts had to be asked again). */
  cycles: number;
  /** The re-seal job's queued advices (walked before the accounts). */
  advices?: AdviceResealTally;
}

/** One kind of walk: which keys, what to do with each, and when it is no longer wanted. */
interface Walk<T> {
  readonly pattern: string;
  readonly select: (key: string) => T | undefined;
  readonly handle: (selected: T[]) => Promise<RotationOutcome[]>;
  /** True once a newer key is current (its own job walks instead). */
  readonly superseded: () => boolean;
  /**
   * Runs once every owner has settled and before the key walk: false when
   * interrupted. Repeated whole when the job is taken up again, so it must
   * be idempotent.
   */
  readonly before?: (tally: RotationTally, interrupted: () => boolean) => Promise<boolean>;
}

/**
 * The key rotation jobs of docs/security.md "Rotation", on one BullMQ queue
 * worked one job at a time across every switch process on the same Redis.
 * Each job has a deterministic id naming the key it rotates to or retires
 * (`reseal-<dataKeyId>`, `rekey-<tokenKeyId>`, `unalias-<tokenKeyId>`), so
 * enqueuing it again at every start and reload adds nothing while it runs
 * or once it ended.
 *
 * The re-seal and re-key jobs walk the account keys (a SCAN cursor saved in
 * Redis after each step: a job stopped or killed goes on from it) and ask
 * each account's owning actor, through the ledger, to re-seal its PAN if an
 * older data key sealed it, or to move to its ref under the current token
 * key if an older one made its ref (only keys whose ref names another token
 * key are asked: the key name says). One writer per account, and the answer
 * comes after the commit, so the cursor never passes a change that could
 * still be lost. Before walking, a job waits until every owner released
 * what it decided before (LedgerEngine.settled): an account written under
 * the old key just before the reload is in Redis by then, so the walk cannot
 * miss it (SCAN may miss keys created while it runs; after the reload every
 * new seal and ref uses the new key). The re-seal job first re-seals the
 * PANs of the queued store-and-forward advices (advice-reseal.ts): first,
 * since walking them again costs only reads, while the account walk's
 * cursor is gone once it ends. The unalias job deletes the aliases a re-key
 * left under a token key once it is retired.
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
   * Enqueues the jobs `keys` calls for (at start, and after a reload): a
   * re-seal when the file holds a data key besides the current one, a
   * re-key when it holds a token key besides the current one (what they
   * made may still be stored), and the removal of the aliases of each token
   * key in `retiredTokenKeyIds`. Ids are deterministic: a job already
   * queued, running or ended is not added again.
   */
  async enqueueFor(keys: KeyFile, retiredTokenKeyIds: readonly string[] = []): Promise<void> {
    const jobs: [string, string, Record<string, string>][] = [];
    if (keys.dataKeys.size > 1)
      jobs.push(['reseal', resealJobId(keys.currentDataKey), { dataKeyId: keys.currentDataKey }]);
    if (keys.tokenKeys.size > 1)
      jobs.push(['rekey', rekeyJobId(keys.currentTokenKey), { tokenKeyId: keys.currentTokenKey }]);
    for (const id of retiredTokenKeyIds) jobs.push(['unalias', unaliasJobId(id), { tokenKeyId: id }]);
    for (const [name, jobId, data] of jobs) {
      await this.queue.add(name, data, jobOptions(jobId));
      this.o.log.info('key rotation job enqueued', { job: jobId });
    }
  }

  /**
   * The BullMQ state of the rotation jobs to the keys `keys` makes current,
   * by job id ('unknown': never enqueued, since no older key was in the
   * file, or forgotten long after it ended).
   */
  async jobStates(keys: KeyFile): Promise<Record<string, string>> {
    const ids = [resealJobId(keys.currentDataKey), rekeyJobId(keys.currentTokenKey)];
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)));
    return Object.fromEntries(ids.map((id, i) => [id, states[i]!]));
  }

  /** Stops taking jobs; a job running saves its cursor and goes back to wait for the next start. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.worker?.close();
    await this.queue.close();
  }

  private process(job: Job, token: string | undefined): Promise<RotationTally> {
    const { keys, ledger, connection } = this.o;
    const { dataKeyId, tokenKeyId } = job.data as { dataKeyId?: string; tokenKeyId?: string };
    switch (job.name) {
      case 'reseal':
        return this.walk(job, token, {
          pattern: keys.accountPattern(),
          select: (key) => keys.accountOfKey(key),
          handle: (accounts) => Promise.all(accounts.map((account) => ledger.reseal(account))),
          superseded: () => this.o.currentKeys().currentDataKey !== dataKeyId,
          before: (tally, interrupted) => {
            tally.advices = emptyAdviceTally();
            return resealAdvices(
              {
                connection,
                keys,
                refs: this.o.refs,
                perSecondMax: this.o.accountsPerSecondMax,
                interrupted,
                log: this.o.log,
              },
              tally.advices,
            );
          },
        });
      case 'rekey':
        return this.walk(job, token, {
          pattern: keys.accountPattern(),
          // Accounts whose ref the current token key made have nothing to do: not asked.
          select: (key) => {
            const account = keys.accountOfKey(key);
            return account !== undefined && tokenKeyIdOf(account.ref) !== tokenKeyId ? account : undefined;
          },
          handle: (accounts) => Promise.all(accounts.map((account) => ledger.rekey(account))),
          superseded: () => this.o.currentKeys().currentTokenKey !== tokenKeyId,
        });
      case 'unalias':
        return this.walk(job, token, {
          pattern: keys.accountAliasPattern(),
          select: (key) => {
            const alias = keys.aliasOfKey(key);
            return alias !== undefined && tokenKeyIdOf(alias.ref) === tokenKeyId ? key : undefined;
          },
          handle: async (aliases) => {
            // Nothing reads them any more (the key's retirement checked that): deleted directly.
            await connection.del(...aliases);
            return aliases.map(() => 'done' as const);
          },
          // Taken back into the file meanwhile: its aliases are wanted again.
          superseded: () => {
            const file = this.o.currentKeys();
            return file.currentTokenKey === tokenKeyId || file.previousTokenKey === tokenKeyId;
          },
        });
      default:
        throw new Error(`unknown key rotation job ${job.name}`);
    }
  }

  /** Runs one job's walk to its end: cycles until no key had to be asked again. */
  private async walk<T>(job: Job, token: string | undefined, w: Walk<T>): Promise<RotationTally> {
    const { connection, keys, ledger, log } = this.o;
    const jobId = job.id!;
    const tally: RotationTally = {
      superseded: false,
      asked: 0,
      done: 0,
      current: 0,
      absent: 0,
      unreadable: 0,
      conflict: 0,
      cycles: 0,
    };
    const interrupted = (): boolean => this.stopping || w.superseded();
    // Whatever was decided under the old keys is in Redis before the walk starts.
    await ledger.settled();
    if (w.before !== undefined && !(await w.before(tally, interrupted)))
      return this.interrupted(job, token, tally);
    for (;;) {
      const end = await walkKeys<T>({
        connection,
        cursorKey: keys.rotationCursor(jobId),
        pattern: w.pattern,
        select: w.select,
        visit: async (selected) => count(await w.handle(selected), tally),
        perSecondMax: this.o.accountsPerSecondMax,
        interrupted,
      });
      if (end.resumedFrom !== '0')
        log.info('key rotation job resumed', { job: jobId, cursor: end.resumedFrom });
      if (!end.done) return this.interrupted(job, token, tally);
      tally.cycles++;
      if (end.retries === 0) break;
      log.warn('key rotation job: accounts to ask again in another cycle', {
        job: jobId,
        retries: end.retries,
      });
      await delay(ROTATION_CYCLE_PAUSE_MS);
    }
    if (tally.unreadable > 0 || tally.conflict > 0)
      log.error('key rotation job: accounts left under their old key (their lines above say why)', {
        job: jobId,
        unreadable: tally.unreadable,
        conflict: tally.conflict,
      });
    if ((tally.advices?.unreadable ?? 0) > 0)
      log.error('key rotation job: advices left under their old key (their lines above say why)', {
        job: jobId,
        unreadable: tally.advices!.unreadable,
      });
    log.info('key rotation job done', { job: jobId, ...tally });
    return tally;
  }

  /**
   * A walk that stopped midway: superseded (a newer key is current, and its
   * own job walks everything again), or shutting down (back to wait, taken
   * up again from its cursor by the next start).
   */
  private async interrupted(
    job: Job,
    token: string | undefined,
    tally: RotationTally,
  ): Promise<RotationTally> {
    const jobId = job.id!;
    if (!this.stopping) {
      await this.o.connection.del(this.o.keys.rotationCursor(jobId));
      tally.superseded = true;
      this.o.log.info('key rotation job superseded', { job: jobId, ...tally });
      return tally;
    }
    await job.moveToWait(token);
    throw new WaitingError();
  }
}

/** The re-seal job's id for `dataKeyId` (BullMQ ids: no ':', never a bare integer). */
export function resealJobId(dataKeyId: string): string {
  return `reseal-${dataKeyId}`;
}

/** The re-key job's id for `tokenKeyId`. */
export function rekeyJobId(tokenKeyId: string): string {
  return `rekey-${tokenKeyId}`;
}

/** The id of the job deleting the aliases of retired token key `tokenKeyId`. */
export function unaliasJobId(tokenKeyId: string): string {
  return `unalias-${tokenKeyId}`;
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
function count(outcomes: readonly RotationOutcome[], tally: RotationTally): number {
  let retries = 0;
  for (const outcome of outcomes) {
    if (outcome === 'retry') {
      retries++;
      continue;
    }
    tally.asked++;
    tally[outcome]++;
  }
  return retries;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
