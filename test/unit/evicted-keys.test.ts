import { describe, expect, it } from 'vitest';
import {
  EvictedKeys,
  type EvictedKeysBudget,
  fingerprintOf,
} from '../../src/runtime/records/evicted-keys.js';
import { keyOf, parseKey } from '../../src/runtime/records/txn-record.js';

/** A key's parts from its string (the tests write keys as strings). */
const k = parseKey;

const WINDOW_MS = 80_000;
/** A generation's span: an eighth of the window. */
const SPAN_MS = 10_000;
const plenty = (): EvictedKeysBudget => ({ used: 0, max: 1_000_000 });

describe('EvictedKeys', () => {
  it('remembers evicted keys by fingerprint until their generation is wholly past the window', () => {
    const e = new EvictedKeys(WINDOW_MS, plenty());
    e.add(k('a|1|1'), 1_000, false, 5_000);
    e.add(k('a|2|2'), 2_000, false, 6_000);
    expect(e.mayHave(k('a|1|1'), 0)).toBe(true);
    expect(e.mayHave(k('a|3|3'), 0)).toBe(false);
    // The only generation is the current one: never dropped, however old.
    expect(e.due(1_000_000)).toBe(false);
    // A second generation opens a span later; the first is due once its newest record is past.
    e.add(k('a|4|4'), 20_000, false, 20_000);
    expect(e.due(2_000)).toBe(false);
    expect(e.due(2_001)).toBe(true);
    expect(e.expire(2_001, 90_000, () => false)).toEqual(['a|1|1', 'a|2|2']);
    expect(e.mayHave(k('a|1|1'), 0)).toBe(false);
    expect(e.mayHave(k('a|4|4'), 0)).toBe(true);
    expect(e.size).toBe(1);
  });

  it('does not delete a key whose record is back in memory', () => {
    const e = new EvictedKeys(WINDOW_MS, plenty());
    e.add(k('a|1|1'), 0, false, 0);
    e.add(k('a|2|2'), 0, false, 0);
    e.add(k('a|9|9'), 50_000, false, SPAN_MS);
    expect(e.expire(WINDOW_MS, 100_000, (key) => keyOf(key) === 'a|2|2')).toEqual(['a|1|1']);
  });

  it('carries kept keys (open holds, adjustments) past the window unless their record came back', () => {
    const e = new EvictedKeys(WINDOW_MS, plenty());
    e.add(k('hold|1'), 0, true, 0);
    e.add(k('hold|2'), 0, true, 0);
    e.add(k('hold|2'), 0, true, 1_000); // evicted again after a read brought it back (below)
    e.returnedKept('hold|2');
    e.add(k('new'), 40_000, false, SPAN_MS);
    // hold|1 carried; one hold|2 entry cancelled by the return, the other carried.
    expect(e.expire(1_000, 100_000, () => false)).toEqual([]);
    expect(e.mayHave(k('hold|1'), 0)).toBe(true);
    expect(e.mayHave(k('hold|2'), 0)).toBe(true);
    expect(e.size).toBe(3);
    // Carried as of now (100,000): looked at again only once that is past the window.
    e.add(k('later'), 150_000, false, 150_000);
    expect(e.expire(99_999, 180_000, () => false)).toEqual(['new']);
    expect(e.mayHave(k('hold|1'), 0)).toBe(true);
    e.returnedKept('hold|2');
    expect(e.expire(100_001, 200_000, () => false)).toEqual([]);
    expect(e.mayHave(k('hold|2'), 0)).toBe(false);
    expect(e.mayHave(k('hold|1'), 0)).toBe(true);
  });

  it('shares one budget across actors: past it an actor goes blind for a window, kept keys are still filed', () => {
    const budget: EvictedKeysBudget = { used: 0, max: 2 };
    const a = new EvictedKeys(WINDOW_MS, budget);
    const b = new EvictedKeys(WINDOW_MS, budget);
    a.add(k('a|1|1'), 1_000, false, 1_000);
    b.add(k('b|1|1'), 1_000, false, 1_000);
    expect(budget.used).toBe(2);
    expect(b.mayHave(k('b|9|9'), 2_000)).toBe(false);
    // Budget spent: b's next eviction is not filed, and b reads every key until that record is past.
    b.add(k('b|2|2'), 5_000, false, 5_000);
    expect(budget.used).toBe(2);
    expect(b.active).toBe(true);
    expect(b.mayHave(k('b|9|9'), 5_000 + WINDOW_MS - 1)).toBe(true);
    expect(b.mayHave(k('b|9|9'), 5_000 + WINDOW_MS)).toBe(false);
    expect(b.mayHave(k('b|1|1'), 5_000 + WINDOW_MS)).toBe(true);
    // a is not blind; an open hold is filed over the budget.
    expect(a.mayHave(k('a|9|9'), 5_000)).toBe(false);
    a.add(k('hold|1'), 6_000, true, 6_000);
    expect(a.mayHave(k('hold|1'), 6_000)).toBe(true);
    expect(budget.used).toBe(3);
    // Expiry and release give keys back.
    a.release();
    expect(budget.used).toBe(1);
    a.add(k('a|5|5'), 7_000, false, 7_000);
    expect(budget.used).toBe(1);
    expect(a.mayHave(k('a|5|5'), 7_000)).toBe(false);
  });

  it('fingerprints are small integers, equal for equal keys whatever object carries the parts', () => {
    const a = fingerprintOf(k('acq|123456|1764115200123'));
    expect(Number.isInteger(a) && a >= -(2 ** 31) && a < 2 ** 31).toBe(true);
    expect(
      fingerprintOf({ institution: 'acq', stan: 123_456, time: 1_764_115_200_123, refKey: undefined }),
    ).toBe(a);
    expect(fingerprintOf(k('acq|123456|1764115200124'))).not.toBe(a);
    expect(fingerprintOf(k('acq|123457|1764115200123'))).not.toBe(a);
    expect(fingerprintOf(k('acr|123456|1764115200123'))).not.toBe(a);
    expect(fingerprintOf(k('#adj|r'))).toBe(
      fingerprintOf({ institution: '', stan: 0, time: 0, refKey: '#adj|r' }),
    );
  });

  it('gives back the keys of an expired generation as the strings stored in Redis, in the order filed', () => {
    const e = new EvictedKeys(WINDOW_MS, plenty());
    const keys = Array.from({ length: 100 }, (_, i) => `acq-${i % 3}|${i + 1}|${1_764_115_200_000 + i}`);
    keys.push('#adj|ref-1');
    for (const key of keys) e.add(k(key), 1_000, key.startsWith('#'), 1_000);
    e.add(k('later|1|1'), 50_000, false, 1_000 + SPAN_MS);
    // The adjustment is kept (carried), the rest are deleted.
    expect(e.expire(WINDOW_MS, 100_000, () => false)).toEqual(keys.slice(0, 100));
    expect(e.mayHave(k('#adj|ref-1'), 100_000)).toBe(true);
  });
});
