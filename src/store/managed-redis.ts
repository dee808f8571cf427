import { mkdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../observability/log.js';
import { RedisStartError, startRedisServer } from './redis-server.js';

/**
 * The private redis-server the switch starts and owns when no `redis.url` is
 * configured (docs/protocol.md section 9, DESIGN.md "Durability"): the one
 * implementation in redis-server.ts with the switch's contract (AOF with fsync
 * on every write, no eviction), data under `<dataDir>/redis` with its log and
 * pidfile, a leftover of a killed switch stopped first, an unexpected exit logged.
 * Linux-only in one respect: leftover detection reads /proc.
 */

export interface ManagedRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM (redis fsyncs the AOF and exits), SIGKILL after a bound. Idempotent. */
  stop(): Promise<void>;
}

export interface ManagedRedisOptions {
  /** The switch's data directory; redis lives in `<dataDir>/redis`. */
  readonly dataDir: string;
  readonly log: Logger;
  /** Environment for the PATH lookup and the child; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on the wait for the first PING, AOF loading included. */
  readonly startTimeoutMs?: number;
}

const STOP_TIMEOUT_MS = 10_000;
const LEFTOVER_STOP_TIMEOUT_MS = 10_000;
const KILL_WAIT_MS = 2_000;
const POLL_MS = 50;
/** `<dataDir>/redis/port`: the private redis-server's port while the switch runs (managedRedisUrl reads it). */
const MANAGED_PORT_FILE = 'port';

/**
 * The URL of the private redis-server a switch with this `dataDir` runs now,
 * or undefined when none was started there. Only the switch's own tools on
 * the same machine use it (it listens on loopback only).
 */
export function managedRedisUrl(dataDir: string): string | undefined {
  try {
    const port = Number(readFileSync(join(resolve(dataDir, 'redis'), MANAGED_PORT_FILE), 'utf8').trim());
    return Number.isInteger(port) && port > 0 ? `redis://127.0.0.1:${port}` : undefined;
  } catch {
    return undefined;
  }
}

export async function startManagedRedis(options: ManagedRedisOptions): Promise<ManagedRedis> {
  const log = options.log;
  const dir = resolve(options.dataDir, 'redis');
  // Created here (owner-only: the AOF holds balances and PANs) so the leftover check can read its pidfile.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await stopLeftover(dir, log);
  const server = await startRedisServer({
    dir,
    fsync: 'always',
    logAndPidFiles: true,
    stopGraceMs: STOP_TIMEOUT_MS,
    log,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
  });
  const { port, pid } = server;
  // For the switch's own tools on this machine (switchyard clearing ...): which port its private Redis has now.
  writeFileSync(join(dir, MANAGED_PORT_FILE), `${port}\n`, { mode: 0o600 });
  void server.exited.then((info) => {
    if (!info.requested) {
      log.error('private redis-server exited unexpectedly', { pid, code: info.code, signal: info.signal });
    }
  });
  log.info('started a private redis-server (AOF on, fsync=always, noeviction)', {
    host: server.host,
    port,
    pid,
    dir,
    appendonly: 'yes',
    appendfsync: 'always',
  });
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    port,
    pid,
    stop: () => {
      stopping ??= server.stop().then((graceful) => {
        if (!graceful) log.warn('private redis-server ignored SIGTERM; killed it', { pid });
      });
      return stopping;
    },
  };
}

async function stopLeftover(dir: string, log: Logger): Promise<void> {
  const pid = readPidFile(join(dir, 'redis.pid'));
  if (pid === undefined || !isAlive(pid)) return;
  // The pid may have been reused by an unrelated process, or by a redis of another directory.
  if (!procText(pid, 'cmdline').includes('redis-server')) return;
  const cwd = procCwd(pid);
  if (cwd !== undefined && cwd !== realpathSync(dir)) {
    log.warn('pidfile names a redis-server of another directory; leaving it alone', { pid, dir, cwd });
    return;
  }
  log.warn('stopping a leftover private redis-server (its switch was killed) before starting a new one', {
    pid,
    dir,
  });
  signal(pid, 'SIGTERM');
  if (await exitsWithin(pid, LEFTOVER_STOP_TIMEOUT_MS)) return;
  // Safe for the data: with fsync=always every acknowledged write is already on disk.
  log.warn('leftover redis-server ignored SIGTERM; killing it', { pid });
  signal(pid, 'SIGKILL');
  if (await exitsWithin(pid, KILL_WAIT_MS)) return;
  throw new RedisStartError(
    `leftover redis-server ${pid} in ${dir} does not exit; refusing to start a second one`,
  );
}

function readPidFile(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  const pid = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
}

/** Alive and not a zombie (a zombie's AOF file descriptors are already closed). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The state follows the last ')': the command name in parentheses may itself contain ') '.
  const stat = procText(pid, 'stat');
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state !== 'Z' && state !== 'X';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw new RedisStartError(`cannot stop leftover redis-server ${pid}: ${(err as Error).message}`);
  }
}

async function exitsWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
  return true;
}

function procText(pid: number, entry: string): string {
  try {
    return readFileSync(`/proc/${pid}/${entry}`, 'latin1').replaceAll('\u0000', ' ');
  } catch {
    return '';
  }
}

/** redis chdir()s into its --dir, so its cwd tells which data directory it writes. */
function procCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms));
}
