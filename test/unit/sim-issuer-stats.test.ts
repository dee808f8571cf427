import { describe, expect, it } from 'vitest';
import {
  formatIssuerProgressLine,
  formatIssuerSummary,
  IssuerSimStats,
  type IssuerSimSummary,
} from '../../src/sim/issuer-stats.js';

describe('IssuerSimStats', () => {
  it('counts answers by rc and advices, and rates requests received over the last interval', () => {
    let nowMs = 0;
    const stats = new IssuerSimStats(() => nowMs);
    stats.received = 6;
    stats.recordAnswer('00', 2);
    stats.recordAnswer('00', 4);
    stats.recordAnswer('51', 1);
    stats.recordAdvice(false);
    stats.recordAdvice(true);
    stats.advicesAcknowledged = 2;
    nowMs = 2_000;

    expect(stats.tick()).toMatchObject({
      received: 6,
      answered: 3,
      rcCounts: { '00': 2, '51': 1 },
      advices: 2,
      advicesAcknowledged: 2,
      ratePerS: 3,
    });
    expect(stats.adviceRepeats).toBe(1);
    nowMs = 3_000;
    expect(stats.tick().ratePerS).toBe(0);
    expect(stats.answerDelayMs().max).toBe(4);
  });

  it('formats the progress line and the summary', () => {
    expect(
      formatIssuerProgressLine({
        received: 10,
        answered: 8,
        rcCounts: { '51': 1, '00': 7 },
        silent: 0,
        late: 1,
        twice: 2,
        lost: 1,
        drops: 1,
        advices: 3,
        advicesAcknowledged: 3,
        ratePerS: 99.6,
        p50Ms: 1.234,
        p99Ms: 9.876,
      }),
    ).toBe(
      'received 10 answered 8 rc 00:7 51:1 silent 0 late 1 twice 2 lost 1 drops 1 advices 3 acked 3 rate 100/s delay p50 1.23ms p99 9.88ms',
    );
    const summary: IssuerSimSummary = {
      institution: 'iss-demo',
      transport: 'tcp',
      connections: 2,
      seed: 5,
      received: 100,
      answered: 98,
      rcCounts: { '00': 90, '05': 8 },
      silent: 0,
      late: 0,
      twice: 0,
      lost: 2,
      drops: 1,
      reconnects: 1,
      advices: 4,
      adviceRepeats: 1,
      advicesAcknowledged: 4,
      elapsedMs: 2_000,
      receivedRatePerS: 50,
      answerDelayMs: { p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 1.5 },
    };
    expect(formatIssuerSummary(summary)).toBe(
      [
        'issuer iss-demo over tcp: 2 connection(s), seed 5',
        'received 100, answered 98 (rc 00:90 05:8)',
        'silent 0, late 0, twice 0, lost 2',
        'advices 4 (repeats 1), acknowledged 4',
        'connections dropped on purpose 1, reconnects 1',
        'elapsed 2.00 s, received 50/s',
        'answer delay ms: p50 1.000 p90 2.000 p99 3.000 max 5.000 mean 1.500',
        '',
      ].join('\n'),
    );
  });
});
