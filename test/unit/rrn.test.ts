import { describe, expect, it } from 'vitest';
import { createRrnGenerator } from '../../src/runtime/rrn.js';

describe('rrn generator', () => {
  it('makes 12 upper-case base-36 characters, unique within and across seconds', () => {
    let now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const next = createRrnGenerator(5, () => now);
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      if (i === 2500) now += 1000;
      const rrn = next();
      expect(rrn).toMatch(/^[0-9A-Z]{12}$/);
      seen.add(rrn);
    }
    expect(seen.size).toBe(5000);
  });

  it('borrows the next second instead of repeating when a second runs out', () => {
    const now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const next = createRrnGenerator(1, () => now);
    const first = next();
    for (let i = 1; i < 36 ** 4; i++) next();
    const borrowed = next();
    expect(borrowed).not.toBe(first);
    expect(borrowed.slice(8)).toBe('0000');
    expect(borrowed.slice(0, 6) > first.slice(0, 6)).toBe(true);
  });

  it('keeps sources apart and validates the source id', () => {
    const now = () => Date.UTC(2026, 0, 1);
    expect(createRrnGenerator(1, now)()).not.toBe(createRrnGenerator(2, now)());
    expect(() => createRrnGenerator(1296)).toThrow(RangeError);
    expect(() => createRrnGenerator(-1)).toThrow(RangeError);
  });
});
