import { simPanAt } from '../sim/request-factory.js';
import { callAdmin } from './admin-call.js';
import type { AdminTarget } from './admin-target.js';

/**
 * The progress line of `switchyard accounts seed`. The bulk call is one HTTP
 * request with no progress of its own, but the switch creates the PANs in
 * index order (a window of lanes taking the next index), so the accounts
 * present form a prefix of the numbering up to a few thousand in flight. Each
 * tick finds the end of that prefix by bisection with GETs of single
 * accounts (about log2(count) cheap reads) and reports it as an estimate.
 */

export interface SeedProgressOptions {
  readonly target: AdminTarget;
  readonly prefix: string;
  readonly count: number;
  readonly intervalMs: number;
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Prefixes every line, e.g. `switchyard accounts seed`. */
  readonly label: string;
  /**
   * Print the outcome line even when the seed was done before the first tick
   * (asked for with --progress); otherwise only after progress lines, so a
   * small seed on a terminal stays quiet.
   */
  readonly alwaysReportOutcome: boolean;
}

export interface SeedOutcome {
  readonly created: number;
  readonly existing: number;
  readonly failed: number;
}

/** A probe GET slower than this is given up; the next tick tries again. */
const PROBE_TIMEOUT_MS = 5_000;
const CLEAR_TO_END_OF_LINE = '\x1b[K';

export class SeedProgress {
  private readonly startedMs = performance.now();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  /** Every index below this was present at the last probe; creations only add, so it never goes back. */
  private presentBelow = 0;
  private linesShown = 0;

  constructor(private readonly options: SeedProgressOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
  }

  /** Stops probing; prints the final line when `outcome` is given (the seed succeeded). Idempotent. */
  stop(outcome?: SeedOutcome): void {
    if (this.abort.signal.aborted) return;
    clearInterval(this.timer);
    this.abort.abort();
    const { stream, label, count } = this.options;
    const tty = stream.isTTY === true;
    if (outcome === undefined || (this.linesShown === 0 && !this.options.alwaysReportOutcome)) {
      if (tty && this.linesShown > 0) stream.write('\n');
      return;
    }
    const line =
      `${label}: ${count} accounts (created ${outcome.created}, existing ${outcome.existing}, ` +
      `failed ${outcome.failed}) in ${this.elapsedS()} s`;
    stream.write(tty ? `\r${line}${CLEAR_TO_END_OF_LINE}\n` : `${line}\n`);
  }

  private elapsedS(): string {
    return ((performance.now() - this.startedMs) / 1000).toFixed(1);
  }

  private async tick(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const present = await this.probe();
      if (present === undefined || this.abort.signal.aborted) return;
      const { stream, label, count } = this.options;
      const percent = Math.floor((present * 100) / count);
      const line = `${label}: about ${present} of ${count} accounts present (${percent}%), ${this.elapsedS()} s`;
      stream.write(stream.isTTY === true ? `\r${line}${CLEAR_TO_END_OF_LINE}` : `${line}\n`);
      this.linesShown++;
    } finally {
      this.probing = false;
    }
  }

  /** The first index with no account (bisection); undefined when a probe could not tell. */
  private async probe(): Promise<number | undefined> {
    let low = this.presentBelow;
    let high = this.options.count;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const present = await this.isPresent(middle);
      if (present === undefined) return undefined;
      if (present) low = middle + 1;
      else high = middle;
    }
    this.presentBelow = low;
    return low;
  }

  private async isPresent(index: number): Promise<boolean | undefined> {
    const pan = simPanAt(this.options.prefix, index);
    try {
      const answer = await callAdmin(this.options.target, 'GET', `/accounts/${pan}`, {
        timeoutMs: PROBE_TIMEOUT_MS,
        signal: this.abort.signal,
      });
      if (answer.status === 200) return true;
      if (answer.status === 404) return false;
      return undefined;
    } catch {
      // Unreachable or aborted: the bulk call itself reports what matters.
      return undefined;
    }
  }
}
