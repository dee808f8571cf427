/**
 * The Redis key names of issuers' advice streams (src/store/keys.ts): the stream's name is
 * what stores already hold, the re-seal job and GET /keys/usage find every stream by
 * advicesPattern and read its issuer back, and the delivery's and the job's keys beside a
 * stream are never taken for one.
 */
import { describe, expect, it } from 'vitest';
import { keySpace } from '../../src/store/keys.js';

describe('advice stream keys', () => {
  const keys = keySpace();

  it('names a stream as stores hold it, with its re-sealed PANs beside it in the same hash tag', () => {
    expect(keys.advices('iss-1')).toBe('sy:{i:iss-1}:advices');
    expect(keys.adviceSeals('iss-1')).toBe('sy:{i:iss-1}:advices:resealed');
    expect(keys.advicesPattern()).toBe('sy:{i:*}:advices');
  });

  it('reads the issuer back from a stream key, and from nothing else', () => {
    for (const issuer of ['iss-1', 'a', 'Bank_9.x'])
      expect(keys.issuerOfAdvices(keys.advices(issuer))).toBe(issuer);
    for (const other of [
      keys.adviceSeals('iss-1'),
      `${keys.advices('iss-1')}:cursor`,
      `${keys.advices('iss-1')}:acked`,
      `${keys.advices('iss-1')}:lease`,
      'sy:{i:}:advices',
      'sy:{i:a}:b}:advices',
      keySpace('other').advices('iss-1'),
      keys.journal(3),
    ])
      expect(keys.issuerOfAdvices(other), other).toBeUndefined();
  });

  it('escapes a prefix with glob characters in the pattern', () => {
    expect(keySpace('t[1]*').advicesPattern()).toBe('t\\[1\\]\\*:{i:*}:advices');
  });
});
