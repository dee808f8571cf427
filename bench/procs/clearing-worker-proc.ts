import { readFileSync } from 'node:fs';
import { LineFeed, spawnTracked, waitForLine } from '../harness/processes.js';

/** `switchyard clearing worker --config FILE`, running and ready to take jobs. */
export interface RunningClearingWorker {
  readonly pid: number;
  /** The process's peak resident set so far (VmHWM: every thread's, the job's worker thread included), MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts the standalone clearing worker on a switch's config file (its
 * redis.url, clearing.outDir, switchId) and resolves on its "clearing worker
 * up" log line, so its start-up is not counted in a clearing's time.
 */
export async function startClearingWorker(configPath: string): Promise<RunningClearingWorker> {
  const feed = new LineFeed();
  const tracked = spawnTracked(
    process.execPath,
    ['dist/src/cli/main.js', 'clearing', 'worker', '--config', configPath],
    { onLine: feed.push },
  );
  try {
    await waitForLine(
      tracked,
      feed,
      (parsed) => ((parsed as { msg?: unknown }).msg === 'clearing worker up' ? true : undefined),
      READY_TIMEOUT_MS,
      'clearing worker',
    );
  } catch (error) {
    await tracked.stop();
    throw error;
  }
  return {
    pid: tracked.pid,
    peakRssMiB: () => statusKiB(tracked.pid, 'VmHWM') / 1024,
    stop: async () => {
      await tracked.stop(30_000);
    },
  };
}

/** A `kB` field of /proc/<pid>/status. */
function statusKiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`));
  const kib = line === undefined ? Number.NaN : Number.parseInt(line.slice(field.length + 1).trim(), 10);
  if (!Number.isFinite(kib)) throw new Error(`/proc/${pid}/status has no ${field}`);
  return kib;
}
