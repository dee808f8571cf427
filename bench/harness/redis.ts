import { Redis } from 'ioredis';
import { type RedisServer, startRedisServer } from '../../src/store/redis-server.js';
import { makeTempDir, removeTempDir, sleep } from './processes.js';

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

const AOF_REWRITE_POLL_MS = 100;
const AOF_REWRITE_TIMEOUT_MS = 120_000;

/**
 * Waits until no AOF rewrite runs or is scheduled (INFO persistence), so a
 * rewrite that bulk writes started does not land in the next measurement;
 * the ms it waited.
 */
export async function awaitAofRewrite(url: string): Promise<number> {
  const redis = new Redis(url);
  const started = performance.now();
  try {
    while (performance.now() - started < AOF_REWRITE_TIMEOUT_MS) {
      const info = await redis.info('persistence');
      if (/^aof_rewrite_in_progress:0\r?$/m.test(info) && /^aof_rewrite_scheduled:0\r?$/m.test(info)) {
        return Math.round(performance.now() - started);
      }
      await sleep(AOF_REWRITE_POLL_MS);
    }
    throw new Error(`redis AOF rewrite still running after ${AOF_REWRITE_TIMEOUT_MS} ms`);
  } finally {
    redis.disconnect();
  }
}

/** AOF rewrites the server has started since it started (INFO persistence `aof_rewrites`). */
export async function aofRewriteCount(url: string): Promise<number> {
  const redis = new Redis(url);
  try {
    const match = /^aof_rewrites:(\d+)\r?$/m.exec(await redis.info('persistence'));
    if (match === null) throw new Error('redis INFO persistence has no aof_rewrites');
    return Number(match[1]);
  } finally {
    redis.disconnect();
  }
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
