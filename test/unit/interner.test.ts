import { describe, expect, it } from 'vitest';
import { Interner } from '../../src/util/interner.js';

// String identity cannot be observed from JavaScript (strings compare by value), so these check
// what can be: values come back unchanged, in any order of arrival, and the table stays within
// its bound.
describe('Interner', () => {
  it('returns equal values, remembering at most sizeMax distinct ones', () => {
    const interner = new Interner(3);
    const make = (s: string): string => [...s].join('');
    const seen = ['0100', '0200', '0100', '0400', '0200', '0220', '0100', '0220', '0400'];
    for (const value of seen) expect(interner.of(make(value))).toBe(value);
    expect(interner.size).toBe(3);
  });
});
