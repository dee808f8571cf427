import type { Logger } from '../observability/log.js';

/** How often the offered load is measured (and a move considered). */
const SAMPLE_EVERY_MS = 250;

/** The adaptive policy's settings (ledger.adaptive*, docs/configuration.md). */
export interface AdaptivePolicy {
  /** Offered transactions per second under which every slot moves to the main thread. */
  readonly inlineBelowPerSec: number;
  /** Offered transactions per second over which every slot moves back to its worker thread (above inlineBelowPerSec). */
  readonly workersAbovePerSec: number;
  /**
   * The least time from a move to a move back to the main thread, so a load near a threshold
   * does not make the owners flap (a move to the workers waits for nothing: load is growing).
   */
  readonly dwellMs: number;
}

/** What the policy drives: the engine's slots and its count of transactions submitted. */
export interface AdaptiveTarget {
  readonly slotCount: number;
  readonly submittedCount: number;
  moveSlot(index: number, to: 'worker' | 'inline'): Promise<boolean>;
}

/**
 * Moves every ledger slot's owner to the main thread while the offered load
 * is light (no hand-off to a worker: lower latency and CPU per message) and
 * back to the worker threads as it grows (throughput), with hysteresis and
 * a dwell time. It measures the offered load, transactions submitted per
 * second, rather than the main thread's event-loop utilisation: where the
 * ledger runs changes the main thread's utilisation (an inline owner adds
 * its work to it), so a policy on utilisation would move the very measure
 * it decides on and could flap; the offered rate is the same wherever the
 * owners run.
 */
export class AdaptiveOwners {
  private timer: NodeJS.Timeout | undefined;
  private lastCount = 0;
  private lastAtMs = 0;
  private lastMoveAtMs = Number.NEGATIVE_INFINITY;
  private where: 'worker' | 'inline' = 'worker';
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
    this.ratePerSec = ((count - this.lastCount) * 1000) / (nowMs - this.lastAtMs);
    this.lastCount = count;
    this.lastAtMs = nowMs;
    if (this.moving) return;
    // To the workers at once when load grows (the main thread's ceiling is lower); back to the
    // main thread only a dwell after the last move, so a load near the thresholds moves them
    // at most once per dwell.
    if (this.where === 'inline' && this.ratePerSec > this.policy.workersAbovePerSec)
      void this.moveAll('worker', nowMs);
    else if (
      this.where === 'worker' &&
      this.ratePerSec < this.policy.inlineBelowPerSec &&
      nowMs - this.lastMoveAtMs >= this.policy.dwellMs
    )
      void this.moveAll('inline', nowMs);
  }

  private async moveAll(to: 'worker' | 'inline', nowMs: number): Promise<void> {
    this.moving = true;
    this.lastMoveAtMs = nowMs;
    try {
      const slots = Array.from({ length: this.target.slotCount }, (_, i) => i);
      const moved = await Promise.all(slots.map((i) => this.target.moveSlot(i, to)));
      // A slot that could not move now (a forward out, not drained in time) is tried again on a later sample.
      if (moved.every(Boolean)) this.where = to;
      this.log.info('adaptive ledger: moving owners', {
        to,
        offeredPerSec: Math.round(this.ratePerSec),
        moved: moved.filter(Boolean).length,
        of: slots.length,
      });
    } finally {
      this.moving = false;
    }
  }
}
