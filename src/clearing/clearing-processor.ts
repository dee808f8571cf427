import { readlinkSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
import { type SandboxedJob, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { keySpace } from '../store/keys.js';
import { clearRange } from './clear-range.js';
import { UnbalancedSettlementError, writeSettlementFile } from './cycle-files.js';
import { cycleDir } from './cycle-paths.js';
import { CycleStore } from './cycle-store.js';
import { renderSettlementJson } from './settlement.js';

/** What the clearing worker thread is started with (the switch's config, resolved). */
export interface ClearingWorkerData {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly outDir: string;
  /** The issuer of on-us items (its file is `<switchId>.csv`). */
  readonly switchId: string;
  readonly cycleMs: number;
}

/** A clearing job: the cycle it clears (docs/clearing.md). */
export interface ClearingJobData {
  readonly cycle: number;
}

let redis: Redis | undefined;

/**
 * The clearing job's processor (docs/clearing.md), run in a BullMQ sandbox
 * (a worker thread of the switch, or of `switchyard clearing worker`): reads
 * the closed cycle's range of every journal partition, writes its files
 * atomically, then stores the settlement in Redis (`done`), which GET
 * /clearing/cycles/{cycle} answers. Run again (a retry, a worker killed
 * midway, a rerun), it writes the same bytes. A cycle whose nets do not sum
 * to zero is `failed` at once, with no CSV written, and not retried.
 */
export default async function clearCycle(job: SandboxedJob<ClearingJobData>): Promise<{ items: number }> {
  const o = workerData as ClearingWorkerData;
  yieldToTraffic();
  if (redis === undefined) {
    redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null, connectionName: 'switchyard-clearing' });
    // Without a listener ioredis prints every reconnect failure to stderr, past the logger, for as
    // long as Redis is away; the job's own failure and the queue's "clearing: redis error" say it.
    redis.on('error', () => {});
  }
  const keys = keySpace(o.keyPrefix);
  const cycles = new CycleStore(redis, keys, o.cycleMs);
  const { cycle } = job.data;
  const range = await cycles.range(cycle);
  if (range === undefined) throw new UnrecoverableError(`clearing cycle ${cycle} is not closed`);
  await removeTempFiles(cycleDir(o.outDir, cycle));
  try {
    const settlement = await clearRange(
      { redis, keys, range, switchId: o.switchId },
      { outDir: o.outDir, cycle, status: 'done' },
    );
    await cycles.setSettlementText(cycle, renderSettlementJson(settlement));
    return { items: settlement.items };
  } catch (error) {
    if (!(error instanceof UnbalancedSettlementError)) throw error;
    const failed = { ...error.settlement, status: 'failed' as const };
    await writeSettlementFile(o.outDir, failed);
    await cycles.setSettlementText(cycle, renderSettlementJson(failed));
    throw new UnrecoverableError(error.message);
  }
}

/**
 * What a worker killed mid-job left: its files' temporary names (hidden,
 * `.tmp`). One job per cycle runs at a time (BullMQ's lock), so any found
 * when a job starts is an orphan.
 */
async function removeTempFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (name.startsWith('.') && name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
  }
}

/** The lowest scheduling priority (nice 19). */
const NICE_LOWEST = 19;

/**
 * Lowers this thread's priority (Linux: a thread is a task of its own),
 * so clearing takes the CPU the switch's threads leave and does not raise
 * their latency: on two cores, clearing at equal priority doubled the p99
 * of a switch at half its capacity; at nice 19 it added about half
 * (docs/performance.md, "Clearing"). Done per job, because BullMQ keeps
 * the thread for the next one; a system where it cannot be done clears at
 * normal priority.
 */
function yieldToTraffic(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, NICE_LOWEST);
  } catch {
    // Not Linux, or not allowed: the job runs at the priority it has.
  }
}
