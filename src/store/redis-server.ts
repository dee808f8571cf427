import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  readSync,
  statSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { type Logger, silentLogger } from '../observability/log.js';
import { freePort } from '../util/free-port.js';

/**
 * Start a private redis-server as a child of this process: loopback only, on a
 * free port, in a given directory, answering PING (AOF loaded) before the
 * promise resolves. The one implementation behind the switch's managed redis
 * (managed-redis.ts), the tests' redis (test/helpers/redis-server.ts) and the
 * bench's (bench/harness/redis.ts); they differ only through the options.
 *
 * The settings are the switch's durability contract (docs/protocol.md section 9):
 * AOF with fsync on every write, also during rewrites; refuse writes rather than
 * evict ledger keys; no RDB snapshots. Only the fsync policy is an option, for
 * benchmarks comparing policies and tests that want no persistence at all.
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

/** redis's `appendfsync` policies, plus 'off': no AOF at all (nothing survives a restart). */
export type RedisFsync = 'always' | 'everysec' | 'no' | 'off';

export interface RedisServerOptions {
  /** redis's working directory (AOF, and with `logAndPidFiles` its log and pidfile); created owner-only if missing. */
  readonly dir: string;
  /** Default 'always', the switch's contract. */
  readonly fsync?: RedisFsync;
  /**
   * Write `<dir>/redis.log` and `<dir>/redis.pid` (the switch's: the log for post-mortems,
   * the pidfile to find a leftover redis). Otherwise redis logs to stdout and only the
   * tail is kept, for error messages.
   */
  readonly logAndPidFiles?: boolean;
  /** Environment for the PATH lookup and the child; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on the wait for the first PING, AOF loading included. */
  readonly startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM (redis fsyncs the AOF and exits) before SIGKILL. */
  readonly stopGraceMs?: number;
  /** Gets a debug line when a port is lost to another process and the start is retried. */
  readonly log?: Logger;
  /**
   * Listen on this port rather than a free one: a restart on the same
   * files and address, as clients that reconnect by themselves expect
   * (a test killing Redis under a running switch). A port taken fails the
   * start, with no retry on another.
   */
  readonly port?: number;
}

export interface RedisExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
  /** True when stop() asked for it; false for a crash or a kill from outside. */
  readonly requested: boolean;
}

export interface RedisServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly fsync: RedisFsync;
  /** From INFO server. */
  readonly version: string;
  /** Resolves once the process has exited, however that happened. */
  readonly exited: Promise<RedisExit>;
  /** SIGTERM, SIGKILL after `stopGraceMs`; resolves true when SIGTERM sufficed. Idempotent. */
  stop(): Promise<boolean>;
}

export const REDIS_HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 10_000;
const KILL_WAIT_MS = 2_000;
/** A free port can be taken between our probe and redis's bind; retry with a fresh one. */
const PORT_ATTEMPTS = 5;
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

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  const env = options.env ?? process.env;
  const bin = findRedisServer(env);
  if (bin === undefined) throw new RedisNotInstalledError();
  // The AOF holds balances and PANs: owner-only.
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  if (options.port !== undefined) {
    const { port } = options;
    return launch(bin, port, env, options).catch((err: unknown) => {
      throw err instanceof PortTakenError ? new RedisStartError(`port ${port} is taken`) : err;
    });
  }
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(REDIS_HOST);
    try {
      return await launch(bin, port, env, options);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= PORT_ATTEMPTS) throw err;
      (options.log ?? silentLogger).debug('port taken before redis-server could bind it; retrying', {
        port,
        attempt,
      });
    }
  }
}

/** The command line: the switch's durability settings, with the fsync policy and file options applied. */
function redisServerArgs(dir: string, port: number, fsync: RedisFsync, logAndPidFiles: boolean): string[] {
  const files = logAndPidFiles
    ? [
        ['--logfile', join(dir, 'redis.log')],
        ['--pidfile', join(dir, 'redis.pid')],
      ]
    : [];
  const aof =
    fsync === 'off'
      ? [['--appendonly', 'no']]
      : [
          // Every write fsynced before the reply (with 'always'), also during rewrites.
          ['--appendonly', 'yes'],
          ['--appendfsync', fsync],
          ['--no-appendfsync-on-rewrite', 'no'],
        ];
  return [
    ['--bind', REDIS_HOST],
    ['--port', String(port)],
    ['--protected-mode', 'yes'],
    ['--daemonize', 'no'],
    ['--dir', dir],
    ...files,
    ...aof,
    // Refuse writes rather than evict ledger keys; no RDB snapshots (the AOF is the record).
    ['--maxmemory-policy', 'noeviction'],
    ['--save', ''],
    // The AOF rewrite writes its base as RDB; LZF-compressing it was ~40% of the rewrite
    // child's CPU, which competes with the switch on small machines (docs/performance-log.md).
    // Disk is the cheaper resource here: the base file is written uncompressed.
    ['--rdbcompression', 'no'],
    // The ledger appends ~400 B of AOF per approval (8 MB/s at 20,000/s). At Redis's 64 MB
    // default a young store rewrote its AOF every few seconds, and a rewrite's writes stall
    // the fsyncs on the same disk (a rewrite's second's worst fsync 13-26 ms, other seconds'
    // mostly 1-11 ms: docs/performance-log.md).
    // Past 256 MB the usual rule (rewrite when the AOF has doubled) decides; a restart
    // replays at most that much more.
    ['--auto-aof-rewrite-min-size', '256mb'],
  ].flat();
}

class PortTakenError extends Error {}

interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

async function launch(
  bin: string,
  port: number,
  env: NodeJS.ProcessEnv,
  options: RedisServerOptions,
): Promise<RedisServer> {
  const dir = options.dir;
  const fsync = options.fsync ?? 'always';
  const logAndPidFiles = options.logAndPidFiles ?? false;
  const logFile = join(dir, 'redis.log');
  const logOffset = logAndPidFiles ? fileSize(logFile) : 0;
  const child = spawn(bin, redisServerArgs(dir, port, fsync, logAndPidFiles), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const output = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  let processExit: ProcessExit | undefined;
  const exitedRaw = new Promise<ProcessExit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
    child.once('error', (error) => resolveExit({ code: null, signal: null, error }));
  }).then((info) => {
    processExit = info;
    return info;
  });
  const failureTail = (): string =>
    [logAndPidFiles ? readTail(logFile, logOffset) : '', output.text()].filter((t) => t !== '').join('\n');
  const pid = child.pid;
  if (pid === undefined) {
    // spawn itself failed (EACCES, ENOENT after the PATH check): 'error' has fired or is about to.
    const info = await exitedRaw;
    throw new RedisStartError(`cannot run ${bin} (${info.error?.message ?? 'no pid'})`, failureTail());
  }
  killOnProcessExit(child);

  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeoutMs;
  let version: string | undefined;
  for (;;) {
    if (processExit !== undefined) {
      const tail = failureTail();
      if (tail.includes('Address already in use')) throw new PortTakenError();
      const how = processExit.error?.message ?? `code ${processExit.code}, signal ${processExit.signal}`;
      throw new RedisStartError(`redis-server exited during start (${how})`, tail);
    }
    version = await versionIfAnswering(port, pid);
    if (version !== undefined) break;
    if (Date.now() >= deadline) {
      await terminate(child, exitedRaw, KILL_WAIT_MS);
      throw new RedisStartError(
        `redis-server did not answer PING within ${startTimeoutMs} ms`,
        failureTail(),
      );
    }
    await delay(POLL_MS);
  }

  let stopping: Promise<boolean> | undefined;
  const exited = exitedRaw.then((info): RedisExit => ({ ...info, requested: stopping !== undefined }));
  const stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  return {
    url: `redis://${REDIS_HOST}:${port}`,
    host: REDIS_HOST,
    port,
    pid,
    dir,
    fsync,
    version,
    exited,
    stop: () => {
      stopping ??= terminate(child, exitedRaw, stopGraceMs);
      return stopping;
    },
  };
}

// A normal exit of this process (crash, process.exit, a test worker ending) must not leave
// a redis running on its AOF. One listener for all of them (not one each: EventEmitter warns
// past ten). kill -9 of this process cannot be caught: the switch's next start finds the
// leftover through its pidfile (managed-redis.ts).
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killOnProcessExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const live of liveChildren) live.kill('SIGTERM');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves true when SIGTERM sufficed. */
async function terminate(
  child: ChildProcess,
  exited: Promise<ProcessExit>,
  graceMs: number,
): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  child.kill('SIGTERM');
  if (await settlesWithin(exited, graceMs)) return true;
  child.kill('SIGKILL');
  await exited;
  return false;
}

/**
 * redis's version when it answers PONG and is the process we started (not whoever grabbed
 * the port first); undefined otherwise (not up yet, still loading the AOF, someone else).
 */
async function versionIfAnswering(port: number, pid: number): Promise<string | undefined> {
  const client = new Redis({
    host: REDIS_HOST,
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
    if ((await client.ping()) !== 'PONG') return undefined;
    const info = await client.info('server');
    if (/^process_id:(\d+)\r?$/m.exec(info)?.[1] !== String(pid)) return undefined;
    return /^redis_version:([^\r\n]+)\r?$/m.exec(info)?.[1] ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
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
