import type { Redis } from 'ioredis';
import { infoField } from './redis-info.js';

/**
 * What the switch (and BullMQ, which runs its jobs) needs of a Redis
 * (docs/operations.md): nothing evicted (`maxmemory-policy noeviction`: an
 * evicted account, journal entry or job is lost money or a lost job), and
 * the AOF on (an answer is sent only after its commit is in the AOF).
 * Read from INFO, which managed Redis services allow where CONFIG GET is
 * often refused. Returns every problem, worded for the operator; none when
 * the Redis is fit.
 */
export async function redisProblems(redis: Redis): Promise<string[]> {
  const [memory, persistence] = await Promise.all([redis.info('memory'), redis.info('persistence')]);
  const problems: string[] = [];
  const policy = infoField(memory, 'maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    problems.push(
      `maxmemory-policy is ${policy}: it must be noeviction (Redis would evict ledger records and jobs when full)`,
    );
  }
  if (infoField(persistence, 'aof_enabled') !== '1') {
    problems.push(
      'the AOF is off: appendonly must be yes (an approval is durable only once it is in the AOF)',
    );
  }
  return problems;
}
