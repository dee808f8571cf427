import { Redis, type RedisOptions } from 'ioredis';

/**
 * The longest wait between two reconnects, and between two ready checks
 * while Redis loads its AOF. Once Redis is back, a connection is at most
 * this late to see it, and the switch answers 96 (and says not ready) for
 * as long: 1 s here cost about half a second per Redis restart, where this
 * costs a tenth (docs/performance-log.md). A try against a Redis still away
 * is a refused connect, or one connect timeout, and an INFO while it loads:
 * a few a second per connection is nothing to either side.
 */
export const RECONNECT_DELAY_MAX_MS = 200;

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
    // Back off to at most RECONNECT_DELAY_MAX_MS between reconnects; never give up.
    retryStrategy: (attempt) => Math.min(50 * attempt, RECONNECT_DELAY_MAX_MS),
    // ioredis would wait Redis's loading ETA (at least 1 s) between ready checks.
    maxLoadingRetryTime: RECONNECT_DELAY_MAX_MS,
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

/** ioredis's connection states other than ready, as a person reads them. */
const NOT_READY: Readonly<Record<string, string>> = {
  wait: 'not connected yet',
  connecting: 'connecting',
  // Connected, and its ready check waits for Redis (loading its AOF, say).
  connect: 'connected, Redis not ready yet',
  reconnecting: 'reconnecting',
  close: 'disconnected',
  end: 'closed',
};

/**
 * Why a connection cannot be used now, in a few words for /readyz
 * ("reconnecting"); undefined when it is ready. Never where Redis is: the
 * URL may hold a password.
 */
export function notReadyReason(redis: Redis): string | undefined {
  if (redis.status === 'ready') return undefined;
  return NOT_READY[redis.status] ?? redis.status;
}
