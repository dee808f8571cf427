import { simPanAt } from '../sim/request-factory.js';
import { callAdmin } from './admin-call.js';
import type { AdminTarget } from './admin-target.js';

/**
 * The progress line of `switchyard accounts seed`. The bulk call is one HTTP
 * request with no progress of its own, but the switch creates the PANs in
 * index order (a window of lanes taking the next index), so the accounts
 * present form a prefix of the numbering, give or take the few thousand in
 * flight. Each tick samples that numbering with GETs of single accounts, all
 * at once: a GET waits behind the seed's queued creations (most of a second
 * on a busy switch), so one parallel round a tick keeps the line moving where
 * a bisection's dozen sequential reads would not. The estimate is the end of
 * the present samples: within 1/PROBES_PER_TICK of the rest, never ahead.
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

/** Accounts read a tick, spread over the part of the numbering not yet known to be present. */
const PROBES_PER_TICK = 32;
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

  /** How many of the numbering are present, from one round of samples; undefined when a probe could not tell. */
  private async probe(): Promise<number | undefined> {
    const low = this.presentBelow;
    const { count } = this.options;
    if (low >= count) return count;
    const step = (count - low) / PROBES_PER_TICK;
    const indices = [
      ...new Set(Array.from({ length: PROBES_PER_TICK }, (_, k) => low + Math.floor(step * k))),
    ];
    const present = await Promise.all(indices.map((index) => this.isPresent(index)));
    if (present.includes(undefined)) return undefined;
    let presentBelow = low;
    for (const [k, index] of indices.entries()) {
      if (present[k] !== true) break;
      presentBelow = index + 1;
    }
    this.presentBelow = presentBelow;
    return presentBelow;
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
