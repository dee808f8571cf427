import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedisServer } from '../../src/store/redis-server.js';
import { killRedisServer, removeDir, trackDir, trackRedisPid } from './processes.js';

// Generous, as redis-server.ts's: a fork+exec and the AOF load can take seconds on a busy machine.
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/**
 * A redis-server on a data dir the test owns (AOF, fsync always, as the
 * switch runs it) that can be killed as a crash would (SIGKILL) and started
 * again on the same port and files: what the switch's connections see when
 * the machine's Redis dies and comes back.
 */
export class KillableRedis {
  private server: RedisServer;

  private constructor(
    readonly dir: string,
    first: RedisServer,
  ) {
    this.server = first;
  }

  static async start(): Promise<KillableRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-killable-redis-'));
    trackDir(dir);
    try {
      return new KillableRedis(dir, await launch(dir, undefined));
    } catch (error) {
      removeDir(dir);
      throw error;
    }
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  get pid(): number {
    return this.server.pid;
  }

  /** SIGKILL: only what the AOF fsynced survives. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    killRedisServer(this.server.pid);
    await this.server.exited;
  }

  /** Starts redis-server again on the same port and data dir; resolves once it answers PING (AOF loaded). */
  async restart(): Promise<void> {
    this.server = await launch(this.dir, this.server.port);
  }

  /** Stops the server (by PID) and removes its data dir. Idempotent. */
  async dispose(): Promise<void> {
    await this.server.stop();
    removeDir(this.dir);
  }
}

async function launch(dir: string, port: number | undefined): Promise<RedisServer> {
  const server = await startRedisServer({
    dir,
    fsync: 'always',
    startTimeoutMs: START_TIMEOUT_MS,
    stopGraceMs: STOP_GRACE_MS,
    ...(port === undefined ? {} : { port }),
  });
  trackRedisPid(server.pid);
  return server;
}
