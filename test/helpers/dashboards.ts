/**
 * The Grafana dashboards under grafana/dashboards/ as the queries Prometheus would get: every
 * panel's every target expression (rows' nested panels included) and every templating
 * variable's `label_values` query, with Grafana's variables replaced, so a test can run each
 * against a real Prometheus.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './processes.js';

export const DASHBOARDS_DIR = join(repoRoot, 'grafana', 'dashboards');

export interface DashboardQuery {
  /** The dashboard's file name. */
  readonly dashboard: string;
  /** The panel's title and the target's refId, or `variable <name>`. */
  readonly where: string;
  /** The expression as the dashboard has it. */
  readonly expr: string;
  /** The expression with every variable replaced: what Prometheus runs. */
  readonly query: string;
}

/** Grafana's interval and range variables, as the dashboards would see them on a 1 h view. */
const BUILT_INS: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '1h',
  __range_s: '3600',
  __range_ms: '3600000',
};

// $name, ${name}, ${name:format} and [[name]]: the forms Grafana replaces.
const VARIABLE = /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g;
// A label matcher whose value holds a variable: `label=~"...$var..."`.
const REGEX_MATCHER = /(=~|!~)\s*"([^"]*)"/g;

/**
 * `expr` with Grafana's variables replaced: interval and range variables by fixed durations;
 * inside a regex matcher (`=~`, `!~`), any other variable by `.*` (Grafana's "All"); elsewhere
 * by its value in `values`. A variable with no value is left as written, so the query fails to
 * parse and names it.
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  const replace = (inRegex: boolean) => (whole: string, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    const builtIn = BUILT_INS[name];
    if (builtIn !== undefined) return builtIn;
    if (inRegex) return '.*';
    return values[name] ?? whole;
  };
  const regexesDone = expr.replace(
    REGEX_MATCHER,
    (_m, op: string, body: string) => `${op}"${body.replace(VARIABLE, replace(true))}"`,
  );
  return regexesDone.replace(VARIABLE, replace(false));
}

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: Panel[];
}

interface Dashboard {
  panels?: Panel[];
  templating?: { list?: Array<{ name?: string; type?: string; query?: string | { query?: string } }> };
}

function panelQueries(panels: readonly Panel[], dashboard: string, values: Readonly<Record<string, string>>) {
  const out: DashboardQuery[] = [];
  for (const panel of panels) {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr !== 'string' || target.expr.trim() === '') continue;
      out.push({
        dashboard,
        where: `panel "${panel.title ?? '(untitled)'}" ${target.refId ?? ''}`.trim(),
        expr: target.expr,
        query: substitute(target.expr, values),
      });
    }
    // A collapsed row keeps its panels inside it.
    out.push(...panelQueries(panel.panels ?? [], dashboard, values));
  }
  return out;
}

// Grafana's `label_values(metric, label)`: the values a variable offers. As PromQL, the series it reads.
const LABEL_VALUES = /^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$/;

function variableQueries(dashboard: Dashboard, file: string, values: Readonly<Record<string, string>>) {
  const out: DashboardQuery[] = [];
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const text = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const match = LABEL_VALUES.exec(text ?? '');
    if (text === undefined || match === null) continue;
    const expr = `count by (${match[2]}) (${match[1]})`;
    out.push({
      dashboard: file,
      where: `variable ${variable.name ?? '(unnamed)'}`,
      expr: text,
      query: substitute(expr, values),
    });
  }
  return out;
}

/** The dashboards' JSON files (sorted), or none when the folder does not exist. */
export function dashboardFiles(dir = DASHBOARDS_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

/** Every query of every dashboard in `dir`, with `values` for the variables that are not intervals or regexes. */
export function dashboardQueries(
  values: Readonly<Record<string, string>>,
  dir = DASHBOARDS_DIR,
): DashboardQuery[] {
  return dashboardFiles(dir).flatMap((file) => {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard;
    return [
      ...panelQueries(dashboard.panels ?? [], file, values),
      ...variableQueries(dashboard, file, values),
    ];
  });
}
