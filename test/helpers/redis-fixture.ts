import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisHandle, startRedis } from './redis-server.js';

export interface RedisFixture {
  /** The server (its url, port and pid). */
  readonly server: RedisHandle;
  /** A plain client of it, for the test's own reads and writes. */
  readonly client: Redis;
}

/**
 * A private redis-server and a client of it for the calling file or describe block: started
 * before its tests, the client disconnected and the server stopped (by PID) after them. Read
 * the fields inside tests and hooks, not at collection time.
 */
export function useRedisServer(): RedisFixture {
  let server: RedisHandle | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('redis-server not started yet: use the fixture inside tests and hooks');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get client() {
      return started(client);
    },
  };
}
