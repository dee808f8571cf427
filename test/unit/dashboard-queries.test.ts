/**
 * test/helpers/dashboards.ts, which the Prometheus test (test/integration/prometheus.test.ts)
 * uses to run every dashboard query: Grafana's variables replaced as the dashboards would see
 * them, and every query found, rows' nested panels and `label_values` variables included.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dashboardFiles, dashboardQueries, substitute } from '../helpers/dashboards.js';

describe('dashboard queries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-dashboards-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces intervals and ranges, regex matchers with .*, other variables with their values', () => {
    const values = { job: 'switchyard', issuer: 'iss-a' };
    expect(substitute('rate(x_total{job="$job"}[$__rate_interval])', values)).toBe(
      'rate(x_total{job="switchyard"}[1m])',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${name} syntax, on purpose
    expect(substitute('increase(x_total[$__range]) / $__interval_ms + y[${__interval}]', values)).toBe(
      'increase(x_total[1h]) / 15000 + y[15s]',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${name} syntax, on purpose
    expect(substitute('x{issuer=~"$issuer", job="${job}"}', values)).toBe(
      'x{issuer=~".*", job="switchyard"}',
    );
    expect(substitute('x{issuer!~"[[issuer]]|b"}', values)).toBe('x{issuer!~".*|b"}');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${name} syntax, on purpose
    expect(substitute('x{issuer="${issuer:raw}"}', values)).toBe('x{issuer="iss-a"}');
    // No value: left as written, so Prometheus refuses the query and the test names it.
    expect(substitute('x{worker="$worker"}', values)).toBe('x{worker="$worker"}');
    // A regex's own end anchor is not a variable.
    expect(substitute('x{rc=~"^9.$"}', values)).toBe('x{rc=~"^9.$"}');
  });

  it('lists every target of every panel, rows included, and label_values variables as PromQL', () => {
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({
        panels: [
          {
            title: 'Traffic',
            targets: [{ refId: 'A', expr: 'sum(rate(m_total[$__rate_interval]))' }, { refId: 'B' }],
          },
          {
            title: 'Issuers',
            type: 'row',
            panels: [{ title: 'Timeouts', targets: [{ refId: 'A', expr: 'm_total{issuer=~"$issuer"}' }] }],
          },
        ],
        templating: {
          list: [
            { name: 'issuer', type: 'query', query: { query: 'label_values(m_total, issuer)' } },
            { name: 'datasource', type: 'datasource', query: 'prometheus' },
          ],
        },
      }),
    );
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ panels: [] }));
    writeFileSync(join(dir, 'notes.txt'), 'not a dashboard');
    expect(dashboardFiles(dir)).toEqual(['a.json', 'b.json']);
    expect(dashboardQueries({}, dir)).toEqual([
      {
        dashboard: 'b.json',
        where: 'panel "Traffic" A',
        expr: 'sum(rate(m_total[$__rate_interval]))',
        query: 'sum(rate(m_total[1m]))',
      },
      {
        dashboard: 'b.json',
        where: 'panel "Timeouts" A',
        expr: 'm_total{issuer=~"$issuer"}',
        query: 'm_total{issuer=~".*"}',
      },
      {
        dashboard: 'b.json',
        where: 'variable issuer',
        expr: 'label_values(m_total, issuer)',
        query: 'count by (issuer) (m_total)',
      },
    ]);
  });

  it('finds no dashboards in a folder that does not exist', () => {
    expect(dashboardFiles(join(dir, 'none'))).toEqual([]);
  });
});
