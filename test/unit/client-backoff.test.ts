import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/client/backoff.js';
import { seededRandom } from '../../src/sim/rng.js';

const policy = { initialDelayMs: 100, maxDelayMs: 5_000 };

describe('reconnect back-off', () => {
  it('doubles from initialDelayMs and caps at maxDelayMs (upper edge of the jitter)', () => {
    const schedule = [0, 1, 2, 3, 4, 5, 6, 7, 30, 1000].map((attempt) =>
      backoffDelayMs(attempt, policy, () => 1),
    );
    expect(schedule).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
  });

  it('never waits less than half the step (lower edge of the jitter)', () => {
    const schedule = [0, 1, 2, 6].map((attempt) => backoffDelayMs(attempt, policy, () => 0));
    expect(schedule).toEqual([50, 100, 200, 2500]);
  });

  it('spreads delays within [step/2, step] with a seeded jitter source', () => {
    const random = seededRandom(42);
    const delays = Array.from({ length: 1000 }, () => backoffDelayMs(3, policy, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(400);
    expect(Math.max(...delays)).toBeLessThanOrEqual(800);
    // Jitter actually spreads: many distinct values, not one.
    expect(new Set(delays).size).toBeGreaterThan(100);
  });

  it('clamps a misbehaving random source into range', () => {
    expect(backoffDelayMs(0, policy, () => 7)).toBe(100);
    expect(backoffDelayMs(0, policy, () => -3)).toBe(50);
  });
});
