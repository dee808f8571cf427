import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnswerRelease, Msg, ReleasableAnswers } from '../../bench/procs/answer-release.js';
import { releaseAfterDurableWrite } from '../../bench/procs/durable-release.js';
import { EVENTUALLY_MS, sleep, waitFor } from '../helpers/processes.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';

// The floor server's group commit (bench/procs/durable-release.ts), against a real redis-server with
// fsync always: answers leave only after the turn's one write returned, and what arrives while a
// write is at Redis waits for the next one. CLIENT PAUSE WRITE holds the write at Redis for as long
// as the test needs, so no check depends on how fast the machine is.

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A connection with one answer queued, logging when the release takes and sends it. */
function connection(name: string, log: string[]): ReleasableAnswers {
  return {
    take: (): Msg[] => {
      log.push(`take ${name}`);
      return [{ id: name }];
    },
    send: (responses) => {
      log.push(`send ${responses.map((r) => r.id).join(',')}`);
    },
  };
}

async function setUp(): Promise<{ redis: RedisHandle; admin: Redis; release: AnswerRelease }> {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const admin = new Redis(redis.url, { lazyConnect: true });
  await admin.connect();
  cleanups.push(() => admin.disconnect());
  const release = await releaseAfterDurableWrite(redis.url);
  cleanups.push(() => release.close());
  return { redis, admin, release };
}

describe('floor server release', () => {
  it('sends a turn’s answers after its one write returns; later arrivals wait for the next write', async () => {
    const { admin, release } = await setUp();
    const log: string[] = [];
    // Unpaused explicitly below; the 60 s bound only frees Redis if the test dies first.
    await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    cleanups.push(() => void admin.call('CLIENT', 'UNPAUSE').catch(() => undefined));

    release.queue(connection('a', log));
    release.queue(connection('b', log));
    expect(await waitFor(() => log.includes('take b'), EVENTUALLY_MS, 5)).toBe(true);
    release.queue(connection('c', log));
    // Time for a wrong release to send early; a right one cannot, whatever the delay: the write is paused.
    await sleep(100);
    expect(log).toEqual(['take a', 'take b']);

    await admin.call('CLIENT', 'UNPAUSE');
    expect(await waitFor(() => log.includes('send c'), EVENTUALLY_MS, 5)).toBe(true);
    expect(log).toEqual(['take a', 'take b', 'send a', 'send b', 'take c', 'send c']);
    // One write for a and b, read in one turn; one for c.
    expect(await admin.get('floor:turns')).toBe('2');
  });

  it('makes one write per turn, not one per connection', async () => {
    const { admin, release } = await setUp();
    const log: string[] = [];
    const names = Array.from({ length: 50 }, (_, i) => `n${i}`);
    for (const name of names) release.queue(connection(name, log));
    expect(await waitFor(() => log.length === names.length * 2, EVENTUALLY_MS, 5)).toBe(true);
    expect(await admin.get('floor:turns')).toBe('1');
  });
});
