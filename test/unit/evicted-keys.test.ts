import { describe, expect, it } from 'vitest';
import { EvictedKeys } from '../../src/ledger/worker/evicted-keys.js';

const WINDOW_MS = 80_000;
const SPAN_MS = 10_000;

describe('EvictedKeys', () => {
  it('remembers evicted keys by fingerprint until their generation is wholly past the window', () => {
    const e = new EvictedKeys(SPAN_MS);
    e.add('a|1|1', 1_000, false, 5_000);
    e.add('a|2|2', 2_000, false, 6_000);
    expect(e.mayHave('a|1|1')).toBe(true);
    expect(e.mayHave('a|3|3')).toBe(false);
    // The only generation is the current one: never dropped, however old.
    expect(e.due(1_000_000)).toBe(false);
    // A second generation opens a span later; the first is due once its newest record is past.
    e.add('a|4|4', 20_000, false, 20_000);
    expect(e.due(2_000)).toBe(false);
    expect(e.due(2_001)).toBe(true);
    expect(e.expire(2_001, 90_000, () => false)).toEqual(['a|1|1', 'a|2|2']);
    expect(e.mayHave('a|1|1')).toBe(false);
    expect(e.mayHave('a|4|4')).toBe(true);
    expect(e.size).toBe(1);
  });

  it('does not delete a key whose record is back in memory', () => {
    const e = new EvictedKeys(SPAN_MS);
    e.add('a|1|1', 0, false, 0);
    e.add('a|2|2', 0, false, 0);
    e.add('a|9|9', 50_000, false, SPAN_MS);
    expect(e.expire(WINDOW_MS, 100_000, (key) => key === 'a|2|2')).toEqual(['a|1|1']);
  });

  it('carries kept keys (open holds, adjustments) past the window unless their record came back', () => {
    const e = new EvictedKeys(SPAN_MS);
    e.add('hold|1', 0, true, 0);
    e.add('hold|2', 0, true, 0);
    e.add('hold|2', 0, true, 1_000); // evicted again after a read brought it back (below)
    e.returnedKept('hold|2');
    e.add('new', 40_000, false, SPAN_MS);
    // hold|1 carried; one hold|2 entry cancelled by the return, the other carried.
    expect(e.expire(1_000, 100_000, () => false)).toEqual([]);
    expect(e.mayHave('hold|1')).toBe(true);
    expect(e.mayHave('hold|2')).toBe(true);
    expect(e.size).toBe(3);
    // Carried as of now (100,000): looked at again only once that is past the window.
    e.add('later', 150_000, false, 150_000);
    expect(e.expire(99_999, 180_000, () => false)).toEqual(['new']);
    expect(e.mayHave('hold|1')).toBe(true);
    e.returnedKept('hold|2');
    expect(e.expire(100_001, 200_000, () => false)).toEqual([]);
    expect(e.mayHave('hold|2')).toBe(false);
    expect(e.mayHave('hold|1')).toBe(true);
  });
});
