import type { RequestMessage } from '../client/messages.js';

export const STAN_MAX = 999_999;

// The simulator's accounts: the admin API's seed endpoint creates the same ones.
export { generatePans, SIM_PAN_DIGITS, simPanAt } from '../util/demo-pans.js';

/**
 * Hands out (stan, time) so that no (pan, stan, time) repeats within a run,
 * whatever the PAN: stan walks 1..999999 and wraps; time is the send time in
 * ms, never decreasing (a wall clock stepping back is ignored), and each new
 * stan cycle starts strictly after the previous cycle's last time. So two
 * requests with the same stan are a whole cycle apart and their times differ.
 */
export class StanClock {
  private stan: number;
  private issuedInCycle = 0;

  constructor(firstStan = 1) {
    if (!Number.isInteger(firstStan) || firstStan < 1 || firstStan > STAN_MAX)
      throw new RangeError('stan is 1..999999');
    this.stan = firstStan;
  }

  /** The stan and time handed out by the last advance(). */
  lastStan = 0;
  lastTimeMs = 0;

  next(nowMs: number): { stan: number; time: number } {
    this.advance(nowMs);
    return { stan: this.lastStan, time: this.lastTimeMs };
  }

  /** next() without the result object: read lastStan and lastTimeMs. */
  advance(nowMs: number): void {
    let timeMs = Math.max(Math.floor(nowMs), this.lastTimeMs);
    if (this.issuedInCycle === STAN_MAX) {
      this.issuedInCycle = 0;
      timeMs = Math.max(timeMs, this.lastTimeMs + 1);
    }
    const stan = this.stan;
    this.stan = stan === STAN_MAX ? 1 : stan + 1;
    this.issuedInCycle++;
    this.lastStan = stan;
    this.lastTimeMs = timeMs;
  }
}

export interface RequestFactoryOptions {
  readonly mti: string;
  readonly pans: readonly string[];
  readonly amount: number;
  readonly currency: string;
  /** Where the stan sequence starts (seeded), so two runs in one millisecond differ too. */
  readonly firstStan: number;
  readonly nowMs?: () => number;
  /** Index of the next request's PAN in `pans` (see skewedPanPicker); default round-robin. */
  readonly pickPan?: () => number;
}

/** Builds valid docs/protocol.md section 3 requests, PANs round-robin unless `pickPan` says otherwise. */
export class RequestFactory {
  /** Set by advance(): the last request's index into `pans`. Its stan and time are in `clock`. */
  lastPanIndex = 0;
  readonly clock: StanClock;
  private readonly nowMs: () => number;
  private readonly pickPan: (() => number) | undefined;
  private panIndex = 0;

  constructor(private readonly options: RequestFactoryOptions) {
    if (options.pans.length === 0) throw new RangeError('at least one PAN');
    this.clock = new StanClock(options.firstStan);
    this.nowMs = options.nowMs ?? Date.now;
    this.pickPan = options.pickPan;
  }

  next(): RequestMessage {
    this.advance();
    return {
      mti: this.options.mti,
      stan: this.clock.lastStan,
      time: this.clock.lastTimeMs,
      pan: this.options.pans[this.lastPanIndex]!,
      amount: this.options.amount,
      currency: this.options.currency,
    };
  }

  /** next() without building the message (the lean encoder's path): read lastPanIndex and clock. */
  advance(): void {
    if (this.pickPan === undefined) {
      this.lastPanIndex = this.panIndex;
      this.panIndex = this.panIndex + 1 === this.options.pans.length ? 0 : this.panIndex + 1;
    } else {
      this.lastPanIndex = this.pickPan();
    }
    this.clock.advance(this.nowMs());
  }
}

export interface SkewOptions {
  /** Share of all requests that go to the hot accounts, in (0, 1). */
  readonly share: number;
  /** Share of the accounts that are hot, in (0, 1); at least one account is hot and one cold. */
  readonly hotFraction: number;
}

/**
 * A skewed PAN chooser over `count` PANs: `share` of the picks land on a hot
 * set of round(count x hotFraction) PANs, the rest on the others, uniformly
 * within each set. Which PANs are hot and every pick come from `random`
 * (seeded), so a run is repeatable from its seed. The hot set is scattered
 * over the index range, hence over the switch's shards and workers.
 */
export function skewedPanPicker(count: number, skew: SkewOptions, random: () => number): () => number {
  if (!(skew.share > 0 && skew.share < 1)) throw new RangeError('skew share must be in (0, 1)');
  if (!(skew.hotFraction > 0 && skew.hotFraction < 1)) throw new RangeError('hot fraction must be in (0, 1)');
  if (!Number.isInteger(count) || count < 2) throw new RangeError('a skew needs at least 2 PANs');
  const hotCount = Math.min(count - 1, Math.max(1, Math.round(count * skew.hotFraction)));
  // Partial Fisher-Yates: the first hotCount slots become a uniform random hot set.
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = 0; i < hotCount; i++) {
    const j = i + Math.floor(random() * (count - i));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const coldCount = count - hotCount;
  const { share } = skew;
  return () =>
    random() < share
      ? order[Math.floor(random() * hotCount)]!
      : order[hotCount + Math.floor(random() * coldCount)]!;
}
