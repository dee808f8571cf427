import { LineFeed, spawnTracked, waitForLine } from '../harness/processes.js';
import type { Listen } from './switch-proc.js';

export interface RunningEcho {
  readonly pid: number;
  readonly listen: Listen;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/** Starts bench/procs/echo-server.ts as its own process (like the switch), both listeners on free ports. */
export async function startEchoProcess(): Promise<RunningEcho> {
  const feed = new LineFeed();
  const tracked = spawnTracked(process.execPath, ['dist/bench/procs/echo-server.js'], { onLine: feed.push });
  try {
    const listen = await waitForLine(
      tracked,
      feed,
      (parsed) => {
        const entry = parsed as { msg?: unknown; listen?: Listen };
        return entry.msg === 'echo ready' ? entry.listen : undefined;
      },
      READY_TIMEOUT_MS,
      'echo server',
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
