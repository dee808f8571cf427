import { describe, expect, it } from 'vitest';
import { Interner } from '../../src/util/interner.js';

// String identity cannot be observed from JavaScript (strings compare by value), so these check
// what can be: values come back unchanged, and the table stays within its bound.
describe('Interner', () => {
  it('returns equal values, remembering at most sizeMax distinct ones', () => {
    const interner = new Interner(2);
    const make = (s: string): string => [...s].join('');
    expect(interner.of(make('USD'))).toBe('USD');
    expect(interner.of(make('USD'))).toBe('USD');
    expect(interner.size).toBe(1);
    expect(interner.of('EUR')).toBe('EUR');
    expect(interner.of('GBP')).toBe('GBP');
    expect(interner.size).toBe(2);
  });
});
