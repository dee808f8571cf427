import { describe, expect, it } from 'vitest';
import type { ResponseMessage } from '../../src/client/messages.js';
import {
  type IssuerBehaviour,
  type IssuerDecision,
  IssuerPolicy,
  SIM_BALANCE_MINOR,
} from '../../src/sim/issuer-policy.js';
import { LATENCY_MS_MAX, latencySampler } from '../../src/sim/latency-distribution.js';
import { seededRandom } from '../../src/sim/rng.js';

const BEHAVIOUR: IssuerBehaviour = {
  latency: { p50Ms: 0, p99Ms: 0 },
  slowMs: 0,
  declineRatio: 0,
  declineRcs: ['05', '51'],
  partialRatio: 0,
  silent: false,
  lateRatio: 0,
  lateMs: 3_000,
  twiceRatio: 0,
  dropAfter: undefined,
  acknowledgeAdvices: true,
};

const SEED = 20_260_101;

function request(stan: number, extra: Record<string, unknown> = {}): ResponseMessage {
  return { mti: '0100', id: stan, stan, pan: '5000000000000009', amount: 1_000, currency: 'USD', ...extra };
}

/** Decisions for `count` requests on one connection, from `seed`. */
function decide(
  overrides: Partial<IssuerBehaviour>,
  count = 2_000,
  seed = SEED,
  make: (i: number) => ResponseMessage = (i) => request(i + 1),
): IssuerDecision[] {
  const policy = new IssuerPolicy({ ...BEHAVIOUR, ...overrides }, seededRandom(seed));
  return Array.from({ length: count }, (_, i) => policy.decide(make(i), i + 1));
}

type Answered = Extract<IssuerDecision, { kind: 'answer' }>;

function answered(decisions: IssuerDecision[]): Answered[] {
  return decisions.filter((d): d is Answered => d.kind === 'answer');
}

function share(decisions: Answered[], predicate: (d: Answered) => boolean): number {
  return decisions.filter(predicate).length / decisions.length;
}

describe('IssuerPolicy', () => {
  it('decides the same from the same seed, and otherwise from another', () => {
    const behaviour = {
      declineRatio: 0.3,
      latency: { p50Ms: 2, p99Ms: 20 },
      lateRatio: 0.1,
      twiceRatio: 0.1,
    };
    expect(decide(behaviour, 500)).toEqual(decide(behaviour, 500));
    expect(decide(behaviour, 500)).not.toEqual(decide(behaviour, 500, SEED + 1));
  });

  it('approves with the amount asked and a six-digit auth code (never S..., which is stand-in), at once by default', () => {
    const decisions = answered(decide({}, 1_000));
    expect(decisions).toHaveLength(1_000);
    for (const d of decisions) {
      expect(d).toMatchObject({ delayMs: 0, late: false, twice: false, answer: { rc: '00', amount: 1_000 } });
      expect(d.answer.authCode).toMatch(/^[0-9]{6}$/);
    }
    // Auth codes do not repeat within a run of this size.
    expect(new Set(decisions.map((d) => d.answer.authCode)).size).toBe(1_000);
  });

  it('declines about --decline-ratio of requests with the codes given, and nothing else', () => {
    const decisions = answered(decide({ declineRatio: 0.25 }, 8_000));
    const declined = decisions.filter((d) => d.answer.rc !== '00');
    expect(declined.length / decisions.length).toBeGreaterThan(0.23);
    expect(declined.length / decisions.length).toBeLessThan(0.27);
    expect(new Set(declined.map((d) => d.answer.rc))).toEqual(new Set(['05', '51']));
    // A decline carries no authCode and no amount: the contract's issuer answer is rc alone.
    expect(declined.every((d) => Object.keys(d.answer).join() === 'rc')).toBe(true);
  });

  it('a higher decline ratio declines a superset, with the same latencies (fixed draws per request)', () => {
    const latency = { p50Ms: 3, p99Ms: 30 };
    const low = answered(decide({ declineRatio: 0.1, latency }));
    const high = answered(decide({ declineRatio: 0.4, latency }));
    low.forEach((d, i) => {
      if (d.answer.rc !== '00') expect(high[i]!.answer.rc).toBe(d.answer.rc);
      expect(high[i]!.delayMs).toBe(d.delayMs);
    });
  });

  it('answers 10 for half the amount only when the request allows partial approval', () => {
    const partialAllowed = answered(
      decide({ partialRatio: 0.5 }, 4_000, SEED, (i) => request(i + 1, { partial: true })),
    );
    const partial = partialAllowed.filter((d) => d.answer.rc === '10');
    expect(partial.length / partialAllowed.length).toBeGreaterThan(0.45);
    expect(partial.length / partialAllowed.length).toBeLessThan(0.55);
    for (const d of partial)
      expect(d.answer).toMatchObject({ amount: 500, authCode: expect.stringMatching(/^\d{6}$/) });

    const notAllowed = answered(decide({ partialRatio: 1 }, 500));
    expect(notAllowed.every((d) => d.answer.rc === '00' && d.answer.amount === 1_000)).toBe(true);
    const oneMinorUnit = answered(
      decide({ partialRatio: 1 }, 50, SEED, (i) => request(i + 1, { partial: true, amount: 1 })),
    );
    expect(oneMinorUnit.every((d) => d.answer.rc === '00')).toBe(true);
  });

  it('answers a balance inquiry with a balance and an auth code', () => {
    const [d] = answered(decide({}, 1, SEED, () => request(1, { proc: '31', amount: 0 })));
    expect(d!.answer).toEqual({
      rc: '00',
      authCode: expect.stringMatching(/^\d{6}$/),
      balance: SIM_BALANCE_MINOR,
    });
  });

  it('delays by the fixed latency plus --slow-ms, or by --late-ms plus --slow-ms for late ones', () => {
    const decisions = answered(
      decide({ latency: { p50Ms: 4, p99Ms: 4 }, slowMs: 10, lateRatio: 0.2, lateMs: 2_500 }, 5_000),
    );
    const late = decisions.filter((d) => d.late);
    expect(late.length / decisions.length).toBeGreaterThan(0.18);
    expect(late.length / decisions.length).toBeLessThan(0.22);
    expect(late.every((d) => d.delayMs === 2_510)).toBe(true);
    expect(decisions.filter((d) => !d.late).every((d) => d.delayMs === 14)).toBe(true);
  });

  it('answers about --twice-ratio of requests twice', () => {
    const decisions = answered(decide({ twiceRatio: 0.1 }, 10_000));
    expect(share(decisions, (d) => d.twice)).toBeGreaterThan(0.09);
    expect(share(decisions, (d) => d.twice)).toBeLessThan(0.11);
  });

  it('--silent answers nothing; --drop-after drops the connection at its N-th request, silent or not', () => {
    expect(decide({ silent: true }, 100).every((d) => d.kind === 'silent')).toBe(true);
    const policy = new IssuerPolicy({ ...BEHAVIOUR, silent: true, dropAfter: 3 }, seededRandom(SEED));
    expect([1, 2, 3].map((n) => policy.decide(request(n), n).kind)).toEqual(['silent', 'silent', 'drop']);
    // A new connection counts from 1 again.
    expect(policy.decide(request(4), 1).kind).toBe('silent');
  });
});

describe('latencySampler', () => {
  function quantile(sorted: number[], q: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  }

  it('draws a log-normal with the given median and 99th percentile', () => {
    const sample = latencySampler({ p50Ms: 2, p99Ms: 50 }, seededRandom(SEED));
    const values = Array.from({ length: 100_000 }, sample).sort((a, b) => a - b);
    expect(quantile(values, 0.5)).toBeGreaterThan(1.9);
    expect(quantile(values, 0.5)).toBeLessThan(2.1);
    expect(quantile(values, 0.99)).toBeGreaterThan(45);
    expect(quantile(values, 0.99)).toBeLessThan(55);
    expect(values[0]!).toBeGreaterThan(0);
    expect(values.at(-1)!).toBeLessThanOrEqual(LATENCY_MS_MAX);
  });

  it('gives the fixed value when P99 equals P50, taking two draws all the same', () => {
    let draws = 0;
    const random = (): number => {
      draws++;
      return 0.5;
    };
    const sample = latencySampler({ p50Ms: 7, p99Ms: 7 }, random);
    expect([sample(), sample()]).toEqual([7, 7]);
    expect(draws).toBe(4);
  });
});
