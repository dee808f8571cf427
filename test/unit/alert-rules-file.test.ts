import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAlertRuleCases, loadAlertRules } from '../helpers/alert-rules.js';
import { exportedSeries } from '../helpers/exported-series.js';
import { headingAnchors } from '../helpers/markdown-anchors.js';
import { repoRoot } from '../helpers/processes.js';
import { promqlNames } from '../helpers/promql-names.js';

/**
 * grafana/alerts/switchyard-alerts.yml without promtool (the integration
 * test runs promtool on it): every rule carries what on-call needs, links
 * to its runbook entry in docs/operations.md, asks only for exported
 * series, and has a promtool case where it fires and one where it does not.
 */

const RUNBOOK_BASE = 'https://github.com/switchyard/switchyard/blob/main/docs/operations.md';
/** What issue 19 asks the rules to cover, at least. */
const REQUIRED_ALERTS = [
  'SwitchyardDown',
  'SwitchyardNotReady',
  'SwitchyardDeclineRatioJump',
  'SwitchyardLatencyP99High',
  'SwitchyardIssuerTimeouts',
  'SwitchyardIssuerUnavailable',
  'SwitchyardSafQueueGrowing',
  'SwitchyardClearingCycleFailed',
  'SwitchyardClearingLate',
  'SwitchyardRedisCommitSlow',
  'SwitchyardCommitFailures',
  'SwitchyardRedisMemoryHigh',
  'SwitchyardRedisAofWriteFailing',
  'SwitchyardEventLoopLag',
  'SwitchyardWorkerRestarts',
  'SwitchyardJobStalled',
];

const rules = loadAlertRules();
const cases = loadAlertRuleCases();
const operations = readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8');

/** The `### ` headings of the `## Alerts` section of docs/operations.md. */
function runbookEntries(): string[] {
  const section = /^## Alerts\n([\s\S]*?)(?=^## )/m.exec(operations)?.[1] ?? '';
  return [...section.matchAll(/^### (.+)$/gm)].map((m) => m[1]!.trim());
}

let series: Map<string, Set<string>>;
beforeAll(async () => {
  series = await exportedSeries();
});

describe('grafana/alerts/switchyard-alerts.yml', () => {
  it('has the alerts issue 19 asks for, each once', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
  });

  it.each(rules.map((r) => [r.alert, r]))('%s: severity, summary, description, runbook', (_name, rule) => {
    expect(['page', 'ticket']).toContain(rule.labels.severity);
    expect(rule.annotations.summary?.trim()).toBeTruthy();
    expect(rule.annotations.description?.trim()).toBeTruthy();
    expect(rule.annotations.runbook_url).toBe(`${RUNBOOK_BASE}#${rule.alert.toLowerCase()}`);
    if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
  });

  it('every runbook_url names a heading of docs/operations.md', () => {
    const anchors = headingAnchors(operations);
    const missing = rules
      .map((r) => r.annotations.runbook_url?.split('#')[1] ?? '')
      .filter((anchor) => !anchors.has(anchor));
    expect(missing).toEqual([]);
  });

  it('the Alerts section of docs/operations.md has one entry per alert, in the same order', () => {
    expect(runbookEntries()).toEqual(rules.map((r) => r.alert));
  });

  it('every expression names only series the switch or Prometheus exports, with labels they carry', () => {
    const problems: string[] = [];
    for (const rule of rules) {
      const names = promqlNames(rule.expr);
      if (names.selectors.length === 0) problems.push(`${rule.alert}: no series named`);
      for (const selector of names.selectors) {
        const labels = series.get(selector.metric);
        if (labels === undefined) problems.push(`${rule.alert}: no series ${selector.metric}`);
        for (const label of selector.labels) {
          if (labels !== undefined && !labels.has(label))
            problems.push(`${rule.alert}: ${selector.metric} has no label ${label}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('grafana/alerts/switchyard-alerts.test.yml', () => {
  it('tests only alerts that exist', () => {
    const names = new Set(rules.map((r) => r.alert));
    expect(cases.map((c) => c.alertname).filter((name) => !names.has(name))).toEqual([]);
  });

  it.each(rules.map((r) => [r.alert, r]))(
    '%s: a case where it fires and one where it does not',
    (_name, rule) => {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => c.expected.length === 0)).toBe(true);
      const firing = mine.filter((c) => c.expected.length > 0);
      expect(firing.length).toBeGreaterThan(0);
      for (const c of firing) {
        for (const alert of c.expected) {
          expect(alert.labels.severity).toBe(rule.labels.severity);
          expect(Object.keys(alert.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
          expect(alert.annotations.runbook_url).toBe(rule.annotations.runbook_url);
        }
      }
    },
  );
});
