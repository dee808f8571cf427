import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/observability/log.js';
import { type ManagedRedis, startManagedRedis } from '../../src/store/managed-redis.js';
import {
  findRedisServer,
  REDIS_NOT_INSTALLED_MESSAGE,
  RedisNotInstalledError,
  RedisStartError,
} from '../../src/store/redis-server.js';
import { pidAlive, removeDir, terminate, trackChild, trackDir, waitFor } from '../helpers/processes.js';

// Everything started here is stopped in afterEach, whatever the test's outcome.
const instances: ManagedRedis[] = [];
const clients: Redis[] = [];
const dirs: string[] = [];
const strayPids: number[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.allSettled(instances.splice(0).map((r) => r.stop()));
  for (const pid of strayPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-'));
  trackDir(dir);
  dirs.push(dir);
  return dir;
}

function capturingLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const log = createLogger('debug', (line) => raw.push(line));
  return { log, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function start(dataDir: string, log: Logger): Promise<ManagedRedis> {
  const redis = await startManagedRedis({ dataDir, log });
  instances.push(redis);
  return redis;
}

function connect(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  clients.push(client);
  return client;
}

async function configGet(client: Redis, name: string): Promise<string | undefined> {
  const reply = (await client.config('GET', name)) as string[];
  return reply[1];
}

/** A fake `redis-server` placed first on PATH, running `script` (sh). */
function fakeRedisServer(script: string): NodeJS.ProcessEnv {
  const bin = join(tempDir(), 'bin');
  mkdirSync(bin);
  const file = join(bin, 'redis-server');
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return { ...process.env, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` };
}

describe('findRedisServer', () => {
  it('finds redis-server on PATH', () => {
    expect(findRedisServer(process.env)).toMatch(/\/redis-server$/);
  });

  it('returns undefined when PATH holds no redis-server', () => {
    expect(findRedisServer({ PATH: tempDir() })).toBeUndefined();
    expect(findRedisServer({})).toBeUndefined();
  });
});

describe('startManagedRedis', () => {
  it('runs redis with AOF, fsync always, noeviction, loopback only, under <dataDir>/redis', async () => {
    const dataDir = tempDir();
    const { log, lines } = capturingLogger();
    const redis = await start(dataDir, log);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);

    const client = connect(redis.url);
    await client.connect();
    expect(await configGet(client, 'appendonly')).toBe('yes');
    expect(await configGet(client, 'appendfsync')).toBe('always');
    expect(await configGet(client, 'no-appendfsync-on-rewrite')).toBe('no');
    expect(await configGet(client, 'maxmemory-policy')).toBe('noeviction');
    expect(await configGet(client, 'bind')).toBe('127.0.0.1');
    expect(await configGet(client, 'protected-mode')).toBe('yes');
    expect(await configGet(client, 'save')).toBe('');
    expect(await configGet(client, 'rdbcompression')).toBe('no');
    expect(await configGet(client, 'dir')).toBe(realpathSync(join(dataDir, 'redis')));
    expect(Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1])).toBe(redis.pid);
    expect(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8').trim()).toBe(String(redis.pid));

    const started = lines().filter((l) => l['level'] === 'info');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ port: redis.port, pid: redis.pid, dir: join(dataDir, 'redis') });
    expect(String(started[0]?.['msg'])).toMatch(/private redis-server.*fsync=always/);
  });

  it('stop() ends the process, and a second stop() is harmless', async () => {
    const { log, lines } = capturingLogger();
    const redis = await start(tempDir(), log);
    expect(pidAlive(redis.pid)).toBe(true);
    await redis.stop();
    expect(pidAlive(redis.pid)).toBe(false);
    await redis.stop();
    // A requested stop is not reported as a crash.
    expect(lines().filter((l) => l['level'] === 'error')).toEqual([]);
  });

  it('keeps data across a stop and a restart (the AOF is the record)', async () => {
    const dataDir = tempDir();
    const { log } = capturingLogger();
    const first = await start(dataDir, log);
    const writer = connect(first.url);
    await writer.connect();
    await writer.set('switchyard:test', 'durable');
    writer.disconnect();
    await first.stop();

    const second = await start(dataDir, log);
    const reader = connect(second.url);
    await reader.connect();
    expect(await reader.get('switchyard:test')).toBe('durable');
  });

  it('stops a leftover redis-server named by the pidfile before starting a new one', async () => {
    const dataDir = tempDir();
    const leftoverLog = capturingLogger();
    // Stands in for the redis of a switch killed with -9: still running, pidfile in place.
    const leftover = await start(dataDir, leftoverLog.log);
    expect(pidAlive(leftover.pid)).toBe(true);

    const { log, lines } = capturingLogger();
    const fresh = await start(dataDir, log);
    expect(pidAlive(leftover.pid)).toBe(false);
    expect(fresh.pid).not.toBe(leftover.pid);
    const warnings = lines().filter((l) => l['level'] === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ pid: leftover.pid });
    expect(String(warnings[0]?.['msg'])).toMatch(/leftover/);

    const client = connect(fresh.url);
    await client.connect();
    expect(await client.ping()).toBe('PONG');
  });

  it('leaves alone a live process that the pidfile names but that is not redis-server', async () => {
    const dataDir = tempDir();
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    trackChild(sleeper);
    try {
      mkdirSync(join(dataDir, 'redis'), { recursive: true });
      writeFileSync(join(dataDir, 'redis', 'redis.pid'), `${sleeper.pid}\n`);
      const { log } = capturingLogger();
      const redis = await start(dataDir, log);
      expect(pidAlive(redis.pid)).toBe(true);
      expect(sleeper.exitCode).toBeNull();
      expect(sleeper.signalCode).toBeNull();
    } finally {
      await terminate(sleeper, 'SIGKILL', 1_000);
    }
  });

  it('throws RedisNotInstalledError naming the package when PATH has no redis-server', async () => {
    const emptyBin = tempDir();
    const { log } = capturingLogger();
    const attempt = startManagedRedis({ dataDir: tempDir(), log, env: { ...process.env, PATH: emptyBin } });
    await expect(attempt).rejects.toBeInstanceOf(RedisNotInstalledError);
    await expect(attempt).rejects.toMatchObject({
      code: 'SWITCHYARD_REDIS_NOT_INSTALLED',
      message: REDIS_NOT_INSTALLED_MESSAGE,
    });
    expect(REDIS_NOT_INSTALLED_MESSAGE).toContain('apt-get install redis-server');
  });

  it('reports a redis-server that exits at start with its output', async () => {
    const env = fakeRedisServer('echo "FATAL CONFIG FILE ERROR: made up for the test" >&2\nexit 1');
    const { log } = capturingLogger();
    const attempt = startManagedRedis({ dataDir: tempDir(), log, env });
    await expect(attempt).rejects.toBeInstanceOf(RedisStartError);
    await expect(attempt).rejects.toMatchObject({
      code: 'SWITCHYARD_REDIS_START_FAILED',
      message: expect.stringContaining('FATAL CONFIG FILE ERROR: made up for the test'),
    });
  });

  it('retries on a fresh port when the probed port is taken before redis binds it', async () => {
    const realBin = findRedisServer(process.env);
    expect(realBin).toBeDefined();
    const dataDir = tempDir();
    const attemptsFile = join(dataDir, 'attempts');
    // First run: behave like redis losing the bind race; then run the real server with our arguments.
    const env = fakeRedisServer(
      [
        `echo x >> '${attemptsFile}'`,
        `if [ "$(wc -l < '${attemptsFile}')" -eq 1 ]; then`,
        '  echo "Warning: Could not create server TCP listening socket 127.0.0.1:1: bind: Address already in use" >&2',
        '  exit 1',
        'fi',
        `exec '${realBin}' "$@"`,
      ].join('\n'),
    );
    const { log } = capturingLogger();
    const redis = await startManagedRedis({ dataDir, log, env });
    instances.push(redis);
    expect(readFileSync(attemptsFile, 'utf8').trim().split('\n')).toHaveLength(2);
    const client = connect(redis.url);
    await client.connect();
    expect(await client.ping()).toBe('PONG');
  });

  it('gives up after the start timeout, kills the silent child, and reports it', async () => {
    const dataDir = tempDir();
    const pidFile = join(dataDir, 'fake.pid');
    const env = fakeRedisServer(`echo $$ > '${pidFile}'\nexec sleep 30`);
    const { log } = capturingLogger();
    const attempt = startManagedRedis({ dataDir, log, env, startTimeoutMs: 300 });
    await expect(attempt).rejects.toThrow(/did not answer PING within 300 ms/);
    const fakePid = Number(readFileSync(pidFile, 'utf8').trim());
    strayPids.push(fakePid);
    expect(await waitFor(() => !pidAlive(fakePid), 2_000)).toBe(true);
  });

  it('logs an unexpected exit of redis-server as an error', async () => {
    const { log, lines } = capturingLogger();
    const redis = await start(tempDir(), log);
    process.kill(redis.pid, 'SIGKILL');
    expect(await waitFor(() => lines().some((l) => l['level'] === 'error'), 5_000)).toBe(true);
    expect(lines().find((l) => l['level'] === 'error')).toMatchObject({ pid: redis.pid, signal: 'SIGKILL' });
  });
});
