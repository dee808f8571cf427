import { describe, expect, it } from 'vitest';
import { formatProgressLine, formatSummary, SimStats, type SimSummary } from '../../src/sim/stats.js';

describe('SimStats', () => {
  it('counts answers by rc and errors by code, and rates the last interval', () => {
    let nowMs = 0;
    const stats = new SimStats(() => nowMs);
    stats.sent = 5;
    stats.recordResponse('00', 2);
    stats.recordResponse('00', 2);
    stats.recordResponse('51', 4);
    stats.recordResponse(undefined, 1);
    stats.recordError('REQUEST_TIMEOUT', 1);
    nowMs = 2000;
    const snapshot = stats.tick();
    expect(snapshot).toMatchObject({
      sent: 5,
      answered: 4,
      errors: 1,
      ratePerS: 2,
      rcCounts: { '00': 2, '51': 1, none: 1 },
    });
    expect(stats.errorCounts).toEqual({ REQUEST_TIMEOUT: 1 });
    nowMs = 3000;
    expect(stats.tick().ratePerS).toBe(0);
    expect(stats.latencyMs().max).toBe(4);
  });

  it('formats the progress line with counts, rate, rc and latency', () => {
    const line = formatProgressLine({
      sent: 10,
      answered: 9,
      errors: 1,
      ratePerS: 123.4,
      rcCounts: { '51': 2, '00': 7 },
      p50Ms: 1.234,
      p99Ms: 9.876,
    });
    expect(line).toBe('sent 10 answered 9 errors 1 rate 123/s rc 00:7 51:2 p50 1.23ms p99 9.88ms');
  });

  it('formats the summary with every percentile', () => {
    const summary: SimSummary = {
      institution: 'acq-demo',
      transport: 'tcp',
      connections: 2,
      batch: 1,
      targetRatePerS: 0,
      seed: 1,
      sent: 3,
      answered: 2,
      errors: 1,
      errorCounts: { DISCONNECTED: 1 },
      rcCounts: { '00': 2 },
      elapsedMs: 1000,
      achievedRatePerS: 2,
      latencyMs: { p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 1.5 },
    };
    const text = formatSummary(summary);
    expect(text).toContain('sent 3, answered 2, errors 1 (DISCONNECTED:1)');
    expect(text).toContain('p50 1.000 p90 2.000 p99 3.000 p99.9 4.000 max 5.000');
  });
});
