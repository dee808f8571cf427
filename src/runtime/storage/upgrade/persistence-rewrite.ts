import type { Redis } from 'ioredis';
import type { Logger } from '../../../observability/log.js';
import { AccountLayoutError } from '../account-layout.js';

/** How the wait for Redis's background rewrites goes. */
export interface PersistenceWait {
  /** Between two INFO polls. */
  readonly pollMs: number;
  /** The longest a rewrite may take before the upgrade gives up (it is retried at the next start). */
  readonly timeoutMs: number;
  /** Called at each poll (the upgrade's progress line). */
  readonly onPoll?: () => void;
}

export const DEFAULT_PERSISTENCE_WAIT: PersistenceWait = { pollMs: 50, timeoutMs: 60 * 60_000 };

/** A command the Redis does not offer (renamed, disabled, or an ACL without it). */
function isRefused(error: unknown): boolean {
  return /unknown command|NOPERM|no permissions/i.test((error as Error).message);
}

/**
 * Makes Redis write its files again from what it holds now, so the bytes of
 * layout 2 (PANs in clear) leave the disk: the AOF rewritten (BGREWRITEAOF;
 * Redis 7 then deletes the old AOF files), and, if RDB snapshots are on
 * (`save` not empty: never for the switch's own redis), a new snapshot over
 * the old one. Each waits for its own fork to finish and to succeed. A Redis
 * that refuses the commands (a managed service) is told about in a warning:
 * its files are its operator's to rewrite.
 */
export async function rewritePersistence(redis: Redis, log: Logger, wait: PersistenceWait): Promise<void> {
  const appendonly = await configValue(redis, 'appendonly');
  const save = await configValue(redis, 'save');
  if (appendonly !== 'no') {
    const rewritten = await runFork(redis, wait, AOF_REWRITE);
    if (!rewritten)
      log.warn(
        'Redis refused BGREWRITEAOF: its append-only file may still hold layout 2 bytes (PANs) until it is rewritten',
        {},
      );
  }
  if (save === undefined)
    log.warn(
      'Redis refused CONFIG GET save: if it writes RDB snapshots, an older one may still hold PANs',
      {},
    );
  else if (save.trim() !== '') {
    const saved = await runFork(redis, wait, SNAPSHOT);
    if (!saved) log.warn('Redis refused BGSAVE: its RDB snapshot may still hold PANs until the next one', {});
  }
}

/** A CONFIG GET value, or undefined when the Redis does not let us ask. */
async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', name)) as string[];
    return reply[1];
  } catch (error) {
    if (isRefused(error)) return undefined;
    throw error;
  }
}

/** One kind of background fork, as INFO persistence reports it. */
interface ForkKind {
  readonly name: string;
  start(redis: Redis): Promise<unknown>;
  /** Running or waiting to run. */
  busy(info: Map<string, string>): boolean;
  /** How many have started (Redis 7); undefined on older ones. */
  started(info: Map<string, string>): number | undefined;
  succeeded(info: Map<string, string>): boolean;
}

const AOF_REWRITE: ForkKind = {
  name: 'AOF rewrite',
  start: (redis) => redis.bgrewriteaof(),
  busy: (info) => info.get('aof_rewrite_in_progress') === '1' || info.get('aof_rewrite_scheduled') === '1',
  started: (info) => numberOrUndefined(info.get('aof_rewrites')),
  succeeded: (info) => info.get('aof_last_bgrewrite_status') === 'ok',
};

const SNAPSHOT: ForkKind = {
  name: 'RDB snapshot',
  // SCHEDULE: run after an AOF rewrite still going, rather than fail.
  start: (redis) => redis.bgsave('SCHEDULE'),
  busy: (info) => info.get('rdb_bgsave_in_progress') === '1' || info.get('aof_rewrite_in_progress') === '1',
  started: (info) => numberOrUndefined(info.get('rdb_saves')),
  succeeded: (info) => info.get('rdb_last_bgsave_status') === 'ok',
};

/**
 * Starts one fork of `kind` after any running one (whose snapshot may be
 * older than the upgrade's last write) and waits for it to end. False when
 * the Redis refuses the command; throws when the fork failed or took too long.
 */
async function runFork(redis: Redis, wait: PersistenceWait, kind: ForkKind): Promise<boolean> {
  const deadlineMs = Date.now() + wait.timeoutMs;
  for (;;) {
    let info = await waitUntil(redis, wait, deadlineMs, kind, (i) => !kind.busy(i));
    const startedBefore = kind.started(info);
    try {
      await kind.start(redis);
    } catch (error) {
      if (isRefused(error)) return false;
      // Another fork began in between (Redis's own automatic rewrite): wait for it, then start ours.
      if (/in progress/i.test((error as Error).message)) continue;
      // Redis said no: say what it said. Anything else (the connection lost) goes up as it is.
      if ((error as Error).name === 'ReplyError')
        throw new AccountLayoutError(`the ${kind.name} could not start: ${(error as Error).message}`);
      throw error;
    }
    info = await waitUntil(
      redis,
      wait,
      deadlineMs,
      kind,
      (i) => !kind.busy(i) && (startedBefore === undefined || (kind.started(i) ?? 0) > startedBefore),
    );
    if (!kind.succeeded(info))
      throw new AccountLayoutError(
        `the ${kind.name} failed (see Redis's log); the upgrade retries it at the next start`,
      );
    return true;
  }
}

async function waitUntil(
  redis: Redis,
  wait: PersistenceWait,
  deadlineMs: number,
  kind: ForkKind,
  done: (info: Map<string, string>) => boolean,
): Promise<Map<string, string>> {
  for (;;) {
    const info = persistenceInfo(await redis.info('persistence'));
    if (done(info)) return info;
    if (Date.now() > deadlineMs)
      throw new AccountLayoutError(`the ${kind.name} did not finish within ${wait.timeoutMs} ms`);
    wait.onPoll?.();
    await new Promise((resolve) => setTimeout(resolve, wait.pollMs));
  }
}

function persistenceInfo(text: string): Map<string, string> {
  const info = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) info.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return info;
}

function numberOrUndefined(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}
