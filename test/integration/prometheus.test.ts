/**
 * Observability proven against a real Prometheus (Debian's `prometheus` package, with
 * promtool): a switch with 2 workers and one issuer, scraped every second by a private
 * Prometheus that also evaluates the alert rules, under a short mixed load (test/helpers/
 * mixed-load.ts). Then: every family of the metric catalog present with its type, help and
 * every label set that exists from start, and moved as far as the load says; `promtool check
 * metrics` clean for switchyard_*; every Grafana dashboard query parses and returns a series;
 * the alert rules pass `promtool check rules` and `promtool test rules` and evaluate against
 * the live series. Skipped, with one line saying so, when Prometheus is not installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LabelUniverse,
  labelSets,
  METRIC_FAMILIES,
  type MetricFamily,
  READY_CHECKS,
} from '../../src/observability/metric-catalog.js';
import { dashboardQueries, loadDashboards, variableQueries } from '../helpers/dashboards.js';
import { admin, at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { type LoadTally, runMixedLoad } from '../helpers/mixed-load.js';
import { repoRoot, waitFor } from '../helpers/processes.js';
import {
  type Labels,
  PrometheusApiError,
  PrometheusServer,
  prometheusInstalled,
} from '../helpers/prometheus.js';
import { familiesWithPrefix, promtool } from '../helpers/promtool.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';

const installed = prometheusInstalled();
if (!installed) {
  console.warn(
    'prometheus not installed: the metrics, dashboards and alert rules were not checked against a real Prometheus; `apt-get install prometheus`',
  );
}

const acq = makeInstitution('acq-prom', 'acquirer');
const iss = makeInstitution('iss-prom', 'issuer');
const ISSUER_PREFIX = '5';
const STAND_IN = { perTxnMax: 5_000, dailyMax: 50_000 };
const ISSUER_TIMEOUT_MS = 1_000;
const WORKERS = 2;
const JOB = 'switchyard';
const UNIVERSE: LabelUniverse = { workers: WORKERS, inline: false, issuers: [iss.id] };
const ALERTS_DIR = join(repoRoot, 'grafana', 'alerts');
/** How long a check may wait for Prometheus to catch up with what the switch already did. */
const CATCH_UP_MS = 20_000;

/** grafana/alerts/*.yml split into rule files (`groups:`) and their promtool unit tests (`tests:`). */
function alertFiles(): { rules: string[]; tests: string[] } {
  let names: string[];
  try {
    names = readdirSync(ALERTS_DIR).filter((n) => /\.ya?ml$/.test(n));
  } catch {
    names = [];
  }
  const rules: string[] = [];
  const tests: string[] = [];
  for (const name of names.sort()) {
    const path = join(ALERTS_DIR, name);
    (/^tests:/m.test(readFileSync(path, 'utf8')) ? tests : rules).push(path);
  }
  return { rules, tests };
}

/** The series name that carries a family's label sets: a histogram's `_count`. */
const seriesName = (family: MetricFamily): string =>
  family.type === 'histogram' ? `${family.name}_count` : family.name;

const show = (labels: Labels): string =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

describe.skipIf(!installed)('observability against a real Prometheus', () => {
  let stack: Stack;
  let prometheus: PrometheusServer;
  let tally: LoadTally;
  /** The scrapes taken before any traffic. */
  let beforeLoad: { fromMs: number; toMs: number };
  /** Whether Prometheus saw the stand-in's advice queued before it was acknowledged. */
  let adviceSeenQueued = false;
  const pool = new ClientPool();
  const alerts = alertFiles();
  /** promtool check rules' verdict, taken before Prometheus loads the files (a broken file would stop it). */
  let rulesCheck: { code: number | null; output: string } | undefined;

  beforeAll(async () => {
    stack = await startStack({
      config: {
        institutions: [institutionEntry(acq), { ...institutionEntry(iss), standIn: STAND_IN }],
        routes: [
          { prefix: '4', issuer: 'local' },
          { prefix: ISSUER_PREFIX, issuer: iss.id },
        ],
        workers: WORKERS,
        issuerTimeoutMs: ISSUER_TIMEOUT_MS,
        // Passes every second, so the job counters move within the test.
        // On the worker threads (ledger.adaptive off): the worker-side families are what this checks.
        ledger: { holdExpiryIntervalMs: 1_000, recordSweepIntervalMs: 1_000, adaptive: false },
      },
    });
    if (alerts.rules.length > 0) rulesCheck = await promtool(['check', 'rules', ...alerts.rules]);
    const adminEndpoint = stack.sw.listen.admin!;
    prometheus = await PrometheusServer.start({
      target: `${adminEndpoint.host}:${adminEndpoint.port}`,
      job: JOB,
      ruleFiles: rulesCheck?.code === 0 ? alerts.rules : [],
    });
    // A scrape before any traffic: the label sets that exist from start are read from it.
    const startedAtMs = Date.now();
    expect(await prometheus.scrapedAfter(JOB, 0, CATCH_UP_MS), 'no first scrape').toBe(true);
    beforeLoad = { fromMs: startedAtMs - 60_000, toMs: Date.now() };
    const issuer = await pool.signedOn(at(stack.sw, 'tcp'), iss);
    const acquirer = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    tally = await runMixedLoad({
      sw: stack.sw,
      acquirer,
      issuer,
      issuerPrefix: ISSUER_PREFIX,
      issuerTimeoutMs: ISSUER_TIMEOUT_MS,
      standInAmount: 1_500,
      // The advice waits unacknowledged until a scrape has seen it queued (or the deadline passed).
      whileAdviceQueued: async () => {
        adviceSeenQueued = await waitFor(
          async () =>
            (await prometheus.values(`switchyard_saf_queue_depth{issuer="${iss.id}"} >= 1`)).length > 0,
          CATCH_UP_MS,
          200,
        );
      },
    });
    // Every check reads a scrape taken after the load ended.
    const fresh = await prometheus.scrapedAfter(JOB, tally.endedAtMs, CATCH_UP_MS);
    expect(fresh, `no scrape after the load within ${CATCH_UP_MS} ms:\n${prometheus.log.join('\n')}`).toBe(
      true,
    );
  }, 120_000);

  afterAll(async () => {
    pool.closeAll();
    await prometheus?.stop();
    await stack?.dispose();
  });

  it('scrapes the switch: its target is up', async () => {
    expect(await prometheus.values(`up{job="${JOB}"}`)).toMatchObject([{ value: 1 }]);
  });

  it('has every catalog family with its type and help', async () => {
    const metadata = await prometheus.metadata();
    const problems: string[] = [];
    for (const family of METRIC_FAMILIES) {
      const entries = metadata[family.name];
      if (entries === undefined) {
        problems.push(`${family.name}: missing`);
        continue;
      }
      if (!entries.some((e) => e.type === family.type))
        problems.push(`${family.name}: type ${entries.map((e) => e.type).join('/')}, catalog ${family.type}`);
      if (!entries.some((e) => e.help === family.help))
        problems.push(`${family.name}: help "${entries[0]?.help}", catalog "${family.help}"`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('has every label set the catalog says exists from start, and no label outside the catalog', async () => {
    const problems: string[] = [];
    const labelSetsOf = async (family: MetricFamily, fromMs: number, toMs?: number) => {
      const series = await prometheus.series(`{__name__="${seriesName(family)}",job="${JOB}"}`, fromMs, toMs);
      const names = Object.keys(family.labels);
      const extra = new Set<string>();
      for (const s of series)
        for (const name of Object.keys(s))
          if (!['__name__', 'job', 'instance', ...names].includes(name)) extra.add(name);
      const sets = new Set(series.map((s) => show(Object.fromEntries(names.map((n) => [n, s[n] ?? ''])))));
      return { sets, extra };
    };
    for (const family of METRIC_FAMILIES) {
      const before = await labelSetsOf(family, beforeLoad.fromMs, beforeLoad.toMs);
      const ever = await labelSetsOf(family, beforeLoad.fromMs);
      if (ever.extra.size > 0)
        problems.push(`${family.name}: labels outside the catalog: ${[...ever.extra].join(', ')}`);
      const missing = labelSets(family, UNIVERSE)
        .map(show)
        .filter((set) => !before.sets.has(set));
      if (missing.length === 0) continue;
      const later = missing.filter((set) => ever.sets.has(set));
      problems.push(
        `${family.name}: ${missing.length} label set(s) not in the scrapes before the load` +
          ` (${later.length} of them came later), e.g. ${missing.slice(0, 3).join(' ')}`,
      );
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('moved as far as the load says', async () => {
    const issuer = `issuer="${iss.id}"`;
    const expectations: Array<{ expr: string; holds: (v: number) => boolean; want: string }> = [];
    const atLeast = (expr: string, n: number) =>
      expectations.push({ expr, holds: (v) => v >= n, want: `>= ${n}` });
    const exactly = (expr: string, n: number) =>
      expectations.push({ expr, holds: (v) => v === n, want: `= ${n}` });
    const responsesByMti = new Map<string, number>();
    for (const [key, n] of tally.responses) {
      const [mti, rc] = key.split('|');
      atLeast(`switchyard_messages_total{mti="${mti}",rc="${rc}"}`, n);
      if (mti !== '0810') responsesByMti.set(mti!, (responsesByMti.get(mti!) ?? 0) + n);
    }
    for (const [mti, n] of responsesByMti)
      atLeast(`switchyard_request_duration_seconds_count{mti="${mti}"}`, n);
    atLeast(`switchyard_issuer_requests_total{${issuer},outcome="approved"}`, tally.issuerApproved);
    atLeast(`switchyard_issuer_requests_total{${issuer},outcome="declined"}`, tally.issuerDeclined);
    atLeast(`switchyard_issuer_requests_total{${issuer},outcome="timeout"}`, tally.issuerTimedOut);
    atLeast(
      `switchyard_issuer_response_seconds_count{${issuer}}`,
      tally.issuerApproved + tally.issuerDeclined,
    );
    // Seen at 1 or more while the advice waited; acknowledged since.
    const unmetBefore = adviceSeenQueued
      ? []
      : [`switchyard_saf_queue_depth{${issuer}} never >= 1 while the stand-in's advice was unacknowledged`];
    exactly(`switchyard_saf_queue_depth{${issuer}}`, 0);
    exactly('switchyard_issuer_forwards_in_flight', 0);
    exactly('switchyard_inflight_requests', 0);
    atLeast('switchyard_connections{role="acquirer"}', 1);
    atLeast('switchyard_connections{role="issuer"}', 1);
    atLeast('sum(switchyard_actors_active)', tally.onUsAccounts);
    atLeast('switchyard_persist_batch_size_sum', tally.onUsApprovals);
    atLeast('switchyard_persist_duration_seconds_count', 1);
    atLeast('switchyard_clearing_cycles_total{status="done"}', 1);
    exactly('switchyard_clearing_cycles_total{status="failed"}', 0);
    atLeast('switchyard_clearing_last_done_cycle', tally.clearingCycle);
    atLeast('switchyard_clearing_job_duration_seconds_count', 1);
    atLeast('switchyard_job_passes_total{task="hold_expiry"}', 1);
    atLeast('switchyard_job_passes_total{task="record_sweep"}', 1);
    for (const thread of ['main', ...Array.from({ length: WORKERS }, (_, i) => `ledger-${i}`)])
      atLeast(`switchyard_event_loop_delay_seconds_count{thread="${thread}"}`, 1);
    exactly('switchyard_redis_up', 1);
    atLeast('switchyard_redis_memory_used_bytes', 1);
    exactly('switchyard_redis_aof_last_write_ok', 1);
    exactly('switchyard_ready', 1);
    for (const check of READY_CHECKS) exactly(`switchyard_ready_check{check="${check}"}`, 1);

    // Worker snapshots reach the main thread on their own schedule: wait for them, with a deadline.
    let unmet: string[] = [];
    await waitFor(
      async () => {
        unmet = [];
        for (const e of expectations) {
          const samples = await prometheus.values(e.expr);
          if (samples.length !== 1 || !e.holds(samples[0]!.value))
            unmet.push(
              `${e.expr}: ${samples.length === 0 ? 'no series' : samples.map((s) => s.value).join(', ')}, want ${e.want}`,
            );
        }
        return unmet.length === 0;
      },
      CATCH_UP_MS,
      500,
    );
    expect([...unmetBefore, ...unmet], [...unmetBefore, ...unmet].join('\n')).toEqual([]);
  });

  it('passes promtool check metrics for the switchyard_* families', async () => {
    const metrics = await admin(stack.sw, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    const exposition = familiesWithPrefix(metrics.text, 'switchyard_');
    expect(exposition).toContain('# TYPE switchyard_messages_total counter');
    const result = await promtool(['check', 'metrics'], exposition);
    expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: '' });
  });

  it('answers every dashboard query with at least one series', async () => {
    const dashboards = loadDashboards();
    expect(dashboards, 'no dashboards under grafana/dashboards').not.toEqual([]);
    // Grafana's own variables become "All" (.*): each query must find series for every value.
    const queries = [
      ...dashboardQueries(dashboards).map((q) => ({
        dashboard: q.dashboard,
        where: `${q.panelTitle} ${q.refId}`,
        query: q.promql,
      })),
      ...variableQueries(dashboards).map((q) => ({
        dashboard: q.dashboard,
        where: `variable ${q.variable}`,
        query: q.promql,
      })),
    ];
    const failures: string[] = [];
    for (const q of queries) {
      try {
        const data = await prometheus.query(q.query);
        const series = data.resultType === 'vector' || data.resultType === 'matrix' ? data.result.length : 1;
        if (series === 0) failures.push(`${q.dashboard} ${q.where}: no series for ${q.query}`);
      } catch (e) {
        if (!(e instanceof PrometheusApiError)) throw e;
        failures.push(`${q.dashboard} ${q.where}: ${e.message} in ${q.query}`);
      }
    }
    expect(queries.length, 'the dashboards hold no queries').toBeGreaterThan(0);
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it.skipIf(alerts.rules.length === 0)('passes promtool check rules on grafana/alerts', () => {
    expect(rulesCheck?.code, rulesCheck?.output).toBe(0);
  });

  it.skipIf(alerts.rules.length === 0)('passes promtool test rules on grafana/alerts', async () => {
    expect(alerts.tests, 'no promtool unit tests (a file with tests:) in grafana/alerts').not.toEqual([]);
    const result = await promtool(['test', 'rules', ...alerts.tests]);
    expect(result.code, result.output).toBe(0);
  });

  it.skipIf(alerts.rules.length === 0)(
    'evaluates every alert rule against the live series without error',
    async () => {
      expect(rulesCheck?.code, 'the rule files did not load: see promtool check rules').toBe(0);
      let problems: string[] = [];
      // Every rule has been evaluated at least once (one evaluation per second) and none failed.
      const evaluated = await waitFor(
        async () => {
          const rules = (await prometheus.ruleGroups()).flatMap((g) =>
            g.rules.map((r) => ({ ...r, group: g.name })),
          );
          problems = rules
            .filter((r) => r.health !== 'ok')
            .map((r) => `${r.group}/${r.name}: ${r.health} ${r.lastError ?? ''}`);
          return rules.length > 0 && problems.length === 0;
        },
        CATCH_UP_MS,
        500,
      );
      expect(problems, problems.join('\n')).toEqual([]);
      expect(evaluated, 'no rules loaded').toBe(true);
      // A rule that reads a metric the switch does not export never fires: every one it reads has series.
      const groups = await prometheus.ruleGroups();
      const names = new Set(
        groups.flatMap((g) => g.rules.flatMap((r) => r.query.match(/switchyard_\w+/g) ?? [])),
      );
      const absent: string[] = [];
      for (const name of [...names].sort())
        if ((await prometheus.series(`{__name__="${name}",job="${JOB}"}`, beforeLoad.fromMs)).length === 0)
          absent.push(name);
      expect(absent, `read by the alert rules, exported by no series: ${absent.join(', ')}`).toEqual([]);
    },
  );
});
