import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/log.js';

/** How often the offered load and the main thread's utilisation are measured (and a move considered). */
const SAMPLE_EVERY_MS = 250;
/**
 * The main thread's event-loop utilisation at or over which it counts as
 * saturated while it runs the owners. One sample over it is not enough: a
 * mark-compact or a background pass (the record sweep, ~0.4 s for 10,000
 * accounts) fills a sample or two without the load being more than the
 * main thread can take. Not lower: a main thread that keeps up at its
 * ceiling reads 0.85-0.99 from sample to sample (40,000/s here), one that
 * falls behind always has work waiting and reads 0.97-1.0, and a move the
 * first did not need costs every account loaded again under that load.
 */
export const MAIN_THREAD_SATURATED = 0.95;
/**
 * The least offered rate at which a busy main thread counts as saturated by
 * the owners' load: below it the time goes elsewhere (a start, the accounts
 * seeded through the admin API, a background pass), a move would not relieve
 * it, and its rate would be remembered as the main thread's ceiling.
 */
export const SATURATION_RATE_MIN_PER_SEC = 1_000;
/** Consecutive saturated samples (1 s) that move the owners to the worker threads. */
export const SATURATED_SAMPLES = 4;
/**
 * Accounts the main thread's owners brought into memory in one sample at or
 * over which that sample is a warm-up. Loading an account (its log read
 * and decoded, its records packed) costs tens to hundreds of microseconds;
 * a load step finds every account cold at once and saturates the main
 * thread for a moment whatever it can take after. Below inlineBelowPerSec
 * that saturation does not count (a move once loaded would make the workers
 * load them all again, under the same load: measured with 10,000 accounts
 * at 40,000/s, a stall of seconds, docs/performance-log.md, "A handover
 * under heavy load"); at or above it the owners move at once, before the
 * main thread has loaded the rest.
 */
export const WARMING_ACCOUNTS_PER_SAMPLE = 100;
/**
 * After the main thread saturated at some offered rate, the owners come
 * back to it only below this share of that rate (below the configured
 * rate too), so a load the main thread cannot take does not make them flap.
 */
export const CEILING_SHARE = 0.7;
/** How long a measured ceiling holds before the owners may try the main thread again at any rate below inlineBelowPerSec. */
export const CEILING_MEMORY_MS = 60_000;

/** The adaptive policy's settings (ledger.adaptive*, docs/configuration.md). */
export interface AdaptivePolicy {
  /** Offered transactions per second under which the owners move (back) to the main thread. */
  readonly inlineBelowPerSec: number;
  /** Offered transactions per second over which they move to the worker threads, whether or not the main thread is saturated. */
  readonly workersAbovePerSec: number;
  /**
   * The least time from a move to a move back to the main thread, so a load
   * near a threshold does not make the owners flap (a move to the workers
   * waits for nothing: load is growing).
   */
  readonly dwellMs: number;
}

/** What the policy drives: the engine's slots and its count of transactions submitted. */
export interface AdaptiveTarget {
  readonly slotCount: number;
  readonly submittedCount: number;
  /** Accounts in memory in the main thread's owners (0 while the workers own everything). */
  readonly actorsOnMainThread: number;
  moveSlot(index: number, to: 'worker' | 'inline'): Promise<boolean>;
}

/** One measurement: the offered rate and the main thread's utilisation over the last sample. */
export interface LoadSample {
  readonly nowMs: number;
  readonly ratePerSec: number;
  /** 0..1: the share of the sample the main thread's event loop was busy. */
  readonly mainThreadBusy: number;
  /** The main thread's owners loaded WARMING_ACCOUNTS_PER_SAMPLE accounts or more in the sample. */
  readonly warming?: boolean;
}

/** What the policy remembers between samples. */
export interface PolicyState {
  where: 'worker' | 'inline';
  lastMoveAtMs: number;
  /** Consecutive samples with the main thread saturated while it ran the owners. */
  saturatedSamples: number;
  /**
   * The offered rate at which the owners last left the main thread (it
   * saturated, or the rate passed workersAbovePerSec), and when (undefined:
   * none known).
   */
  ceiling: { readonly ratePerSec: number; readonly atMs: number } | undefined;
  /** While the workers own: since when every sample was low enough to come back (undefined: the last one was not). */
  lowSinceMs: number | undefined;
  /** While the main thread owns: the last sample was a warm-up (LoadSample.warming). */
  warmingLastSample: boolean;
}

export function initialPolicyState(): PolicyState {
  return {
    where: 'worker',
    lastMoveAtMs: Number.NEGATIVE_INFINITY,
    saturatedSamples: 0,
    ceiling: undefined,
    lowSinceMs: undefined,
    warmingLastSample: false,
  };
}

/**
 * The policy as a pure step: updates `state` with `sample` and says where
 * the owners should move now (undefined: stay). To the workers when the
 * offered rate passes workersAbovePerSec, or when the main thread running
 * the owners stayed saturated for SATURATED_SAMPLES samples, none of them
 * a warm-up (the rate the main thread can take differs from machine to
 * machine, its saturation is what says it is reached), or at once when it
 * is saturated loading accounts at inlineBelowPerSec or more (a load step).
 * Back to the main thread a dwell after the last move, once the rate is
 * below inlineBelowPerSec and below CEILING_SHARE of the rate at which the
 * owners last left it (for CEILING_MEMORY_MS); while that rate is
 * remembered, only once it has stayed that low for a dwell too. A lull
 * between bursts is not a light load: a move under load costs every
 * account loaded again at once (docs/performance-log.md, "A handover under
 * heavy load"), and the next burst would find the owners there again.
 */
export function nextMove(
  state: PolicyState,
  sample: LoadSample,
  policy: AdaptivePolicy,
): 'worker' | 'inline' | undefined {
  if (state.where === 'inline') {
    state.lowSinceMs = undefined;
    const busy =
      sample.mainThreadBusy >= MAIN_THREAD_SATURATED && sample.ratePerSec >= SATURATION_RATE_MIN_PER_SEC;
    // A step to a rate the main thread is not kept for (inlineBelowPerSec), still loading its
    // accounts: the workers are where it ends if the main thread cannot take it, and moving now
    // costs only the loads not yet done; waiting to see costs every account loaded twice.
    // (Loading in this sample or the last: a step's first sample is part idle, so its rate reads low.)
    const loading = sample.warming === true || state.warmingLastSample;
    state.warmingLastSample = sample.warming === true;
    const stepPastInline = busy && loading && sample.ratePerSec >= policy.inlineBelowPerSec;
    // Below that rate a warm-up's saturation passes once the accounts are in: it counts for
    // nothing (and breaks a run).
    state.saturatedSamples = busy && sample.warming !== true ? state.saturatedSamples + 1 : 0;
    const saturated = state.saturatedSamples >= SATURATED_SAMPLES;
    if (!saturated && !stepPastInline && !(sample.ratePerSec > policy.workersAbovePerSec)) return undefined;
    // Either way a load the owners left the main thread for: a lull after it is judged against it.
    state.ceiling = { ratePerSec: sample.ratePerSec, atMs: sample.nowMs };
    return 'worker';
  }
  state.warmingLastSample = false;
  if (state.ceiling !== undefined && sample.nowMs - state.ceiling.atMs >= CEILING_MEMORY_MS)
    state.ceiling = undefined;
  const belowCeiling =
    state.ceiling === undefined || sample.ratePerSec < state.ceiling.ratePerSec * CEILING_SHARE;
  if (!(sample.ratePerSec < policy.inlineBelowPerSec && belowCeiling)) {
    state.lowSinceMs = undefined;
    return undefined;
  }
  state.lowSinceMs ??= sample.nowMs;
  const dwelt = sample.nowMs - state.lastMoveAtMs >= policy.dwellMs;
  const lowLongEnough = state.ceiling === undefined || sample.nowMs - state.lowSinceMs >= policy.dwellMs;
  return dwelt && lowLongEnough ? 'inline' : undefined;
}

/**
 * Runs every ledger slot's owner on the main thread while it can take the
 * load (no hand-off to a worker: lower latency and CPU per message) and on
 * the worker threads past that (throughput on machines with cores to
 * spare), moving them all together by handover (LedgerEngine.moveSlot:
 * drain, drop, new epoch). It measures the offered load (transactions
 * submitted per second, the same wherever the owners run) and, while the
 * owners are on the main thread, that thread's event-loop utilisation.
 */
export class AdaptiveOwners {
  private timer: NodeJS.Timeout | undefined;
  private lastCount = 0;
  private lastAtMs = 0;
  private lastElu = performance.eventLoopUtilization();
  private lastActors = 0;
  private readonly state = initialPolicyState();
  private moving = false;
  /** The offered rate as last measured (transactions per second), for logs and tests. */
  ratePerSec = 0;

  constructor(
    private readonly target: AdaptiveTarget,
    private readonly policy: AdaptivePolicy,
    private readonly log: Logger,
  ) {
    if (!(policy.inlineBelowPerSec < policy.workersAbovePerSec))
      throw new RangeError('the adaptive ledger needs inlineBelowPerSec below workersAbovePerSec');
  }

  start(): void {
    this.lastCount = this.target.submittedCount;
    this.lastAtMs = performance.now();
    this.lastElu = performance.eventLoopUtilization();
    this.lastActors = this.target.actorsOnMainThread;
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): void {
    const nowMs = performance.now();
    const count = this.target.submittedCount;
    const elu = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(elu, this.lastElu).utilization;
    const actors = this.target.actorsOnMainThread;
    // Growth only: evictions and a move away lower the count, and say nothing of loads.
    const warming = actors - this.lastActors >= WARMING_ACCOUNTS_PER_SAMPLE;
    this.lastActors = actors;
    this.ratePerSec = ((count - this.lastCount) * 1000) / (nowMs - this.lastAtMs);
    this.lastCount = count;
    this.lastAtMs = nowMs;
    this.lastElu = elu;
    if (this.moving) return;
    const to = nextMove(
      this.state,
      { nowMs, ratePerSec: this.ratePerSec, mainThreadBusy: busy, warming },
      this.policy,
    );
    if (to !== undefined) void this.moveAll(to, nowMs, this.ratePerSec, busy);
  }

  private async moveAll(
    to: 'worker' | 'inline',
    nowMs: number,
    offeredPerSec: number,
    mainThreadBusy: number,
  ): Promise<void> {
    this.moving = true;
    this.state.saturatedSamples = 0;
    try {
      const slots = Array.from({ length: this.target.slotCount }, (_, i) => i);
      const moved = await Promise.all(slots.map((i) => this.target.moveSlot(i, to)));
      // A slot that could not move now (a forward out, not drained in time) is tried again on a
      // later sample, the others staying where they went: the dwell counts from a move that
      // finished, so a start-up's busy first seconds do not keep a slot from the main thread for
      // a whole dwell.
      if (moved.every(Boolean)) {
        this.state.lastMoveAtMs = nowMs;
        this.state.where = to;
      }
      // The rate and utilisation the move was decided on (samples go on while it runs).
      this.log.info('adaptive ledger: moving owners', {
        to,
        offeredPerSec: Math.round(offeredPerSec),
        mainThreadBusy: Math.round(mainThreadBusy * 100) / 100,
        moved: moved.filter(Boolean).length,
        of: slots.length,
      });
    } finally {
      this.moving = false;
    }
  }
}
