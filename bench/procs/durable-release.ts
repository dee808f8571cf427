import { Redis } from 'ioredis';
import type { AnswerRelease, ReleasableAnswers } from './answer-release.js';

/**
 * The floor server's release (issue 20): the answers to everything read in
 * one event-loop turn leave after one fsync'd Redis write returns (an INCR
 * of one small key; the bench runs its Redis with `appendfsync always`, so
 * Redis replies only after the AOF is on disk). One write at a time: what
 * is read while a write is at Redis waits for the next one, which starts at
 * the end of the turn the previous one returned in, for everything waiting.
 * That is the group commit the switch does too, with no ledger around it:
 * the least a durable answer costs on this machine.
 */

const KEY = 'floor:turns';

export async function releaseAfterDurableWrite(redisUrl: string): Promise<AnswerRelease> {
  // No retries and no offline queue: a floor that did not write must fail the run, not answer anyway.
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  await redis.connect();
  let waiting: ReleasableAnswers[] = [];
  let writing = false;
  let startQueued = false;

  const fail = (error: unknown): void => {
    process.stderr.write(
      `floor server: the durable write failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  };

  const start = (): void => {
    startQueued = false;
    if (writing || waiting.length === 0) return;
    const batch = waiting.map((connection) => ({ connection, responses: connection.take() }));
    waiting = [];
    writing = true;
    redis.incr(KEY).then(() => {
      writing = false;
      for (const { connection, responses } of batch) connection.send(responses);
      queueStart();
    }, fail);
  };

  // At the end of the turn, so one write covers every request this turn reads.
  const queueStart = (): void => {
    if (startQueued || writing || waiting.length === 0) return;
    startQueued = true;
    setImmediate(start);
  };

  return {
    queue(connection) {
      waiting.push(connection);
      queueStart();
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
