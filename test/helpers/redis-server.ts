import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisFsync, type RedisServer, startRedisServer } from '../../src/store/redis-server.js';
import { removeDir, trackDir } from './processes.js';

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Its data directory (the AOF's folder is inside it). */
  readonly dir: string;
  /** Kills the server by PID (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** Default 'always', as the switch runs it; 'off' for a test that wants no persistence. */
  readonly fsync?: RedisFsync;
}

// Generous: on a shared machine under CPU contention a fork+exec and the first PING can take
// seconds. A start that really fails (port, binary) fails at once with redis's own output.
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/**
 * Starts a private redis-server (the switch's own implementation, src/store/redis-server.ts:
 * AOF with fsync always unless `fsync` says otherwise) on a free port in a temp dir.
 */
export async function startRedis(options: TestRedisOptions = {}): Promise<RedisHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-'));
  // Removed by the exit hook if the test process ends before stop(); the server itself gets
  // SIGTERM from redis-server.ts's own exit hook.
  trackDir(dir);
  let server: RedisServer;
  try {
    server = await startRedisServer({
      dir,
      fsync: options.fsync ?? 'always',
      startTimeoutMs: START_TIMEOUT_MS,
      stopGraceMs: STOP_GRACE_MS,
    });
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    pid: server.pid,
    dir,
    stop: () => {
      stopping ??= server.stop().then(() => removeDir(dir));
      return stopping;
    },
  };
}

export { freePort } from '../../src/util/free-port.js';
