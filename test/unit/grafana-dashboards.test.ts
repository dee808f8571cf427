import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_FAMILIES } from '../../src/observability/metric-catalog.js';
import {
  allPanels,
  type Dashboard,
  dashboardQueries,
  expandGrafanaVariables,
  loadDashboards,
  variableQueries,
} from '../helpers/dashboards.js';
import { exportedSeries } from '../helpers/exported-series.js';
import { repoRoot } from '../helpers/processes.js';
import { promqlNames } from '../helpers/promql-names.js';
import { parseYaml, type YamlValue } from '../helpers/yaml-subset.js';

/**
 * grafana/dashboards/ and grafana/provisioning/, checked without Grafana:
 * every dashboard is well-formed, reads its datasource from the
 * `datasource` variable, and asks Prometheus only for series the switch
 * (or Prometheus itself) exports, with labels those series carry. The live
 * Prometheus test runs the same queries (dashboardQueries) for real.
 */

const DASHBOARD_FILES = [
  'switchyard-clearing.json',
  'switchyard-issuers.json',
  'switchyard-ledger.json',
  'switchyard-overview.json',
];
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, written as Grafana stores it.
const DATASOURCE = '${datasource}';

const dashboards = loadDashboards();
let series: Map<string, Set<string>>;

beforeAll(async () => {
  series = await exportedSeries();
});

/** Problems with one query: a series not exported, or a label its series do not carry. */
function unknownNames(expr: string): string[] {
  const problems: string[] = [];
  const names = promqlNames(expandGrafanaVariables(expr));
  const labelsInExpr = new Set<string>();
  for (const selector of names.selectors) {
    const labels = series.get(selector.metric);
    if (labels === undefined) {
      problems.push(`no series ${selector.metric}`);
      continue;
    }
    for (const label of labels) labelsInExpr.add(label);
    for (const label of selector.labels) {
      if (!labels.has(label)) problems.push(`${selector.metric} has no label ${label}`);
    }
  }
  for (const label of names.groupingLabels) {
    if (!labelsInExpr.has(label)) problems.push(`no series in the query has the label ${label}`);
  }
  if (names.selectors.length === 0) problems.push('no series named');
  return problems;
}

function datasourceUid(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { uid?: unknown }).uid : value;
}

describe('grafana/dashboards', () => {
  it('holds the four dashboards, each with its own uid and a title', () => {
    expect(dashboards.map((d) => d.file)).toEqual(DASHBOARD_FILES);
    for (const { file, json } of dashboards) {
      expect(json.uid, file).toBe(file.replace(/\.json$/, ''));
      expect(json.title, file).toMatch(/^Switchyard \/ \w+/);
      expect(json.schemaVersion, file).toBeGreaterThanOrEqual(36);
    }
  });

  it.each(DASHBOARD_FILES)(
    '%s: a datasource variable of Prometheus, and a job and instance variable',
    (file) => {
      const variables = dashboardByFile(file).json.templating?.list ?? [];
      const datasource = variables.find((v) => v.name === 'datasource');
      expect(datasource?.type).toBe('datasource');
      expect(datasource?.query).toBe('prometheus');
      for (const name of ['job', 'instance']) {
        const variable = variables.find((v) => v.name === name);
        expect(variable?.type, name).toBe('query');
        expect(datasourceUid(variable?.datasource), name).toBe(DATASOURCE);
      }
    },
  );

  it.each(DASHBOARD_FILES)('%s: every panel reads the datasource variable and has a query', (file) => {
    for (const panel of allPanels(dashboardByFile(file))) {
      if (panel.type === 'row') continue;
      const where = `${file} panel ${panel.id} ${panel.title}`;
      expect(datasourceUid(panel.datasource), where).toBe(DATASOURCE);
      expect(panel.targets?.length ?? 0, where).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr?.trim(), where).toBeTruthy();
        if (target.datasource !== undefined) expect(datasourceUid(target.datasource), where).toBe(DATASOURCE);
      }
    }
  });

  it.each(DASHBOARD_FILES)('%s: panel ids are unique', (file) => {
    const ids = allPanels(dashboardByFile(file)).map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every query names only series the switch exports, with labels they carry', () => {
    const queries = dashboardQueries(dashboards);
    expect(queries.length).toBeGreaterThan(40);
    const problems = queries.flatMap((q) =>
      unknownNames(q.expr).map((p) => `${q.dashboard} "${q.panelTitle}" ${q.refId}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it('every template variable query names only series the switch exports', () => {
    const queries = variableQueries(dashboards);
    expect(queries.length).toBeGreaterThanOrEqual(2 * DASHBOARD_FILES.length);
    const problems = queries.flatMap((q) =>
      unknownNames(q.promql).map((p) => `${q.dashboard} $${q.variable}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it('the issuers dashboard offers the configured issuers as a variable', () => {
    const issuer = variableQueries(dashboards).find(
      (q) => q.dashboard === 'switchyard-issuers.json' && q.variable === 'issuer',
    );
    expect(issuer?.query).toMatch(/^label_values\(switchyard_issuer_requests_total\b.*, issuer\)$/);
  });

  it('ranges are $__rate_interval (or $__range for totals over the time range), never fixed', () => {
    const fixed = dashboardQueries(dashboards).flatMap((q) =>
      [...q.expr.matchAll(/\[([^\]]*)\]/g)]
        .map((m) => m[1])
        .filter((range) => range !== '$__rate_interval' && range !== '$__range')
        .map((range) => `${q.dashboard} "${q.panelTitle}": [${range}]`),
    );
    expect(fixed).toEqual([]);
  });

  it('every catalog family has a panel', () => {
    const named = new Set(
      dashboardQueries(dashboards).flatMap((q) => promqlNames(q.promql).selectors.map((s) => s.metric)),
    );
    const missing = METRIC_FAMILIES.filter(
      (f) =>
        !named.has(f.name) && !['_bucket', '_sum', '_count'].some((suffix) => named.has(f.name + suffix)),
    ).map((f) => f.name);
    expect(missing).toEqual([]);
  });

  it('plain PromQL for the live test: no Grafana variable left', () => {
    for (const q of [...dashboardQueries(dashboards), ...variableQueries(dashboards)]) {
      expect(q.promql, q.promql).not.toMatch(/\$|\[\[/);
    }
  });
});

describe('the checks above can fail', () => {
  it('an unknown series, an unknown label and a grouping label no series has are reported', () => {
    expect(unknownNames('sum(rate(switchyard_message_total[$__rate_interval]))')).toEqual([
      'no series switchyard_message_total',
    ]);
    expect(unknownNames('switchyard_actors_active{workers="0"}')).toEqual([
      'switchyard_actors_active has no label workers',
    ]);
    expect(unknownNames('sum by (issuer) (switchyard_actors_active)')).toEqual([
      'no series in the query has the label issuer',
    ]);
    expect(unknownNames('sum by (task) (switchyard_job_passes_total{task="hold_expiry"})')).toEqual([]);
  });

  it('histograms are their _bucket, _sum and _count, and default process metrics come from prom-client', () => {
    expect(unknownNames('switchyard_request_duration_seconds{mti="0110"}')).toEqual([
      'no series switchyard_request_duration_seconds',
    ]);
    expect(unknownNames('sum by (le) (switchyard_request_duration_seconds_bucket{mti="0110"})')).toEqual([]);
    expect(
      unknownNames('rate(process_cpu_seconds_total[$__rate_interval]) + nodejs_heap_size_used_bytes'),
    ).toEqual([]);
    expect(unknownNames('up{job=~"$job"}')).toEqual([]);
  });
});

function dashboardByFile(file: string): Dashboard {
  const dashboard = dashboards.find((d) => d.file === file);
  if (dashboard === undefined) throw new Error(`no dashboard ${file}`);
  return dashboard;
}

function field(value: YamlValue | undefined, path: readonly (string | number)[]): YamlValue | undefined {
  let at: YamlValue | undefined = value;
  for (const key of path) {
    if (at === null || at === undefined || typeof at !== 'object') return undefined;
    at = Array.isArray(at) ? at[key as number] : at[key as string];
  }
  return at;
}

describe('grafana/provisioning', () => {
  const read = (path: string): YamlValue =>
    parseYaml(readFileSync(join(repoRoot, 'grafana', 'provisioning', path), 'utf8'));

  it('provides a Prometheus datasource whose URL comes from the environment', () => {
    const file = read('datasources/prometheus.yaml');
    expect(field(file, ['apiVersion'])).toBe('1');
    expect(field(file, ['datasources', 0, 'type'])).toBe('prometheus');
    expect(field(file, ['datasources', 0, 'url'])).toMatch(/^\$\{?[A-Z_]+\}?$/);
  });

  it('provides the dashboards folder with a file provider', () => {
    const file = read('dashboards/switchyard.yaml');
    expect(field(file, ['apiVersion'])).toBe('1');
    expect(field(file, ['providers', 0, 'type'])).toBe('file');
    expect(field(file, ['providers', 0, 'options', 'path'])).toMatch(/^\//);
  });
});
