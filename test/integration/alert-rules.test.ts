import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RULE_TESTS_FILE, RULES_FILE } from '../helpers/alert-rules.js';
import { removeDir, trackDir } from '../helpers/processes.js';

/**
 * The alert rules checked by Prometheus's own tool: `promtool check rules`
 * (syntax, PromQL, templates) and `promtool test rules` (each alert fires,
 * with its labels and annotations, on synthetic series, and stays silent
 * where it should). Debian's prometheus package brings promtool; without
 * it the test is skipped and says so.
 */

function promtoolInstalled(): boolean {
  const result = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return result.error === undefined && result.status === 0;
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const installed = promtoolInstalled();
if (!installed) console.log('promtool not installed: alert rules not checked');

describe.skipIf(!installed)('grafana/alerts with promtool', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) removeDir(dir);
  });

  it('promtool check rules: the rule file is valid', () => {
    const { status, output } = promtool('check', 'rules', RULES_FILE);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(status, output).toBe(0);
  });

  it('promtool test rules: every case passes', () => {
    const { status, output } = promtool('test', 'rules', RULE_TESTS_FILE);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('promtool test rules fails when a case expects what the rules do not give', () => {
    // A wrong expectation must fail, or the passing run above proves nothing.
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-alert-rules-'));
    trackDir(dir);
    dirs.push(dir);
    copyFileSync(RULES_FILE, join(dir, 'switchyard-alerts.yml'));
    const tests = readFileSync(RULE_TESTS_FILE, 'utf8');
    const wrong = tests.replace(
      'summary: Issuer visa-sim has no connection',
      'summary: Issuer mc-sim has no connection',
    );
    expect(wrong).not.toBe(tests);
    writeFileSync(join(dir, 'switchyard-alerts.test.yml'), wrong);
    const { status, output } = promtool('test', 'rules', join(dir, 'switchyard-alerts.test.yml'));
    expect(status, output).not.toBe(0);
    expect(output).toContain('SwitchyardIssuerUnavailable');
  });
});
