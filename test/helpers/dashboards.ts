import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './processes.js';

/**
 * The Grafana dashboards of grafana/dashboards/ as data: their panels, every
 * query a panel or a template variable runs, and those queries as plain
 * PromQL with Grafana's variables replaced, so a test can run each against a
 * real Prometheus (Grafana itself is not packaged here).
 */

export const DASHBOARDS_DIR = join(repoRoot, 'grafana', 'dashboards');

export interface GrafanaTarget {
  readonly refId?: string;
  readonly expr?: string;
  readonly legendFormat?: string;
  readonly datasource?: unknown;
}

export interface GrafanaPanel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly datasource?: unknown;
  readonly targets?: readonly GrafanaTarget[];
  /** A collapsed row holds its panels. */
  readonly panels?: readonly GrafanaPanel[];
}

export interface GrafanaVariable {
  readonly name?: string;
  readonly type?: string;
  readonly query?: string | { readonly query?: string };
  readonly definition?: string;
  readonly datasource?: unknown;
}

export interface Dashboard {
  readonly file: string;
  readonly json: {
    readonly uid?: string;
    readonly title?: string;
    readonly schemaVersion?: number;
    readonly panels?: readonly GrafanaPanel[];
    readonly templating?: { readonly list?: readonly GrafanaVariable[] };
  };
}

export function loadDashboards(dir = DASHBOARDS_DIR): Dashboard[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard['json'] }));
}

/** Every panel, those inside collapsed rows included. */
export function allPanels(dashboard: Dashboard): GrafanaPanel[] {
  const panels: GrafanaPanel[] = [];
  for (const panel of dashboard.json.panels ?? []) {
    panels.push(panel);
    panels.push(...(panel.panels ?? []));
  }
  return panels;
}

export interface DashboardQuery {
  readonly dashboard: string;
  readonly panelId: number | undefined;
  readonly panelTitle: string;
  readonly refId: string;
  /** As written in the dashboard. */
  readonly expr: string;
  /** Plain PromQL: Grafana's variables replaced (expandGrafanaVariables). */
  readonly promql: string;
}

export interface GrafanaVariableValues {
  /** `$__rate_interval`: at least four scrape intervals (Grafana's rule). */
  readonly rateInterval: string;
  /** `$__interval`: the step of a panel's query. */
  readonly interval: string;
  /** `$__range`: the dashboard's time range. */
  readonly range: string;
}

export const DEFAULT_VARIABLE_VALUES: GrafanaVariableValues = {
  rateInterval: '1m',
  interval: '15s',
  range: '1h',
};

const RANGE_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

function seconds(duration: string): number {
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (match === null) throw new Error(`a duration such as 30s, 1m or 2h, not ${duration}`);
  return Number(match[1]) * RANGE_SECONDS[match[2] as keyof typeof RANGE_SECONDS];
}

/**
 * Grafana's variables replaced by values a plain Prometheus accepts: the
 * built-in intervals by durations, and the dashboards' own variables
 * (`$job`, `$instance`, `$issuer`, in any of Grafana's spellings) by `.*`,
 * since they stand only inside `=~` matchers, as "All" would.
 */
export function expandGrafanaVariables(expr: string, values = DEFAULT_VARIABLE_VALUES): string {
  const builtIns: Record<string, string> = {
    __rate_interval: values.rateInterval,
    __interval: values.interval,
    __interval_ms: String(seconds(values.interval) * 1_000),
    __range: values.range,
    __range_s: String(seconds(values.range)),
    __range_ms: String(seconds(values.range) * 1_000),
  };
  const value = (name: string): string => builtIns[name] ?? '.*';
  const expanded = expr
    .replace(/\$\{([A-Za-z_]\w*)(?::\w+)?\}/g, (_all, name: string) => value(name))
    .replace(/\[\[([A-Za-z_]\w*)(?::\w+)?\]\]/g, (_all, name: string) => value(name))
    .replace(/\$([A-Za-z_]\w*)/g, (_all, name: string) => value(name));
  return expanded;
}

/** Every panel target's query, dashboards in file order, panels in their order. */
export function dashboardQueries(
  dashboards = loadDashboards(),
  values = DEFAULT_VARIABLE_VALUES,
): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const dashboard of dashboards) {
    for (const panel of allPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined) continue;
        queries.push({
          dashboard: dashboard.file,
          panelId: panel.id,
          panelTitle: panel.title ?? '',
          refId: target.refId ?? '',
          expr: target.expr,
          promql: expandGrafanaVariables(target.expr, values),
        });
      }
    }
  }
  return queries;
}

export interface VariableQuery {
  readonly dashboard: string;
  readonly variable: string;
  /** As written: `label_values(<selector>, <label>)`. */
  readonly query: string;
  /** The PromQL that finds the same values: `group by (<label>) (<selector>)`. */
  readonly promql: string;
  readonly label: string;
}

/** The query of a variable of type `query` (Grafana keeps it as a string or as `{query}`). */
export function variableQueryText(variable: GrafanaVariable): string | undefined {
  const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
  return query ?? variable.definition;
}

/** Every `label_values` template variable of the dashboards, as PromQL too. */
export function variableQueries(dashboards = loadDashboards()): VariableQuery[] {
  const queries: VariableQuery[] = [];
  for (const dashboard of dashboards) {
    for (const variable of dashboard.json.templating?.list ?? []) {
      if (variable.type !== 'query') continue;
      const query = variableQueryText(variable) ?? '';
      const match = /^label_values\((.+),\s*(\w+)\s*\)$/.exec(query.trim());
      if (match === null)
        throw new Error(`${dashboard.file}: variable ${variable.name} is not label_values(): ${query}`);
      const selector = expandGrafanaVariables(match[1]!);
      queries.push({
        dashboard: dashboard.file,
        variable: variable.name ?? '',
        query,
        promql: `group by (${match[2]}) (${selector})`,
        label: match[2]!,
      });
    }
  }
  return queries;
}
