/**
 * Which signed-on sessions a config reload ends (src/session/session-endings.ts,
 * docs/protocol.md section 4 and its clarification): an (institution, role)
 * no longer configured, or whose public key changed; every other one is kept.
 */
import { describe, expect, it } from 'vitest';
import type { InstitutionConfig } from '../../src/config/types.js';
import { sessionEndings } from '../../src/session/session-endings.js';

const key = (byte: number): string => Buffer.alloc(32, byte).toString('base64');

const BEFORE: InstitutionConfig[] = [
  { id: 'acq-kept', role: 'acquirer', publicKey: key(1) },
  { id: 'acq-gone', role: 'acquirer', publicKey: key(2) },
  { id: 'both', role: 'acquirer', publicKey: key(3) },
  { id: 'both', role: 'issuer', publicKey: key(4) },
  { id: 'flips', role: 'acquirer', publicKey: key(5) },
  { id: 'rekeyed', role: 'issuer', publicKey: key(6) },
];

const AFTER: InstitutionConfig[] = [
  { id: 'acq-kept', role: 'acquirer', publicKey: key(1) },
  { id: 'both', role: 'issuer', publicKey: key(4) },
  { id: 'flips', role: 'issuer', publicKey: key(5) },
  { id: 'rekeyed', role: 'issuer', publicKey: key(7), standIn: { perTxnMax: 1, dailyMax: 2 } },
  { id: 'new', role: 'acquirer', publicKey: key(8) },
];

describe('sessionEndings', () => {
  const endingOf = sessionEndings(BEFORE, AFTER);

  it('keeps a session whose institution, role and key are unchanged (other fields may change)', () => {
    expect(endingOf('acq-kept', 'acquirer')).toBeUndefined();
    expect(endingOf('both', 'issuer')).toBeUndefined();
  });

  it('ends one whose institution is gone', () => {
    expect(endingOf('acq-gone', 'acquirer')).toBe('institution no longer configured');
  });

  it('ends one whose role is gone, the id staying with another role', () => {
    expect(endingOf('both', 'acquirer')).toBe('role no longer configured');
    expect(endingOf('flips', 'acquirer')).toBe('role no longer configured');
  });

  it('ends one whose public key changed', () => {
    expect(endingOf('rekeyed', 'issuer')).toBe('public key changed');
  });

  it('ends nothing when the institutions are the same', () => {
    const same = sessionEndings(BEFORE, BEFORE);
    for (const inst of BEFORE) expect(same(inst.id, inst.role)).toBeUndefined();
  });
});
