import type { RequestMessage } from '../client/messages.js';
import { withLuhnDigit } from '../util/pan.js';

export const SIM_PAN_DIGITS = 16;
export const STAN_MAX = 999_999;

/**
 * `count` distinct Luhn-valid PANs of SIM_PAN_DIGITS digits: the prefix, the
 * index zero-padded, the check digit. Deterministic, so a setup script can
 * create the same accounts the simulator will use.
 */
export function generatePans(count: number, prefix: string, panDigits = SIM_PAN_DIGITS): string[] {
  const indexDigits = panDigits - 1 - prefix.length;
  if (!/^[0-9]+$/.test(prefix) || indexDigits < 1)
    throw new RangeError(`prefix must be 1..${panDigits - 2} digits`);
  if (!Number.isInteger(count) || count < 1 || count > 10 ** indexDigits) {
    throw new RangeError(`a ${prefix.length}-digit prefix allows 1..${10 ** indexDigits} PANs`);
  }
  const pans = new Array<string>(count);
  for (let i = 0; i < count; i++) pans[i] = withLuhnDigit(`${prefix}${String(i).padStart(indexDigits, '0')}`);
  return pans;
}

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
  private lastTimeMs = 0;

  constructor(firstStan = 1) {
    if (!Number.isInteger(firstStan) || firstStan < 1 || firstStan > STAN_MAX)
      throw new RangeError('stan is 1..999999');
    this.stan = firstStan;
  }

  next(nowMs: number): { stan: number; time: number } {
    let timeMs = Math.max(Math.floor(nowMs), this.lastTimeMs);
    if (this.issuedInCycle === STAN_MAX) {
      this.issuedInCycle = 0;
      timeMs = Math.max(timeMs, this.lastTimeMs + 1);
    }
    const stan = this.stan;
    this.stan = stan === STAN_MAX ? 1 : stan + 1;
    this.issuedInCycle++;
    this.lastTimeMs = timeMs;
    return { stan, time: timeMs };
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
}

/** Builds valid PROTOCOL.md section 3 requests, PANs round-robin. */
export class RequestFactory {
  private readonly clock: StanClock;
  private readonly nowMs: () => number;
  private panIndex = 0;

  constructor(private readonly options: RequestFactoryOptions) {
    if (options.pans.length === 0) throw new RangeError('at least one PAN');
    this.clock = new StanClock(options.firstStan);
    this.nowMs = options.nowMs ?? Date.now;
  }

  next(): RequestMessage {
    const pan = this.options.pans[this.panIndex]!;
    this.panIndex = this.panIndex + 1 === this.options.pans.length ? 0 : this.panIndex + 1;
    const { stan, time } = this.clock.next(this.nowMs());
    return {
      mti: this.options.mti,
      stan,
      time,
      pan,
      amount: this.options.amount,
      currency: this.options.currency,
    };
  }
}
