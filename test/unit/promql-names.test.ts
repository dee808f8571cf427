import { describe, expect, it } from 'vitest';
import { promqlNames } from '../helpers/promql-names.js';

/** The PromQL name reader the dashboards' and alert rules' checks use. */

describe('promqlNames', () => {
  it('finds metric names and their matchers, not functions, keywords, numbers or durations', () => {
    const names = promqlNames(
      'histogram_quantile(0.99, sum by (le, mti) (rate(a_bucket{mti=~"0110|0210", rc!="00"}[5m] offset 1h)))' +
        ' > 0.5 and on (job) b_total > bool 1e3 unless c',
    );
    expect(names.selectors).toEqual([
      { metric: 'a_bucket', labels: ['mti', 'rc'] },
      { metric: 'b_total', labels: [] },
      { metric: 'c', labels: [] },
    ]);
    expect(names.groupingLabels).toEqual(['le', 'mti', 'job']);
  });

  it('passes over strings, subqueries and aggregations written after their argument', () => {
    const names = promqlNames(
      'sum(max_over_time(x{a="}{ [ x"}[1h:5m])) without (instance) / count_values("y", z)',
    );
    expect(names.selectors.map((s) => s.metric)).toEqual(['x', 'z']);
    expect(names.groupingLabels).toEqual(['instance']);
  });

  it('refuses a selector without a metric name and matchers it cannot read', () => {
    expect(() => promqlNames('{__name__=~"switchyard_.*"}')).toThrow(/without a metric name/);
    expect(() => promqlNames('x{a=b}')).toThrow(/cannot read the matchers/);
  });
});
