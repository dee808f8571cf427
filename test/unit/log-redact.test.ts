/**
 * No full PAN and no secret in a log line (src/observability/log-redact.ts):
 * `pan` fields masked first 6 / last 4, secret names redacted, and any
 * Luhn-valid 12-19 digit run masked wherever it hides (strings, nested
 * objects, arrays, map keys, error messages, stacks, causes, numbers). The
 * property test is seeded: SWITCHYARD_SEED=<n> replays it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/observability/log.js';
import { isPanField, isSecretField, scrubText } from '../../src/observability/log-redact.js';
import { luhnValid, maskPan, withLuhnDigit } from '../../src/util/pan.js';
import { seedFromEnv } from '../helpers/seeded-rng.js';

const SEED = seedFromEnv(0x10c5);
const PAN = '4000001234567899';
const MASKED = '400000******7899';

function capture(): { log: Logger; text: () => string; parsed: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = createLogger('debug', (line) => lines.push(line));
  return {
    log,
    text: () => lines.join(''),
    parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('pan fields', () => {
  it('are masked first 6 / last 4 whatever they hold', () => {
    expect(luhnValid(PAN)).toBe(true);
    const { log, parsed } = capture();
    log.info('x', {
      pan: PAN,
      cardPan: PAN,
      number: { pan: Number(PAN) },
      malformed: { pan: '4000 0012 3456 7899' },
      tooLong: { pan: `${PAN}0000` },
      short: { pan: '12345' },
      big: { pan: BigInt(PAN) },
    });
    expect(parsed()[0]).toMatchObject({
      pan: MASKED,
      cardPan: MASKED,
      number: { pan: MASKED },
      malformed: { pan: '4000 0*********7899' },
      tooLong: { pan: '400000**********0000' },
      short: { pan: '*****' },
      big: { pan: MASKED },
    });
  });

  it('holding an object are redacted whole', () => {
    const { log, parsed } = capture();
    log.info('x', { pan: { digits: PAN } });
    expect(parsed()[0]!['pan']).toBe('[redacted]');
  });

  it('are named pan, PAN or ...Pan, not any name ending in pan', () => {
    expect(['pan', 'PAN', 'cardPan', 'issuerPan'].every(isPanField)).toBe(true);
    expect(['span', 'japan', 'Pan', 'panic', 'pans'].some(isPanField)).toBe(false);
  });
});

describe('secret fields', () => {
  it.each([
    'token',
    'Token',
    'adminToken',
    'key',
    'secretKey',
    'publicKey',
    'api_key',
    'x-api-key',
    'secret',
    'sig',
    'signature',
    'password',
    'redisPassword',
    'authorization',
    'cvv',
    'pin',
    'pinBlock',
  ])('%s is redacted', (name) => {
    expect(isSecretField(name)).toBe(true);
    const { log, parsed } = capture();
    log.info('x', { [name]: 'hunter2-value', nested: { [name]: 1234, list: [{ [name]: true }] } });
    expect(parsed()[0]).toMatchObject({
      [name]: '[redacted]',
      nested: { [name]: '[redacted]', list: [{ [name]: '[redacted]' }] },
    });
  });

  it.each(['keys', 'monkey', 'keyboard', 'design', 'signal', 'spin', 'tokens', 'institution', 'reason'])(
    '%s is not a secret',
    (name) => {
      expect(isSecretField(name)).toBe(false);
    },
  );

  it('a secret holding an object, an array or an Error is redacted whole', () => {
    const { log, text } = capture();
    log.info('x', { token: { value: 'abc-secret' }, key: ['abc-secret'], secret: new Error('abc-secret') });
    expect(text()).not.toContain('abc-secret');
  });

  it('a password in a URL is redacted, the rest kept', () => {
    expect(scrubText('redis://default:s3cret@10.0.0.1:6379/0')).toBe(
      'redis://default:[redacted]@10.0.0.1:6379/0',
    );
    expect(scrubText('connect to redis://:pw@host:1 failed')).toBe(
      'connect to redis://:[redacted]@host:1 failed',
    );
    expect(scrubText('mail me at ops@example.com')).toBe('mail me at ops@example.com');
  });
});

describe('the Luhn safety net', () => {
  it('masks a Luhn-valid 12-19 digit run inside any string, keeps other digit runs readable', () => {
    const rrn = '000000000123'; // 12 digits, not Luhn-valid
    expect(luhnValid(rrn)).toBe(false);
    expect(scrubText(`WRONGTYPE key sy:{17:a:${PAN}`)).toBe(`WRONGTYPE key sy:{17:a:${MASKED}`);
    expect(scrubText(`rrn ${rrn} stream 1764115200000-0`)).toBe(`rrn ${rrn} stream 1764115200000-0`);
    expect(scrubText('a'.repeat(50))).toBe('a'.repeat(50));
    // 20 or more digits: masked whatever Luhn says, since a PAN may sit inside.
    expect(scrubText(`x12${PAN}34y`)).toBe(`x${maskPan(`12${PAN}34`)}y`);
  });

  it('masks PANs in messages, nested strings, arrays, map keys, error messages, stacks and causes', () => {
    const { log, text } = capture();
    const error = new Error(`no account ${PAN}`, { cause: new Error(`key a:${PAN}`) });
    log.warn(`a message that broke the rule ${PAN}`, {
      reason: `declined ${PAN}`,
      nested: { deeper: [`pan=${PAN}`] },
      byPan: new Map([[PAN, 1]]),
      [PAN]: 'as a field name',
      error,
      amount: Number(PAN),
      big: BigInt(PAN),
    });
    expect(text()).not.toContain(PAN);
    expect(text()).toContain(MASKED);
  });

  it('masks a Luhn-valid integer of 12+ digits, but not a field in ms', () => {
    const { log, parsed } = capture();
    const atMs = Number(withLuhnDigit('176411520000'));
    log.info('x', { amount: Number(PAN), dueAtMs: atMs, small: 4_111 });
    expect(parsed()[0]).toMatchObject({ amount: MASKED, dueAtMs: atMs, small: 4_111 });
  });

  it('leaves no Luhn-valid 12-19 digit PAN in a line, wherever it is put (seeded property)', () => {
    const panArb = fc
      .tuple(fc.integer({ min: 12, max: 19 }), fc.stringMatching(/^[1-9][0-9]{18}$/))
      .map(([length, digits]) => withLuhnDigit(digits.slice(0, length - 1)));
    // Text around the PAN must not itself be a digit (that would make a longer run, masked differently).
    const around = fc.string({ maxLength: 20 }).map((s) => s.replace(/[0-9]/g, 'x'));
    const placement = fc.constantFrom(
      'field',
      'nested',
      'array',
      'mapKey',
      'fieldName',
      'errorMessage',
      'cause',
      'number',
    );
    try {
      fc.assert(
        fc.property(panArb, around, around, placement, (pan, before, after, where) => {
          const s = `${before}${pan}${after}`;
          const fields: Record<string, unknown> = {
            field: { reason: s },
            nested: { a: { b: { c: s } } },
            array: { list: ['x', s] },
            mapKey: { m: new Map([[s, 1]]) },
            fieldName: { [s]: 1 },
            errorMessage: { error: new Error(s) },
            cause: { error: new Error('outer', { cause: new Error(s) }) },
            number: { n: Number.isSafeInteger(Number(pan)) ? Number(pan) : s },
          }[where] as Record<string, unknown>;
          const { log, text } = capture();
          log.info('placed', fields);
          expect(text()).not.toContain(pan);
          expect(text()).toContain(maskPan(pan));
        }),
        { seed: SEED, numRuns: 400 },
      );
    } catch (error) {
      throw new Error(`log redaction property failed (SWITCHYARD_SEED=${SEED}): ${String(error)}`);
    }
  });
});
