import { type RedisServer, startRedisServer } from '../../src/store/redis-server.js';
import { makeTempDir, removeTempDir } from './processes.js';

/** The AOF fsync policies the suite compares. */
export type FsyncMode = 'always' | 'everysec';

export interface BenchRedis {
  readonly url: string;
  readonly pid: number;
  readonly fsync: FsyncMode;
  /** From INFO server. */
  readonly version: string;
  /** SIGTERM, wait, remove its directory. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/**
 * A private redis-server for one scenario family: the switch's own implementation and
 * settings (src/store/redis-server.ts: AOF on, no RDB, noeviction, no fsync relief during
 * rewrites, uncompressed rewrite base) except for `appendfsync`, which is the variable under test.
 */
export async function startRedis(fsync: FsyncMode): Promise<BenchRedis> {
  const dir = makeTempDir(`redis-${fsync}`);
  let server: RedisServer;
  try {
    server = await startRedisServer({ dir, fsync, startTimeoutMs: START_TIMEOUT_MS });
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
  return {
    url: server.url,
    pid: server.pid,
    fsync,
    version: server.version,
    stop: async () => {
      await server.stop();
      removeTempDir(dir);
    },
  };
}
