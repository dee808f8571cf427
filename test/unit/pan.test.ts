import { describe, expect, it } from 'vitest';
import { holdsPanShapedRun, MASK_HIDDEN_DIGITS_MIN, maskPan } from '../../src/util/pan.js';

describe('maskPan', () => {
  it('shows the first min(6, length - 10) digits and the last 4 (docs/protocol.md section 6)', () => {
    expect(maskPan('4111111111111111')).toBe('411111******1111');
    expect(maskPan('4111111111111111234')).toBe('411111*********1234');
    expect(maskPan('4222222222222')).toBe('422******2222');
    expect(maskPan('412345678901')).toBe('41******8901');
    expect(maskPan('41234567890')).toBe('4******7890');
    expect(maskPan('4123456789')).toBe('******6789');
  });

  it('hides at least six digits at every length from 0 to 25', () => {
    for (let length = 0; length <= 25; length++) {
      const pan = '9'.repeat(length);
      const masked = maskPan(pan);
      expect(masked).toHaveLength(length);
      const hidden = [...masked].filter((c) => c === '*').length;
      expect(hidden, `length ${length}`).toBeGreaterThanOrEqual(Math.min(length, MASK_HIDDEN_DIGITS_MIN));
      if (length >= 16) expect(hidden, `length ${length}`).toBe(length - 10);
    }
  });

  it('hides a string too short to show any digit whole', () => {
    expect(maskPan('123456789')).toBe('*********');
    expect(maskPan('')).toBe('');
  });
});

describe('holdsPanShapedRun', () => {
  it('is true for a run of 12 digits or more anywhere, false for shorter runs', () => {
    expect(holdsPanShapedRun('refund 4111111111111111')).toBe(true);
    expect(holdsPanShapedRun('x412345678901y')).toBe(true);
    expect(holdsPanShapedRun('41234567890123456789012')).toBe(true);
    expect(holdsPanShapedRun('ops-41234567890')).toBe(false);
    expect(holdsPanShapedRun('4111 1111 1111 1111')).toBe(false);
    // Called again on the same text: no state kept between calls.
    expect(holdsPanShapedRun('refund 4111111111111111')).toBe(true);
  });
});
