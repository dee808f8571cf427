import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../observability/log.js';

/**
 * The private redis-server the switch starts and owns when no `redis.url` is
 * configured (PROTOCOL.md section 9, DESIGN.md "Durability"): loopback only,
 * AOF with fsync on every write, no eviction, data under `<dataDir>/redis`.
 * Linux-only in one respect: leftover detection reads /proc.
 */

export const REDIS_NOT_INSTALLED_MESSAGE =
  'redis-server not found on PATH. Install it (Debian/Ubuntu: apt-get install redis-server) or set redis.url in the config.';

export class RedisNotInstalledError extends Error {
  readonly code = 'SWITCHYARD_REDIS_NOT_INSTALLED';
  constructor() {
    super(REDIS_NOT_INSTALLED_MESSAGE);
    this.name = 'RedisNotInstalledError';
  }
}

/** The private redis-server did not come up (or a leftover would not go away). `logTail` is its recent output. */
export class RedisStartError extends Error {
  readonly code = 'SWITCHYARD_REDIS_START_FAILED';
  readonly logTail: string;
  constructor(message: string, logTail = '') {
    super(logTail === '' ? message : `${message}\n--- redis output (tail) ---\n${logTail}`);
    this.name = 'RedisStartError';
    this.logTail = logTail;
  }
}

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

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const LEFTOVER_STOP_TIMEOUT_MS = 10_000;
const KILL_WAIT_MS = 2_000;
/** A free port can be taken between our probe and redis's bind; retry with a fresh one. */
const PORT_ATTEMPTS = 4;
const POLL_MS = 50;
const PING_TIMEOUT_MS = 1_000;
const OUTPUT_TAIL_CHARS = 4_096;

export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    // An empty PATH entry means the working directory: never run a binary from there.
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here, keep looking
    }
  }
  return undefined;
}

export async function startManagedRedis(options: ManagedRedisOptions): Promise<ManagedRedis> {
  const env = options.env ?? process.env;
  const bin = findRedisServer(env);
  if (bin === undefined) throw new RedisNotInstalledError();
  const dir = resolve(options.dataDir, 'redis');
  // The AOF holds balances and PANs: owner-only.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await stopLeftover(dir, options.log);

  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return await launch(bin, dir, port, env, options);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= PORT_ATTEMPTS) throw err;
      options.log.debug('port taken before redis-server could bind it; retrying', { port, attempt });
    }
  }
}

class PortTakenError extends Error {}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

async function launch(
  bin: string,
  dir: string,
  port: number,
  env: NodeJS.ProcessEnv,
  options: ManagedRedisOptions,
): Promise<ManagedRedis> {
  const logFile = join(dir, 'redis.log');
  const logOffset = fileSize(logFile);
  const args = [
    ['--bind', HOST],
    ['--port', String(port)],
    ['--protected-mode', 'yes'],
    ['--daemonize', 'no'],
    ['--dir', dir],
    ['--logfile', logFile],
    ['--pidfile', join(dir, 'redis.pid')],
    // Durability contract: every write fsynced before the reply, also during rewrites;
    // refuse writes rather than evict ledger keys; no RDB snapshots (the AOF is the record).
    ['--appendonly', 'yes'],
    ['--appendfsync', 'always'],
    ['--no-appendfsync-on-rewrite', 'no'],
    ['--maxmemory-policy', 'noeviction'],
    ['--save', ''],
    // The AOF rewrite writes its base as RDB; LZF-compressing it was ~40% of the rewrite
    // child's CPU, which competes with the switch on small machines (docs/performance.md).
    // Disk is the cheaper resource here: the base file is written uncompressed.
    ['--rdbcompression', 'no'],
  ].flat();
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const output = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
    child.once('error', (error) => resolveExit({ code: null, signal: null, error }));
  }).then((info) => {
    exitInfo = info;
    return info;
  });
  const failureTail = (): string =>
    [readTail(logFile, logOffset), output.text()].filter((t) => t !== '').join('\n');
  const pid = child.pid;
  if (pid === undefined) {
    // spawn itself failed (EACCES, ENOENT after the PATH check): 'error' has fired or is about to.
    const info = await exited;
    throw new RedisStartError(`cannot run ${bin} (${info.error?.message ?? 'no pid'})`, failureTail());
  }

  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exitInfo !== undefined) {
      const tail = failureTail();
      if (tail.includes('Address already in use')) throw new PortTakenError();
      const how = exitInfo.error?.message ?? `code ${exitInfo.code}, signal ${exitInfo.signal}`;
      throw new RedisStartError(`redis-server exited during start (${how})`, tail);
    }
    if (await answersAs(port, pid)) break;
    if (Date.now() >= deadline) {
      await terminate(child, exited, KILL_WAIT_MS);
      throw new RedisStartError(
        `redis-server did not answer PING within ${startTimeoutMs} ms`,
        failureTail(),
      );
    }
    await delay(POLL_MS);
  }

  const log = options.log;
  let stopping: Promise<void> | undefined;
  // A normal process exit (crash, process.exit) must not leave redis running on our AOF.
  // kill -9 of the switch cannot be caught: the next start's stopLeftover covers it.
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  void exited.then((info) => {
    process.removeListener('exit', killOnExit);
    if (stopping === undefined) {
      log.error('private redis-server exited unexpectedly', { pid, code: info.code, signal: info.signal });
    }
  });

  log.info('started a private redis-server (AOF on, fsync=always, noeviction)', {
    host: HOST,
    port,
    pid,
    dir,
    appendonly: 'yes',
    appendfsync: 'always',
  });
  return {
    url: `redis://${HOST}:${port}`,
    port,
    pid,
    stop: () => {
      stopping ??= terminate(child, exited, STOP_TIMEOUT_MS).then((graceful) => {
        if (!graceful) log.warn('private redis-server ignored SIGTERM; killed it', { pid });
      });
      return stopping;
    },
  };
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves true when SIGTERM sufficed. */
async function terminate(child: ChildProcess, exited: Promise<ExitInfo>, graceMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  child.kill('SIGTERM');
  if (await settlesWithin(exited, graceMs)) return true;
  child.kill('SIGKILL');
  await exited;
  return false;
}

/** True when this redis answers PONG and is the process we started (not whoever grabbed the port first). */
async function answersAs(port: number, pid: number): Promise<boolean> {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: PING_TIMEOUT_MS,
    commandTimeout: PING_TIMEOUT_MS,
  });
  client.on('error', () => {
    // Refused connections are expected while redis starts; the caller polls.
  });
  try {
    await client.connect();
    // PING answers LOADING (an error) until the AOF is loaded.
    if ((await client.ping()) !== 'PONG') return false;
    const info = await client.info('server');
    return /^process_id:(\d+)\r?$/m.exec(info)?.[1] === String(pid);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Two redis-servers must never append to the same AOF. A switch killed with -9
 * leaves its redis running; if the pidfile names a live redis-server working in
 * this directory, stop it before starting ours.
 */
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

function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The last OUTPUT_TAIL_CHARS of what `file` gained since `offset` (the log accumulates across runs). */
function readTail(file: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const start = Math.max(offset, size - OUTPUT_TAIL_CHARS);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8').trim();
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Bounded record of a child's stdout/stderr (startup errors come before --logfile applies). */
class OutputTail {
  private buffered = '';
  push(chunk: Buffer): void {
    this.buffered = (this.buffered + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  }
  text(): string {
    return this.buffered.trim();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms));
}

/** Whether `promise` settles within `ms`; the timer is cleared so it never holds the process open. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
