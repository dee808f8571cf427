import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './processes.js';
import { parseYaml, type YamlValue } from './yaml-subset.js';

/**
 * grafana/alerts/: the Prometheus alerting rules and their promtool unit
 * tests, read as data.
 */

export const ALERTS_DIR = join(repoRoot, 'grafana', 'alerts');
export const RULES_FILE = join(ALERTS_DIR, 'switchyard-alerts.yml');
export const RULE_TESTS_FILE = join(ALERTS_DIR, 'switchyard-alerts.test.yml');

export interface AlertRule {
  readonly group: string;
  readonly alert: string;
  readonly expr: string;
  readonly for: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface AlertRuleCase {
  readonly test: string;
  readonly alertname: string;
  readonly evalTime: string;
  readonly expected: readonly {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  }[];
}

type YamlMap = { readonly [key: string]: YamlValue };

function map(value: YamlValue | undefined, what: string): YamlMap {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what}: a mapping expected`);
  }
  return value;
}

function list(value: YamlValue | undefined, what: string): readonly YamlValue[] {
  if (!Array.isArray(value)) throw new Error(`${what}: a sequence expected`);
  return value;
}

function text(value: YamlValue | undefined, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: a string expected`);
  return value;
}

function strings(value: YamlValue | undefined, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const entries = Object.entries(map(value, what));
  return Object.fromEntries(entries.map(([key, v]) => [key, text(v, `${what}.${key}`)]));
}

/** The sequence under `key` at the top of a YAML file. */
function topLevelList(file: string, key: string): readonly YamlValue[] {
  return list(map(parseYaml(readFileSync(file, 'utf8')), file)[key], `${file}: ${key}`);
}

export function loadAlertRules(file = RULES_FILE): AlertRule[] {
  const rules: AlertRule[] = [];
  for (const [g, groupValue] of topLevelList(file, 'groups').entries()) {
    const group = map(groupValue, `groups[${g}]`);
    const name = text(group.name, `groups[${g}].name`);
    for (const [r, ruleValue] of list(group.rules, `${name}.rules`).entries()) {
      const rule = map(ruleValue, `${name}.rules[${r}]`);
      const alert = text(rule.alert, `${name}.rules[${r}].alert`);
      rules.push({
        group: name,
        alert,
        expr: text(rule.expr, `${alert}.expr`),
        for: rule.for === undefined ? undefined : text(rule.for, `${alert}.for`),
        labels: strings(rule.labels, `${alert}.labels`),
        annotations: strings(rule.annotations, `${alert}.annotations`),
      });
    }
  }
  return rules;
}

export function loadAlertRuleCases(file = RULE_TESTS_FILE): AlertRuleCase[] {
  const cases: AlertRuleCase[] = [];
  for (const [t, testValue] of topLevelList(file, 'tests').entries()) {
    const test = map(testValue, `tests[${t}]`);
    const name = test.name === undefined ? `tests[${t}]` : text(test.name, `tests[${t}].name`);
    for (const [c, caseValue] of list(test.alert_rule_test ?? [], `${name}.alert_rule_test`).entries()) {
      const ruleCase = map(caseValue, `${name}[${c}]`);
      cases.push({
        test: name,
        alertname: text(ruleCase.alertname, `${name}[${c}].alertname`),
        evalTime: text(ruleCase.eval_time, `${name}[${c}].eval_time`),
        expected: list(ruleCase.exp_alerts ?? [], `${name}[${c}].exp_alerts`).map((value, e) => {
          const expected = map(value, `${name}[${c}].exp_alerts[${e}]`);
          return {
            labels: strings(expected.exp_labels, `${name}[${c}].exp_labels`),
            annotations: strings(expected.exp_annotations, `${name}[${c}].exp_annotations`),
          };
        }),
      });
    }
  }
  return cases;
}
