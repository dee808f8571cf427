import { LineFeed, spawnTracked, waitForLine } from '../harness/processes.js';
import type { Listen } from './switch-proc.js';

export interface RunningEcho {
  readonly pid: number;
  readonly listen: Listen;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Starts bench/procs/echo-server.ts as its own process (like the switch),
 * both listeners on free ports; with `redisUrl`, as the floor server, making
 * its durable writes to that Redis.
 */
export async function startEchoProcess(options: { readonly redisUrl?: string } = {}): Promise<RunningEcho> {
  const feed = new LineFeed();
  const args = ['dist/bench/procs/echo-server.js'];
  if (options.redisUrl !== undefined) args.push('--redis', options.redisUrl);
  const tracked = spawnTracked(process.execPath, args, { onLine: feed.push });
  try {
    const listen = await waitForLine(
      tracked,
      feed,
      (parsed) => {
        const entry = parsed as { msg?: unknown; listen?: Listen };
        return entry.msg === 'echo ready' ? entry.listen : undefined;
      },
      READY_TIMEOUT_MS,
      options.redisUrl === undefined ? 'echo server' : 'floor server',
    );
    return {
      pid: tracked.pid,
      listen,
      stop: async () => {
        await tracked.stop();
      },
    };
  } catch (error) {
    await tracked.stop();
    throw error;
  }
}
