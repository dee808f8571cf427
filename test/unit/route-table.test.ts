import { describe, expect, it } from 'vitest';
import { RouteTable } from '../../src/engine/route-table.js';

describe('RouteTable', () => {
  const table = new RouteTable([
    { prefix: '4', issuer: 'local' },
    { prefix: '41', issuer: 'iss-a' },
    { prefix: '4111', issuer: 'iss-b' },
    { prefix: '5', issuer: 'iss-c' },
  ]);

  it('picks the longest matching prefix', () => {
    expect(table.lookup('4111111111111111')).toBe('iss-b');
    expect(table.lookup('4122222222222222')).toBe('iss-a');
    expect(table.lookup('4000000000000000')).toBe('local');
    expect(table.lookup('5500000000000000')).toBe('iss-c');
  });

  it('answers undefined when nothing matches', () => {
    expect(table.lookup('6011000000000000')).toBeUndefined();
    expect(table.lookup('')).toBeUndefined();
    expect(new RouteTable([]).lookup('4111111111111111')).toBeUndefined();
  });

  it('stops at the first non-digit', () => {
    expect(table.lookup('4x11')).toBe('local');
    expect(table.lookup('x4111')).toBeUndefined();
  });

  it('refuses a non-digit prefix', () => {
    expect(() => new RouteTable([{ prefix: '4a', issuer: 'local' }])).toThrow(RangeError);
  });
});
