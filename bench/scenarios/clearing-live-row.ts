import { loadavg } from 'node:os';
import type { LatencyPercentilesMs } from '../../src/sim/latency-histogram.js';
import { openLoop, type Plan } from '../harness/plan.js';
import { awaitAofRewrite, startRedis } from '../harness/redis.js';
import { type Spread, spread } from '../harness/stats.js';
import { type CycleEnd, cutoff, cycleEnd } from '../procs/clearing-calls.js';
import { plantJournalAt } from '../procs/journal-seed.js';
import { runSim, type SimRun } from '../procs/sim-run.js';
import { type RunningSwitch, startSwitch } from '../procs/switch-proc.js';
import { compactCount } from './clearing-cycle-row.js';
import { TARGET_ITEMS, TARGET_P99_RATIO_MAX, type Verdict } from './clearing-targets.js';

/**
 * The "live load while clearing" row (issue 18): one switch with its own
 * clearing worker (the default), its closed-loop capacity measured first
 * (TCP b64), then an open-loop run at half that rate without clearing, then
 * the same run while a cycle of `items` cleared items clears in the switch,
 * its cutoff sent a second into the run. Before the two open-loop runs, a
 * cutoff clears what the warm-up and capacity runs journaled, and the items
 * are planted, so both runs meet the same Redis; the cleared cycle holds the
 * planted items and the holds of the run without clearing (holds clear
 * nothing, but are read).
 */

export const CLEARING_LIVE_ROW = 'clearing-live';

/** Coarser than the standalone row's: each poll is an admin request the switch serves under the load. */
const POLL_MS = 25;
const CLEARED_WITHIN_MS = 300_000;
const SEED = 1;

/** One open-loop run of the row. */
export interface OpenLoopRun {
  readonly approvedPerS: number;
  readonly answered: number;
  /** Answered with an rc other than 00. */
  readonly declined: number;
  /** Sent and never answered. */
  readonly errors: number;
  readonly rcCounts: Readonly<Record<string, number>>;
  readonly latencyMs: LatencyPercentilesMs;
  /** CPU microseconds per answered message: switch (all threads, the clearing's included), redis, sim. */
  readonly cpuUsPerMsg: Readonly<Record<string, number>>;
}

export interface ClearingLiveSample {
  /** The closed-loop run's approvals/s; the open-loop rate is half. */
  readonly capacityPerS: number;
  readonly ratePerS: number;
  readonly quiet: OpenLoopRun;
  readonly clearing: OpenLoopRun;
  /** Cleared items in the cycle the clearing run's cutoff closed. */
  readonly cycleItems: number;
  /** Journal records in it, about: the planted ones and one hold per approval of the run without clearing. */
  readonly cycleRecords: number;
  /** Cutoff's answer to the first GET that said `done`. */
  readonly clearingSeconds: number;
  /** When the clearing started and ended, seconds after the clearing run's simulator was started, and how long it ran. */
  readonly clearingFromS: number;
  readonly clearingToS: number;
  readonly runS: number;
  /** The clearing run's p99 over the run without clearing's. */
  readonly p99Ratio: number;
  readonly loadAverage1m: number;
}

export interface ClearingLiveResult {
  readonly id: string;
  readonly title: string;
  readonly items: number;
  readonly samples: readonly ClearingLiveSample[];
  readonly ratePerS: Spread;
  readonly quietP99Ms: Spread;
  readonly clearingP99Ms: Spread;
  readonly p99Ratio: Spread;
  readonly clearingSeconds: Spread;
  /** Answers other than 00, and requests never answered, in the clearing runs (all repeats). */
  readonly declinedWhileClearing: number;
  readonly verdict: { readonly p99: Verdict; readonly declines: Verdict };
}

function openLoopRun(run: SimRun): OpenLoopRun {
  const s = run.summary;
  const approved = s.rcCounts['00'] ?? 0;
  const cpuUsPerMsg: Record<string, number> = {};
  for (const [name, ms] of Object.entries(run.cpuMs))
    cpuUsPerMsg[name] = s.answered > 0 ? (ms * 1000) / s.answered : 0;
  return {
    approvedPerS: s.elapsedMs > 0 ? (approved * 1000) / s.elapsedMs : 0,
    answered: s.answered,
    declined: s.answered - approved,
    errors: s.errors,
    rcCounts: s.rcCounts,
    latencyMs: s.latencyMs,
    cpuUsPerMsg,
  };
}

/** Cuts off the open cycle and waits for the switch to clear it. */
async function clearNow(sw: RunningSwitch): Promise<CycleEnd> {
  const { cycle } = await cutoff(sw);
  return cycleEnd(sw, cycle, POLL_MS, CLEARED_WITHIN_MS);
}

async function liveOnce(plan: Plan, label: string): Promise<ClearingLiveSample> {
  const c = plan.clearing;
  const redis = await startRedis('always');
  try {
    const sw = await startSwitch(redis.url);
    try {
      const watched = { switch: sw.pid, redis: redis.pid };
      await sw.seedAccounts(c.accounts);
      if (plan.warmupS > 0)
        await runSim(sw, { ...c.capacityLoad, durationS: plan.warmupS }, 'warm-up', 0, watched);
      const capacity = await runSim(sw, c.capacityLoad, `${label} capacity`, SEED, watched);
      const capacityPerS = openLoopRun(capacity).approvedPerS;
      const ratePerS = Math.round(capacityPerS / 2);
      const load = openLoop(ratePerS, c.openS, c.accounts);
      // The warm-up's and capacity run's journal out of the way: their own cycle, cleared now.
      await clearNow(sw);
      const planted = await plantJournalAt(redis.url, {
        items: c.items,
        recordsPerEntry: c.recordsPerEntry,
        ids: 'store-clock',
      });

      await awaitAofRewrite(redis.url);
      const quietRun = await runSim(sw, load, `${label} without clearing, ${ratePerS}/s`, SEED + 1, watched);
      const quiet = openLoopRun(quietRun);
      await awaitAofRewrite(redis.url);

      const loadAverage1m = loadavg()[0]!;
      const startedAtMs = performance.now();
      let cleared: Promise<{ cycle: number; answeredAtMs: number; end: CycleEnd }> | undefined;
      const clearingRun = await runSim(
        sw,
        load,
        `${label} while clearing, ${ratePerS}/s`,
        SEED + 2,
        watched,
        () => {
          if (cleared !== undefined) return;
          cleared = cutoff(sw).then(async ({ cycle, answeredAtMs }) => ({
            cycle,
            answeredAtMs,
            end: await cycleEnd(sw, cycle, POLL_MS, CLEARED_WITHIN_MS),
          }));
          // Awaited after the run; until then a failure must not count as unhandled.
          cleared.catch(() => undefined);
        },
      );
      if (cleared === undefined)
        throw new Error(`${label}: the simulator printed no progress line, so no cutoff was sent`);
      const { cycle, answeredAtMs, end } = await cleared;
      if (end.status !== 'done' || end.items !== planted.items) {
        throw new Error(
          `${label}: cycle ${cycle} ended ${end.status} with ${end.items} items, ${planted.items} planted`,
        );
      }
      const clearing = openLoopRun(clearingRun);
      return {
        capacityPerS,
        ratePerS,
        quiet,
        clearing,
        cycleItems: end.items,
        cycleRecords: planted.records + (quietRun.summary.rcCounts['00'] ?? 0),
        clearingSeconds: (end.seenAtMs - answeredAtMs) / 1000,
        clearingFromS: (answeredAtMs - startedAtMs) / 1000,
        clearingToS: (end.seenAtMs - startedAtMs) / 1000,
        runS: clearingRun.wallMs / 1000,
        p99Ratio: clearing.latencyMs.p99 / quiet.latencyMs.p99,
        loadAverage1m,
      };
    } finally {
      await sw.stop();
    }
  } finally {
    await redis.stop();
  }
}

export async function runClearingLiveRow(plan: Plan): Promise<ClearingLiveResult> {
  process.stderr.write(
    `\nclearing: ${CLEARING_LIVE_ROW} (open loop at half capacity, clearing in the switch)\n`,
  );
  const c = plan.clearing;
  const samples: ClearingLiveSample[] = [];
  for (let i = 0; i < c.repeats; i++) {
    const label = `${CLEARING_LIVE_ROW}${c.repeats > 1 ? ` #${i + 1}/${c.repeats}` : ''}`;
    const s = await liveOnce(plan, label);
    process.stderr.write(
      `  ${label}: capacity ${Math.round(s.capacityPerS).toLocaleString('en-US')}/s, open loop ${s.ratePerS.toLocaleString('en-US')}/s: ` +
        `p99 ${s.quiet.latencyMs.p99.toFixed(2)} ms without clearing, ${s.clearing.latencyMs.p99.toFixed(2)} ms while clearing ` +
        `(x${s.p99Ratio.toFixed(2)}); ${s.cycleItems.toLocaleString('en-US')} items cleared in ${s.clearingSeconds.toFixed(2)} s ` +
        `(${s.clearingFromS.toFixed(1)}-${s.clearingToS.toFixed(1)} s of a ${s.runS.toFixed(1)} s run); ` +
        `not approved ${s.quiet.declined + s.quiet.errors} / ${s.clearing.declined + s.clearing.errors}; load average ${s.loadAverage1m.toFixed(1)}\n`,
    );
    samples.push(s);
  }
  return summarizeClearingLive(c.items, samples);
}

/**
 * The row from its repeats: medians and ranges; the median p99 ratio against
 * issue 18's target (n/a below 1,000,000 items), and every answer of every
 * clearing run approved.
 */
export function summarizeClearingLive(
  items: number,
  samples: readonly ClearingLiveSample[],
): ClearingLiveResult {
  const p99Ratio = spread(samples.map((s) => s.p99Ratio));
  const declinedWhileClearing = samples.reduce((sum, s) => sum + s.clearing.declined + s.clearing.errors, 0);
  return {
    id: CLEARING_LIVE_ROW,
    title: `open loop at half capacity while ${compactCount(items)} items clear in the switch`,
    items,
    samples,
    ratePerS: spread(samples.map((s) => s.ratePerS)),
    quietP99Ms: spread(samples.map((s) => s.quiet.latencyMs.p99)),
    clearingP99Ms: spread(samples.map((s) => s.clearing.latencyMs.p99)),
    p99Ratio,
    clearingSeconds: spread(samples.map((s) => s.clearingSeconds)),
    declinedWhileClearing,
    verdict: {
      p99: items < TARGET_ITEMS ? 'n/a' : p99Ratio.median <= TARGET_P99_RATIO_MAX ? 'pass' : 'fail',
      declines: declinedWhileClearing === 0 ? 'pass' : 'fail',
    },
  };
}
