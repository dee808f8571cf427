import type { Logger } from '../../../observability/log.js';
import type { UpgradePhase } from './upgrade-progress.js';

/** What the upgrade converted in this run. */
export interface UpgradeCounts {
  accounts: number;
  journalEntries: number;
  holdBuckets: number;
}

/** Default time between two progress lines of a long upgrade. */
export const PROGRESS_EVERY_MS = 5_000;

/**
 * The upgrade's progress lines: counts only (never a PAN, masked or not),
 * at most one per `everyMs`, so a store of millions of accounts shows it is
 * moving without flooding the log.
 */
export class ProgressReport {
  readonly counts: UpgradeCounts = { accounts: 0, journalEntries: 0, holdBuckets: 0 };
  private readonly startedAtMs: number;
  private lastAtMs: number;

  constructor(
    private readonly log: Logger,
    private readonly everyMs = PROGRESS_EVERY_MS,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.startedAtMs = nowMs();
    this.lastAtMs = this.startedAtMs;
  }

  /** Logs the counts if `everyMs` passed since the last line. */
  tick(phase: UpgradePhase, detail: Record<string, number> = {}): void {
    const now = this.nowMs();
    if (now - this.lastAtMs < this.everyMs) return;
    this.lastAtMs = now;
    this.log.info('upgrading the store to layout 3', {
      phase,
      ...this.counts,
      ...detail,
      elapsedMs: now - this.startedAtMs,
    });
  }

  get elapsedMs(): number {
    return this.nowMs() - this.startedAtMs;
  }
}
