import { Redis, type RedisOptions } from 'ioredis';

/**
 * Request-path Redis connections fail fast: no offline queue, so a command
 * issued while Redis is down errors at once (the switch answers 96) instead of
 * waiting in memory for a reconnect. ioredis still reconnects by itself.
 */
export function createRequestPathRedis(url: string, name: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Back off to at most 1 s between reconnects; never give up.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    lazyConnect: true,
    ...extra,
  });
}

/** PING with a deadline; false on any failure. Used by /readyz. */
export async function pingWithin(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const pong = redis.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    );
    return await Promise.race([pong, deadline]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
