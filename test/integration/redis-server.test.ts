import { existsSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../src/store/redis-server.js';
import { pidAlive, removeDir, trackDir } from '../helpers/processes.js';

// The one "start a private redis-server" (the switch's managed redis, the tests' and the bench's):
// its options. The switch's own use is covered by managed-redis.test.ts.

const servers: RedisServer[] = [];
const clients: Redis[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.allSettled(servers.splice(0).map((s) => s.stop()));
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-server-'));
  trackDir(dir);
  dirs.push(dir);
  return dir;
}

async function started(server: Promise<RedisServer>): Promise<{ server: RedisServer; client: Redis }> {
  const s = await server;
  servers.push(s);
  const client = new Redis(s.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  // The last test stops and kills servers under a connected client: its reconnect errors are expected.
  client.on('error', () => {});
  clients.push(client);
  await client.connect();
  return { server: s, client };
}

async function configGet(client: Redis, name: string): Promise<string | undefined> {
  const reply = (await client.config('GET', name)) as string[];
  return reply[1];
}

describe('startRedisServer', () => {
  it("defaults to the switch's durability settings, without log or pid files", async () => {
    const dir = tempDir();
    const { server, client } = await started(startRedisServer({ dir }));
    expect(server.fsync).toBe('always');
    expect(await configGet(client, 'appendonly')).toBe('yes');
    expect(await configGet(client, 'appendfsync')).toBe('always');
    expect(await configGet(client, 'no-appendfsync-on-rewrite')).toBe('no');
    expect(await configGet(client, 'maxmemory-policy')).toBe('noeviction');
    expect(await configGet(client, 'save')).toBe('');
    expect(await configGet(client, 'bind')).toBe('127.0.0.1');
    expect(await configGet(client, 'dir')).toBe(realpathSync(dir));
    expect(server.version).toBe(/redis_version:([^\r\n]+)/.exec(await client.info('server'))?.[1]);
    expect(existsSync(join(dir, 'redis.log'))).toBe(false);
    expect(existsSync(join(dir, 'redis.pid'))).toBe(false);
  });

  it('runs the fsync policy it is given (the bench compares everysec)', async () => {
    const { client } = await started(startRedisServer({ dir: tempDir(), fsync: 'everysec' }));
    expect(await configGet(client, 'appendonly')).toBe('yes');
    expect(await configGet(client, 'appendfsync')).toBe('everysec');
    expect(await configGet(client, 'maxmemory-policy')).toBe('noeviction');
  });

  it("fsync 'off' runs without an AOF: nothing is persisted", async () => {
    const dir = tempDir();
    const { client } = await started(startRedisServer({ dir, fsync: 'off' }));
    expect(await configGet(client, 'appendonly')).toBe('no');
    expect(await configGet(client, 'save')).toBe('');
    await client.set('switchyard:test', 'volatile');
    expect(existsSync(join(dir, 'appendonlydir'))).toBe(false);
  });

  it('writes redis.log and redis.pid into its directory when asked', async () => {
    const dir = tempDir();
    const { server } = await started(startRedisServer({ dir, logAndPidFiles: true }));
    expect(existsSync(join(dir, 'redis.log'))).toBe(true);
    expect(existsSync(join(dir, 'redis.pid'))).toBe(true);
    expect(pidAlive(server.pid)).toBe(true);
  });

  it('stop() reports a graceful exit as requested; a kill from outside is not', async () => {
    const first = await started(startRedisServer({ dir: tempDir(), fsync: 'off' }));
    expect(await first.server.stop()).toBe(true);
    expect(await first.server.exited).toMatchObject({ requested: true, signal: null, code: 0 });
    expect(pidAlive(first.server.pid)).toBe(false);

    const second = await started(startRedisServer({ dir: tempDir(), fsync: 'off' }));
    process.kill(second.server.pid, 'SIGKILL');
    expect(await second.server.exited).toMatchObject({ requested: false, signal: 'SIGKILL' });
  });
});
