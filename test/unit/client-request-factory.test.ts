import { describe, expect, it } from 'vitest';
import { generatePans, RequestFactory, STAN_MAX, StanClock } from '../../src/sim/request-factory.js';
import { luhnValid } from '../../src/util/pan.js';

describe('simulator PANs', () => {
  it('makes N distinct 16-digit Luhn-valid PANs under the prefix', () => {
    const pans = generatePans(1000, '4');
    expect(new Set(pans).size).toBe(1000);
    for (const pan of pans) {
      expect(pan).toMatch(/^4[0-9]{15}$/);
      expect(luhnValid(pan)).toBe(true);
    }
    expect(generatePans(3, '51')).toEqual(generatePans(3, '51'));
  });

  it('refuses more PANs than the prefix leaves room for', () => {
    expect(() => generatePans(11, '12345678901234')).toThrow(RangeError);
    expect(generatePans(10, '12345678901234')).toHaveLength(10);
  });
});

describe('StanClock', () => {
  it('never repeats (stan, time) even when the clock stands still across a stan wrap', () => {
    const clock = new StanClock(STAN_MAX - 10);
    const frozenMs = 1_700_000_000_000;
    const total = 2 * STAN_MAX + 50;
    // One flag per (time offset 0..2, stan): three wraps at most at a frozen clock.
    const seen = new Uint8Array(3 * (STAN_MAX + 1));
    let previousTime = 0;
    let problem: string | undefined;
    for (let i = 0; i < total && problem === undefined; i++) {
      const { stan, time } = clock.next(frozenMs);
      const offset = time - frozenMs;
      if (stan < 1 || stan > STAN_MAX) problem = `stan ${stan} out of range`;
      else if (time < previousTime) problem = 'time went backwards';
      else if (offset < 0 || offset > 2) problem = `time offset ${offset}`;
      else if (seen[offset * (STAN_MAX + 1) + stan] === 1) problem = `repeated stan ${stan} at ${time}`;
      else seen[offset * (STAN_MAX + 1) + stan] = 1;
      previousTime = time;
    }
    expect(problem).toBeUndefined();
    expect(seen.reduce((sum, flag) => sum + flag, 0)).toBe(total);
  });

  it('does not follow a wall clock that steps back', () => {
    const clock = new StanClock(1);
    expect(clock.next(1000)).toEqual({ stan: 1, time: 1000 });
    expect(clock.next(900)).toEqual({ stan: 2, time: 1000 });
    expect(clock.next(1200)).toEqual({ stan: 3, time: 1200 });
  });
});

describe('RequestFactory', () => {
  it('builds section 3 requests, PANs round-robin', () => {
    const pans = generatePans(2, '4');
    const factory = new RequestFactory({
      mti: '0200',
      pans,
      amount: 250,
      currency: 'EUR',
      firstStan: 5,
      nowMs: () => 1_700_000_000_123,
    });
    const requests = [factory.next(), factory.next(), factory.next()];
    expect(requests).toEqual([
      { mti: '0200', stan: 5, time: 1_700_000_000_123, pan: pans[0], amount: 250, currency: 'EUR' },
      { mti: '0200', stan: 6, time: 1_700_000_000_123, pan: pans[1], amount: 250, currency: 'EUR' },
      { mti: '0200', stan: 7, time: 1_700_000_000_123, pan: pans[0], amount: 250, currency: 'EUR' },
    ]);
  });
});
