import type { Redis } from 'ioredis';
import { type KeySpace, SHARD_COUNT } from './keys.js';

/**
 * Takes ownership of every shard with a new fencing epoch. One switch process
 * owns all shards today; the scale-out issue replaces this with per-shard
 * leases, and commits already check the epoch of each shard they touch, so a
 * process that lost a shard cannot write to it.
 */
export async function claimAllShards(redis: Redis, keys: KeySpace): Promise<number> {
  const epoch = await redis.incr(keys.epochCounter());
  const args: string[] = [];
  for (let shard = 0; shard < SHARD_COUNT; shard++) args.push(keys.epoch(shard), String(epoch));
  await redis.mset(...args);
  return epoch;
}
