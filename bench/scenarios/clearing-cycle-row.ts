import { loadavg } from 'node:os';
import type { ClearingPlan } from '../harness/plan.js';
import { cpuTimeMs } from '../harness/processes.js';
import { awaitAofRewrite, startRedis } from '../harness/redis.js';
import { type Spread, spread } from '../harness/stats.js';
import { cutoff, cycleEnd } from '../procs/clearing-calls.js';
import { startClearingWorker } from '../procs/clearing-worker-proc.js';
import { plantJournalAt } from '../procs/journal-seed.js';
import { startSwitch } from '../procs/switch-proc.js';
import { below, TARGET_PEAK_RSS_MIB_MAX, TARGET_SECONDS_MAX, type Verdict } from './clearing-targets.js';

/**
 * The "clearing 1M" row (issue 18): a switch that runs no clearing worker
 * (`clearing.worker: false`) on a fresh bench Redis, `items` cleared items
 * planted in its journal, a standalone `switchyard clearing worker` on the
 * switch's config, started and ready, then `POST /clearing/cutoff`: the
 * seconds from the cutoff's answer to `GET /clearing/cycles/{n}` saying
 * `done`, and the worker process's peak RSS (VmHWM: the job runs in a worker
 * thread of that process).
 */

export const CLEARING_CYCLE_ROW = 'clearing-cycle';

/** Fine enough for a clearing of seconds; each poll is one admin GET. */
const POLL_MS = 10;
const CLEARED_WITHIN_MS = 300_000;

export interface ClearingCycleSample {
  readonly items: number;
  readonly records: number;
  readonly entries: number;
  readonly plantMs: number;
  /** Cutoff's answer to the first GET that said `done`. */
  readonly seconds: number;
  readonly itemsPerS: number;
  /** VmHWM of the standalone worker process after the job, MiB. */
  readonly workerPeakRssMiB: number;
  /** CPU seconds (user + system) from cutoff to done: the worker process (all threads) and Redis. */
  readonly cpuS: { readonly worker: number; readonly redis: number };
  /** The machine's 1-minute load average when the cutoff was sent. */
  readonly loadAverage1m: number;
}

export interface ClearingCycleResult {
  readonly id: string;
  readonly title: string;
  readonly items: number;
  readonly recordsPerEntry: number;
  readonly samples: readonly ClearingCycleSample[];
  readonly seconds: Spread;
  readonly itemsPerS: Spread;
  readonly workerPeakRssMiB: Spread;
  /** The medians against issue 18's targets (n/a below 1,000,000 items). */
  readonly verdict: { readonly seconds: Verdict; readonly memory: Verdict };
}

async function clearOnce(plan: ClearingPlan, label: string): Promise<ClearingCycleSample> {
  const redis = await startRedis('always');
  try {
    const sw = await startSwitch(redis.url, { config: { clearing: { worker: false } } });
    try {
      const planted = await plantJournalAt(redis.url, {
        items: plan.items,
        recordsPerEntry: plan.recordsPerEntry,
        ids: 'store-clock',
      });
      const settledMs = await awaitAofRewrite(redis.url);
      const worker = await startClearingWorker(sw.configPath);
      try {
        const loadAverage1m = loadavg()[0]!;
        const before = { worker: cpuTimeMs(worker.pid), redis: cpuTimeMs(redis.pid) };
        const { cycle, answeredAtMs } = await cutoff(sw);
        const end = await cycleEnd(sw, cycle, POLL_MS, CLEARED_WITHIN_MS);
        if (end.status !== 'done' || end.items !== planted.items) {
          throw new Error(
            `${label}: cycle ${cycle} ended ${end.status} with ${end.items} items, ${planted.items} planted`,
          );
        }
        const seconds = (end.seenAtMs - answeredAtMs) / 1000;
        const cpuS = (name: 'worker' | 'redis', pid: number): number =>
          ((cpuTimeMs(pid) ?? Number.NaN) - (before[name] ?? Number.NaN)) / 1000;
        const sample: ClearingCycleSample = {
          items: end.items,
          records: planted.records,
          entries: planted.entries,
          plantMs: planted.elapsedMs,
          seconds,
          itemsPerS: end.items / seconds,
          workerPeakRssMiB: worker.peakRssMiB(),
          cpuS: { worker: cpuS('worker', worker.pid), redis: cpuS('redis', redis.pid) },
          loadAverage1m,
        };
        process.stderr.write(
          `  ${label}: ${planted.items.toLocaleString('en-US')} items (${planted.records.toLocaleString('en-US')} records, ` +
            `planted in ${planted.elapsedMs} ms, AOF settled in ${settledMs} ms): ` +
            `${seconds.toFixed(2)} s, ${Math.round(sample.itemsPerS).toLocaleString('en-US')} items/s, ` +
            `worker peak RSS ${Math.round(sample.workerPeakRssMiB)} MiB, CPU worker ${sample.cpuS.worker.toFixed(1)} s ` +
            `redis ${sample.cpuS.redis.toFixed(1)} s, load average ${loadAverage1m.toFixed(1)}\n`,
        );
        return sample;
      } finally {
        await worker.stop();
      }
    } finally {
      await sw.stop();
    }
  } finally {
    await redis.stop();
  }
}

export async function runClearingCycleRow(plan: ClearingPlan): Promise<ClearingCycleResult> {
  process.stderr.write(`\nclearing: ${CLEARING_CYCLE_ROW} (standalone worker)\n`);
  const samples: ClearingCycleSample[] = [];
  for (let i = 0; i < plan.repeats; i++) {
    samples.push(
      await clearOnce(plan, `${CLEARING_CYCLE_ROW}${plan.repeats > 1 ? ` #${i + 1}/${plan.repeats}` : ''}`),
    );
  }
  return summarizeClearingCycle(plan.items, plan.recordsPerEntry, samples);
}

/** The row from its repeats: medians and ranges, and the medians against issue 18's targets. */
export function summarizeClearingCycle(
  items: number,
  recordsPerEntry: number,
  samples: readonly ClearingCycleSample[],
): ClearingCycleResult {
  const seconds = spread(samples.map((s) => s.seconds));
  const workerPeakRssMiB = spread(samples.map((s) => s.workerPeakRssMiB));
  return {
    id: CLEARING_CYCLE_ROW,
    title: `clearing ${compactCount(items)} items, standalone worker`,
    items,
    recordsPerEntry,
    samples,
    seconds,
    itemsPerS: spread(samples.map((s) => s.itemsPerS)),
    workerPeakRssMiB,
    verdict: {
      seconds: below(seconds.median, TARGET_SECONDS_MAX, items),
      memory: below(workerPeakRssMiB.median, TARGET_PEAK_RSS_MIB_MAX, items),
    },
  };
}

/** 1,000,000 as "1M", 100,000 as "100k". */
export function compactCount(n: number): string {
  return n >= 1_000_000 && n % 1_000_000 === 0
    ? `${n / 1_000_000}M`
    : n >= 1_000 && n % 1_000 === 0
      ? `${n / 1_000}k`
      : String(n);
}
