import { describe, expect, it } from 'vitest';
import {
  type AdaptivePolicy,
  CEILING_MEMORY_MS,
  initialPolicyState,
  type LoadSample,
  MAIN_THREAD_SATURATED,
  nextMove,
  type PolicyState,
  SATURATED_SAMPLES,
} from '../../src/runtime/adaptive-owners.js';

const policy: AdaptivePolicy = { inlineBelowPerSec: 30_000, workersAbovePerSec: 60_000, dwellMs: 5_000 };
const BUSY = MAIN_THREAD_SATURATED;
const IDLE = 0.2;

/** The workers own since 0, sent there at `ratePerSec` (remembered as the rate the main thread could not take). */
function workersOwning(ratePerSec: number): PolicyState {
  return { ...initialPolicyState(), where: 'worker', lastMoveAtMs: 0, ceiling: { ratePerSec, atMs: 0 } };
}

/** `count` samples of `ratePerSec` with the main thread idle. */
function idleSamples(count: number, ratePerSec: number): [number, number][] {
  return Array.from({ length: count }, () => [ratePerSec, IDLE]);
}

/** Feeds samples 250 ms apart from `startMs`; the moves the policy asked for, applied as the owners would make them. */
function run(
  state: PolicyState,
  startMs: number,
  samples: readonly [ratePerSec: number, busy: number, warming?: 'warming'][],
) {
  const moves: { atMs: number; to: 'worker' | 'inline' }[] = [];
  samples.forEach(([ratePerSec, mainThreadBusy, warming], i) => {
    const nowMs = startMs + i * 250;
    const sample: LoadSample = { nowMs, ratePerSec, mainThreadBusy, warming: warming === 'warming' };
    const to = nextMove(state, sample, policy);
    if (to !== undefined) {
      moves.push({ atMs: nowMs, to });
      state.where = to;
      state.lastMoveAtMs = nowMs;
      state.saturatedSamples = 0;
    }
  });
  return moves;
}

describe('the adaptive owners policy (nextMove)', () => {
  it('goes to the main thread at once from the start when the load is light, and stays there below the upper rate', () => {
    const state = initialPolicyState();
    const moves = run(state, 0, [
      [1_000, IDLE],
      [20_000, 0.6],
      [55_000, 0.8],
    ]);
    expect(moves).toEqual([{ atMs: 0, to: 'inline' }]);
  });

  it('goes to the workers above the upper rate, whatever the main thread says', () => {
    const state: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    expect(run(state, 1_000, [[60_001, 0.5]])).toEqual([{ atMs: 1_000, to: 'worker' }]);
    // Remembered as the load the owners left for: a lull after it is judged against it.
    expect(state.ceiling).toEqual({ ratePerSec: 60_001, atMs: 1_000 });
  });

  it('goes to the workers after SATURATED_SAMPLES saturated samples in a row, not fewer, and remembers that rate', () => {
    const state: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    const blips: [number, number][] = Array.from({ length: SATURATED_SAMPLES - 1 }, () => [40_000, BUSY]);
    // A mark-compact or a background pass: saturated samples broken by a calm one.
    expect(run(state, 1_000, [...blips, [40_000, 0.5], ...blips])).toEqual([]);
    // The last blips and one more saturated sample make SATURATED_SAMPLES in a row.
    expect(run(state, 10_000, [[40_000, BUSY]])).toEqual([{ atMs: 10_000, to: 'worker' }]);
    expect(state.ceiling?.ratePerSec).toBe(40_000);
  });

  it('does not count a warm-up below the lower rate as saturation: the main thread is kept for that load', () => {
    const state: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    // A load step to 20,000/s: every account cold at once, the main thread saturated while it loads them.
    const warmUp: [number, number, 'warming'][] = Array.from({ length: SATURATED_SAMPLES + 2 }, () => [
      20_000,
      1,
      'warming',
    ]);
    expect(run(state, 1_000, warmUp)).toEqual([]);
    // Loaded, and still saturated: that is the main thread's limit, counted from the warm-up's end.
    const after: [number, number][] = Array.from({ length: SATURATED_SAMPLES }, () => [20_000, BUSY]);
    const startMs = 1_000 + warmUp.length * 250;
    expect(run(state, startMs, after)).toEqual([
      { atMs: startMs + (SATURATED_SAMPLES - 1) * 250, to: 'worker' },
    ]);
  });

  it('goes to the workers at once on a step to the lower rate or more that saturates the main thread while it loads', () => {
    const state: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    // Loading but not saturated: stays.
    expect(run(state, 1_000, [[40_000, 0.6, 'warming']])).toEqual([]);
    expect(run(state, 1_250, [[40_000, 1, 'warming']])).toEqual([{ atMs: 1_250, to: 'worker' }]);
    expect(state.ceiling).toEqual({ ratePerSec: 40_000, atMs: 1_250 });
  });

  it('counts a step whose loading showed only in the sample before (its first sample part idle, its rate low)', () => {
    const state: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    expect(run(state, 1_000, [[18_000, 1, 'warming']])).toEqual([]);
    expect(run(state, 1_250, [[40_000, 1]])).toEqual([{ atMs: 1_250, to: 'worker' }]);
    // Two samples after the loading: an ordinary saturated sample again.
    const later: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    expect(
      run(later, 1_000, [
        [18_000, 1, 'warming'],
        [20_000, 0.5],
        [40_000, 1],
      ]),
    ).toEqual([]);
  });

  it('does not take a main thread busy with no transactions offered for saturated (a start, seeding)', () => {
    const state: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    const busyIdle: [number, number][] = Array.from({ length: SATURATED_SAMPLES + 4 }, () => [0, 1]);
    expect(run(state, 1_000, busyIdle)).toEqual([]);
    expect(state.ceiling).toBeUndefined();
  });

  it('lets a warm-up sample break a run of saturated ones', () => {
    const state: PolicyState = { ...initialPolicyState(), where: 'inline', lastMoveAtMs: 0 };
    const blips: [number, number][] = Array.from({ length: SATURATED_SAMPLES - 1 }, () => [20_000, BUSY]);
    expect(run(state, 1_000, [...blips, [20_000, 1, 'warming'], ...blips])).toEqual([]);
  });

  it('comes back only a dwell after the move, below the lower rate and below 70% of the rate that saturated the main thread', () => {
    const state = workersOwning(35_000);
    // Within the dwell: stays.
    expect(run(state, 1_000, [[1_000, IDLE]])).toEqual([]);
    // Past the dwell, below 30,000 but not below 70% of 35,000 (24,500): stays.
    expect(run(state, 6_000, [[25_000, IDLE]])).toEqual([]);
    // Low enough from 7 s: back once it has stayed so for a dwell (12 s), not before.
    expect(run(state, 7_000, idleSamples(21, 24_000))).toEqual([{ atMs: 12_000, to: 'inline' }]);
  });

  it('takes a lull between bursts for no light load while it remembers the saturated rate', () => {
    const state = workersOwning(45_000);
    // Idle for 4 s between two bursts at the rate that saturated the main thread: the owners stay.
    const lull = idleSamples(16, 0);
    const burst: [number, number][] = [[45_000, IDLE]];
    expect(run(state, 10_000, [...lull, ...burst, ...lull])).toEqual([]);
    // Low from 14.25 s on (the second lull): back at 19.25 s.
    expect(run(state, 18_250, idleSamples(5, 0))).toEqual([{ atMs: 19_250, to: 'inline' }]);
  });

  it('forgets the saturated rate after CEILING_MEMORY_MS, so the main thread gets another try', () => {
    const state = workersOwning(30_000);
    expect(run(state, 10_000, [[25_000, IDLE]])).toEqual([]);
    expect(run(state, CEILING_MEMORY_MS, [[25_000, IDLE]])).toEqual([
      { atMs: CEILING_MEMORY_MS, to: 'inline' },
    ]);
    expect(state.ceiling).toBeUndefined();
  });
});
