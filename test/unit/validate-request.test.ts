import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/protocol/validate-request.js';

const base = {
  mti: '0100',
  id: 7,
  stan: 123,
  time: 1_764_000_000_000,
  pan: '4111111111111111',
  amount: 1000,
  currency: 'EUR',
};

function rcOf(msg: Record<string, unknown>, txnClass: '0100' | '0200' | '0220' | '0400' = '0100'): string {
  const result = validateRequest(msg, txnClass, false);
  return result.ok ? 'ok' : result.rc;
}

describe('validateRequest', () => {
  it('accepts a minimal 0100 with defaults applied', () => {
    const result = validateRequest(base, '0100', false);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.request).toMatchObject({
      txnClass: '0100',
      proc: '00',
      partial: false,
      origStan: 0,
      origTime: 0,
      amount: 1000,
    });
  });

  it.each([
    ['id missing', { id: undefined }],
    ['id negative', { id: -1 }],
    ['id 2^53', { id: 2 ** 53 }],
    ['id float', { id: 1.5 }],
    ['id too long', { id: 'x'.repeat(65) }],
    ['id a map', { id: { a: 1 } }],
    ['stan 0', { stan: 0 }],
    ['stan 1000000', { stan: 1_000_000 }],
    ['stan string', { stan: '12' }],
    ['time missing', { time: undefined }],
    ['time negative', { time: -5 }],
    ['pan a number', { pan: 4111111111111111 }],
    ['pan missing', { pan: undefined }],
    ['amount negative', { amount: -1 }],
    ['amount above 10^15', { amount: 1e15 + 1 }],
    ['amount float', { amount: 10.5 }],
    ['currency lower case', { currency: 'eur' }],
    ['currency two letters', { currency: 'EU' }],
    ['proc a number', { proc: 0 }],
    ['partial a string', { partial: 'yes' }],
    ['merchant too long', { merchant: 'm'.repeat(33) }],
    ['terminal not a string', { terminal: 5 }],
    ['mcc three digits', { mcc: '541' }],
  ])('answers 30 for %s', (_name, patch) => {
    expect(rcOf({ ...base, ...patch })).toBe('30');
  });

  it('accepts the limits themselves', () => {
    expect(
      rcOf({
        ...base,
        id: 2 ** 53 - 1,
        stan: 999_999,
        amount: 1e15,
        merchant: 'm'.repeat(32),
        id2: 'ignored',
      }),
    ).toBe('ok');
    expect(rcOf({ ...base, id: 'x'.repeat(64) })).toBe('ok');
    expect(rcOf({ ...base, amount: 0, proc: '31' })).toBe('ok');
  });

  it('requires orig {stan, time} on 0220 and 0400 only', () => {
    expect(rcOf(base, '0220')).toBe('30');
    expect(rcOf({ ...base, orig: { stan: 1 } }, '0400')).toBe('30');
    expect(rcOf({ ...base, orig: [1, 2] }, '0400')).toBe('30');
    const ok = validateRequest({ ...base, orig: { stan: 9, time: 42 } }, '0400', true);
    expect(ok.ok && ok.request.origStan === 9 && ok.request.origTime === 42 && ok.request.repeat).toBe(true);
    expect(rcOf(base, '0200')).toBe('ok');
  });

  it.each([
    ['0100', '20'],
    ['0200', '31'],
    ['0100', '99'],
    ['0200', '02'],
  ] as const)('answers 12 for %s with proc %s', (txnClass, proc) => {
    expect(rcOf({ ...base, proc }, txnClass)).toBe('12');
  });

  it('ignores proc on 0220/0400 (taken from the original)', () => {
    const result = validateRequest({ ...base, proc: '99', orig: { stan: 1, time: 1 } }, '0220', false);
    expect(result.ok).toBe(true);
  });

  it('checks format (30) before the MTI/proc combination (12)', () => {
    expect(rcOf({ ...base, proc: '20', currency: 'eu' })).toBe('30');
  });
});
