import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { waitFor } from './processes.js';

/**
 * A client of a real Redis that dies after sending a given number of bytes,
 * as a process killed with SIGKILL does: what it sent before reaches Redis
 * and is applied, a command cut in half is discarded by Redis, a MULTI it
 * never EXECed is dropped when the connection goes, and nothing after is
 * sent. Fault injection on the wire (below ioredis's pipelines and
 * transactions), not a mock: every command runs on the real server.
 */
export interface CrashingRedis {
  readonly client: Redis;
  /** Whether the budget ran out (the client is dead). */
  crashed(): boolean;
  /** Bytes sent so far. */
  sentBytes(): number;
  /** The bytes sent after each socket write (one command, or one pipeline or MULTI/EXEC): where commands end. */
  writeEnds(): readonly number[];
  /**
   * Waits until Redis has dropped the connection, so everything it received
   * was applied before anyone looks; then disconnects. `observer` is another
   * client of the same Redis.
   */
  settle(observer: Redis): Promise<void>;
}

export async function crashingRedis(url: string, budgetBytes: number): Promise<CrashingRedis> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A dead process does not reconnect.
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  await client.connect();
  const clientId = String(await client.client('ID'));
  const socket = (client as unknown as { stream: Socket }).stream;
  const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  let left = budgetBytes;
  let sent = 0;
  const ends: number[] = [];
  let crashed = false;
  socket.write = ((chunk: string | Uint8Array, encoding?: unknown): boolean => {
    if (crashed) return true;
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk);
    if (bytes.length <= left) {
      left -= bytes.length;
      sent += bytes.length;
      ends.push(sent);
      return write(bytes);
    }
    crashed = true;
    if (left > 0) write(bytes.subarray(0, left));
    sent += left;
    left = 0;
    // end(), not destroy(): what was written still reaches Redis, as a killed process's sent bytes do.
    socket.end();
    return true;
  }) as typeof socket.write;
  return {
    client,
    crashed: () => crashed,
    sentBytes: () => sent,
    writeEnds: () => ends,
    settle: async (observer) => {
      const gone = async () => String(await observer.client('LIST', 'ID', clientId)).trim() === '';
      if (crashed && !(await waitFor(gone, 10_000)))
        throw new Error('Redis kept the crashed connection open');
      client.disconnect();
    },
  };
}
