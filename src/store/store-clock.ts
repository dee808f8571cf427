import type { Redis } from 'ioredis';

/** The store's clock in ms (TIME): what stream ids, so journal order and clearing cuts, are made of. */
export async function storeNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
