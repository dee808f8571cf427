import { Redis } from 'ioredis';
import { freePort, makeTempDir, removeTempDir, sleep, spawnTracked, type Tracked } from './procs.js';

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

const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 10_000;

/**
 * A private redis-server for one scenario family, configured like the
 * switch's managed one (AOF on, no RDB, noeviction, no fsync relief during
 * rewrites, uncompressed rewrite base) except for `appendfsync`, which is the variable under test.
 */
export async function startRedis(fsync: FsyncMode): Promise<BenchRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = makeTempDir(`redis-${fsync}`);
    const tracked = spawnTracked('redis-server', [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--protected-mode',
      'yes',
      '--daemonize',
      'no',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      fsync,
      '--no-appendfsync-on-rewrite',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--rdbcompression',
      'no',
    ]);
    const version = await waitUntilUp(port, tracked);
    if (version !== undefined) {
      return {
        url: `redis://127.0.0.1:${port}`,
        pid: tracked.pid,
        fsync,
        version,
        stop: async () => {
          await tracked.stop();
          removeTempDir(dir);
        },
      };
    }
    await tracked.stop();
    removeTempDir(dir);
    // Most likely the port was taken between freePort() and bind.
    if (attempt === START_ATTEMPTS) throw new Error(`redis-server did not start:\n${tracked.tail()}`);
  }
}

async function waitUntilUp(port: number, tracked: Tracked): Promise<string | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  void tracked.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      const info = await client.info('server');
      return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    } catch {
      await sleep(50);
    } finally {
      client.disconnect();
    }
  }
  return undefined;
}
