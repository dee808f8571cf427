/**
 * The pooled random draws behind AES-GCM IVs (src/security/random-pool.ts):
 * never the same bytes twice, across refills of the block.
 */
import { describe, expect, it } from 'vitest';
import { drawRandom } from '../../src/security/random-pool.js';

describe('random pool', () => {
  it('hands out distinct draws across many refills of its block', () => {
    const seen = new Set<string>();
    // 20,000 x 12 bytes: about 60 blocks of 4,096 bytes.
    for (let i = 0; i < 20_000; i++) {
      const iv = drawRandom(12);
      expect(iv.length).toBe(12);
      seen.add(iv.toString('hex'));
    }
    // 96 random bits each: a repeat would mean bytes handed out twice.
    expect(seen.size).toBe(20_000);
  });

  it('mixes draw sizes without overlap: each draw is new bytes', () => {
    const a = Buffer.from(drawRandom(4_000));
    const b = Buffer.from(drawRandom(200));
    const c = Buffer.from(drawRandom(12));
    // b does not fit in a's block: it comes from a fresh one, as c may; none repeats another's bytes.
    expect(a.includes(b.subarray(0, 16))).toBe(false);
    expect(b.includes(c)).toBe(false);
    expect(a.includes(c)).toBe(false);
  });

  it('refuses a draw larger than its block', () => {
    expect(() => drawRandom(4_097)).toThrow(RangeError);
  });
});
