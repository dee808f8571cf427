import type { Redis } from 'ioredis';

/** One field of an INFO section (`name:value` lines), or undefined. */
export function infoField(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/** What /metrics shows of the switch's Redis (switchyard_redis_*). */
export interface RedisMemoryAndAof {
  readonly usedMemoryBytes: number;
  /** `maxmemory`; 0 is no limit but the machine's. */
  readonly maxMemoryBytes: number;
  /** `aof_last_write_status:ok`; otherwise Redis refuses writes (every commit then answers 96). */
  readonly aofLastWriteOk: boolean;
}

/** INFO memory and INFO persistence (sent together), read into numbers; rejects when Redis does not answer. */
export async function readRedisInfo(redis: Redis): Promise<RedisMemoryAndAof> {
  const [memory, persistence] = await Promise.all([redis.info('memory'), redis.info('persistence')]);
  return parseRedisInfo(memory, persistence);
}

export function parseRedisInfo(memory: string, persistence: string): RedisMemoryAndAof {
  const number = (info: string, name: string): number => {
    const value = Number(infoField(info, name));
    if (!Number.isFinite(value)) throw new Error(`INFO has no number ${name}`);
    return value;
  };
  return {
    usedMemoryBytes: number(memory, 'used_memory'),
    maxMemoryBytes: number(memory, 'maxmemory'),
    aofLastWriteOk: infoField(persistence, 'aof_last_write_status') === 'ok',
  };
}
