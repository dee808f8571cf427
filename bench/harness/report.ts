import type { ClearingCycleResult } from '../scenarios/clearing-cycle-row.js';
import type { ClearingLiveResult } from '../scenarios/clearing-live-row.js';
import {
  TARGET_P99_RATIO_MAX,
  TARGET_PEAK_RSS_MIB_MAX,
  TARGET_SECONDS_MAX,
  type Verdict,
} from '../scenarios/clearing-targets.js';
import type { ScenarioResult } from '../scenarios/e2e.js';
import type { LatencyTable } from '../scenarios/latency-table.js';
import type { LatencyMetric } from '../scenarios/latency-targets.js';
import type { RedisCeiling } from '../scenarios/redis-ceiling.js';
import type { Machine, Revision } from './machine.js';
import type { MicroResult } from './micro.js';
import type { RunKind } from './plan.js';
import { median, type Spread } from './stats.js';

/** A switch scenario with its ratios to the ceilings measured in the same run. */
export interface RatedScenario extends ScenarioResult {
  /** Median approvals/s over the median echo rate of the same load shape (closed loop). */
  readonly ratioToEcho?: number;
  /** Median approvals/s over Redis's journal-append rate (script mode) with the same fsync policy. */
  readonly ratioToRedis?: number;
  /** Median approvals/s over the median of the `baseline` scenario of the same run (issuer rows: on-us b64). */
  readonly ratioToBaseline?: number;
}

export interface BenchDocument {
  readonly suite: 'switchyard bench';
  readonly kind: RunKind;
  readonly startedAt: string;
  readonly durationS: number;
  readonly revision: Revision;
  readonly machine: Machine;
  readonly durability: string;
  readonly method: string;
  readonly micro: { readonly codec: readonly MicroResult[]; readonly ledger: readonly MicroResult[] };
  readonly ceilings: { readonly redis: readonly RedisCeiling[]; readonly echo: readonly ScenarioResult[] };
  readonly scenarios: readonly RatedScenario[];
  /** Issue 20's latency table (the switch against the floor server), when the run had it. */
  readonly latency?: LatencyTable;
  /** Issue 18's clearing rows, when the run had them. */
  readonly clearing?: { readonly cycle?: ClearingCycleResult; readonly live?: ClearingLiveResult };
  readonly charts: readonly string[];
}

export function rate(
  scenarios: readonly ScenarioResult[],
  echo: readonly ScenarioResult[],
  redis: readonly RedisCeiling[],
): RatedScenario[] {
  const echoById = new Map(echo.map((e) => [e.id, e]));
  const switchById = new Map(scenarios.map((s) => [s.id, s]));
  return scenarios.map((scenario) => {
    const closedLoop = scenario.load.ratePerS === undefined;
    const ceiling = scenario.ceiling === undefined ? undefined : echoById.get(scenario.ceiling);
    const journal = redis.find((r) => r.mode === 'script' && r.fsync === scenario.fsync);
    const baseline = scenario.baseline === undefined ? undefined : switchById.get(scenario.baseline);
    return {
      ...scenario,
      ...(closedLoop && ceiling !== undefined
        ? { ratioToEcho: scenario.approvedPerS.median / ceiling.approvedPerS.median }
        : {}),
      ...(closedLoop && journal !== undefined
        ? { ratioToRedis: scenario.approvedPerS.median / journal.entriesPerS }
        : {}),
      ...(baseline !== undefined
        ? { ratioToBaseline: scenario.approvedPerS.median / baseline.approvedPerS.median }
        : {}),
    };
  });
}

// --- text tables -------------------------------------------------------------

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const kilo = (n: number): string => (n >= 10_000 ? `${Math.round(n / 1000)}k` : `${(n / 1000).toFixed(1)}k`);
const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const ratio = (n: number | undefined): string => (n === undefined ? '' : n.toFixed(2));
const us = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(1));

function rangeText(s: ScenarioResult): string {
  return s.samples.length > 1 ? `${kilo(s.approvedPerS.min)}-${kilo(s.approvedPerS.max)}` : '';
}

function cpuText(s: ScenarioResult, server: 'switch' | 'echo'): string {
  const c = s.cpuUsPerMsg;
  return server === 'switch'
    ? `${us(c.switch)} / ${us(c.redis)} / ${us(c.sim)}`
    : `${us(c.echo)} / ${us(c.sim)}`;
}

/** On-us rows; the issuer-routed ones have their own table. */
const onUs = (s: ScenarioResult): boolean => s.issuer === undefined;

export function closedLoopTable(scenarios: readonly RatedScenario[]): string {
  const rows = scenarios
    .filter((s) => onUs(s) && s.load.ratePerS === undefined)
    .map((s) => [
      s.title,
      int(s.approvedPerS.median),
      rangeText(s),
      ratio(s.ratioToEcho),
      ratio(s.ratioToRedis),
      ms(s.latencyMs.p50),
      ms(s.latencyMs.p99),
      ms(s.latencyMs.p999),
      ms(s.latencyMs.max),
      cpuText(s, 'switch'),
    ]);
  return table(
    [
      'closed loop (fsync always unless noted)',
      'approvals/s',
      'range',
      'x echo',
      'x redis',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'CPU us/msg switch/redis/sim',
    ],
    rows,
  );
}

export function openLoopTable(scenarios: readonly RatedScenario[], echo: readonly ScenarioResult[]): string {
  const echoById = new Map(echo.map((e) => [e.id, e]));
  const rows = scenarios
    .filter((s) => onUs(s) && s.load.ratePerS !== undefined)
    .map((s) => {
      const e = s.ceiling === undefined ? undefined : echoById.get(s.ceiling);
      return [
        s.title,
        int(s.approvedPerS.median),
        ms(s.latencyMs.p50),
        ms(s.latencyMs.p99),
        s.samples.length > 1 ? `${ms(s.latencyRangeMs.p99.min)}-${ms(s.latencyRangeMs.p99.max)}` : '',
        ms(s.latencyMs.p999),
        ms(s.latencyMs.max),
        e === undefined ? '' : `${ms(e.latencyMs.p50)} / ${ms(e.latencyMs.p99)}`,
        s.sendLagP99Ms === undefined ? '' : ms(s.sendLagP99Ms),
        cpuText(s, 'switch'),
      ];
    });
  return table(
    [
      'open loop (latency from intended send time)',
      'approvals/s',
      'p50 ms',
      'p99 ms',
      'p99 range',
      'p99.9 ms',
      'max ms',
      'echo p50/p99',
      'send lag p99',
      'CPU us/msg switch/redis/sim',
    ],
    rows,
  );
}

const pair = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined ? '' : `${ms(a)} / ${ms(b)}`;

/**
 * The issuer-routed rows: approvals/s against the on-us baseline, the
 * acquirer's latency, the issuer's own answer delay (what `sim issuer`
 * measured) and the switch's share (the first less the second), and CPU per
 * message with the issuer simulator's.
 */
export function issuerTable(scenarios: readonly RatedScenario[], echo: readonly ScenarioResult[]): string {
  const echoById = new Map(echo.map((e) => [e.id, e]));
  const rows = scenarios
    .filter((s) => !onUs(s))
    .map((s) => {
      const e = s.ceiling === undefined ? undefined : echoById.get(s.ceiling);
      const open = s.load.ratePerS !== undefined;
      const c = s.cpuUsPerMsg;
      return [
        s.title,
        int(s.approvedPerS.median),
        rangeText(s),
        ratio(s.ratioToBaseline),
        ms(s.latencyMs.p50),
        ms(s.latencyMs.p99),
        // Closed loop, latency is queueing (Little's law) and an answer at once has no delay to take away.
        open ? pair(s.issuerAnswerDelayMs?.p50, s.issuerAnswerDelayMs?.p99) : '',
        open ? pair(s.switchShareMs?.p50, s.switchShareMs?.p99) : '',
        open ? pair(e?.latencyMs.p50, e?.latencyMs.p99) : '',
        `${us(c.switch)} / ${us(c.redis)} / ${us(c.sim)} / ${us(c.issuer)}`,
      ];
    });
  return table(
    [
      'issuer routing (fsync always)',
      'approvals/s',
      'range',
      'x on-us b64',
      'p50 ms',
      'p99 ms',
      'issuer p50/p99',
      "switch's share p50/p99",
      'echo p50/p99',
      'CPU us/msg switch/redis/sim/issuer',
    ],
    rows,
  );
}

export function ceilingTable(echo: readonly ScenarioResult[], redis: readonly RedisCeiling[]): string {
  const rows = [
    ...echo
      .filter((e) => e.load.ratePerS === undefined)
      .map((e) => [
        e.title,
        int(e.approvedPerS.median),
        rangeText(e),
        ms(e.latencyMs.p50),
        ms(e.latencyMs.p99),
        cpuText(e, 'echo'),
      ]),
    ...redis.map((r) => [
      `redis XADD ${r.entryBytes} B, ${r.mode === 'script' ? 'in one script' : 'pipelined'}, ${r.entriesInFlight} in flight, fsync ${r.fsync}`,
      int(r.entriesPerS),
      '',
      '',
      '',
      `redis ${r.redisCores === undefined ? '?' : r.redisCores.toFixed(2)} cores, ioredis ${r.clientCores.toFixed(2)}`,
    ]),
  ];
  return table(['ceiling', 'msgs/s', 'range', 'p50 ms', 'p99 ms', 'CPU us/msg echo/sim'], rows);
}

const verdictText = (verdict: Verdict, target: string): string =>
  verdict === 'n/a' ? `${target}: n/a (smaller cycle)` : `${target}: ${verdict}`;

const spreadText = (s: Spread, format: (n: number) => string): string =>
  s.min === s.max ? '' : `${format(s.min)}-${format(s.max)}`;

/** The standalone worker's clearing of one cycle: time, rate, peak memory, CPU, against issue 18's targets. */
export function clearingCycleTable(r: ClearingCycleResult): string {
  const secs = (n: number): string => n.toFixed(2);
  const mib = (n: number): string => String(Math.round(n));
  const cpu = (key: 'worker' | 'redis'): number => median(r.samples.map((s) => s.cpuS[key]));
  return table(
    [
      'clearing (fsync always)',
      'items',
      'cutoff to done s',
      'range',
      'items/s',
      'worker peak RSS MiB',
      'range',
      'CPU s worker/redis',
      'targets',
    ],
    [
      [
        r.title,
        int(r.items),
        secs(r.seconds.median),
        spreadText(r.seconds, secs),
        int(r.itemsPerS.median),
        mib(r.workerPeakRssMiB.median),
        spreadText(r.workerPeakRssMiB, mib),
        `${cpu('worker').toFixed(1)} / ${cpu('redis').toFixed(1)}`,
        `${verdictText(r.verdict.seconds, `< ${TARGET_SECONDS_MAX} s`)}, ${verdictText(r.verdict.memory, `< ${TARGET_PEAK_RSS_MIB_MAX} MiB`)}`,
      ],
    ],
  );
}

/** The same open-loop load without and while a cycle clears in the switch: latency, p99 ratio, declines. */
export function clearingLiveTable(r: ClearingLiveResult): string {
  const pctl = (key: 'quiet' | 'clearing', p: 'p50' | 'p99'): number =>
    median(r.samples.map((s) => s[key].latencyMs[p]));
  const notApproved = (key: 'quiet' | 'clearing'): number =>
    r.samples.reduce((sum, s) => sum + s[key].declined + s[key].errors, 0);
  const ratio2 = (n: number): string => n.toFixed(2);
  const secs = (n: number): string => n.toFixed(1);
  return table(
    [
      'live load while clearing (fsync always)',
      'capacity/s',
      'open loop/s',
      'p50 / p99 ms without',
      'p50 / p99 ms clearing',
      'x p99',
      'range',
      'clearing s',
      'not approved without / clearing',
      'targets',
    ],
    [
      [
        r.title,
        int(median(r.samples.map((s) => s.capacityPerS))),
        int(r.ratePerS.median),
        `${ms(pctl('quiet', 'p50'))} / ${ms(pctl('quiet', 'p99'))}`,
        `${ms(pctl('clearing', 'p50'))} / ${ms(pctl('clearing', 'p99'))}`,
        ratio2(r.p99Ratio.median),
        spreadText(r.p99Ratio, ratio2),
        `${secs(r.clearingSeconds.median)}${r.clearingSeconds.min === r.clearingSeconds.max ? '' : ` (${spreadText(r.clearingSeconds, secs)})`}`,
        `${notApproved('quiet')} / ${notApproved('clearing')}`,
        `${verdictText(r.verdict.p99, `p99 <= ${TARGET_P99_RATIO_MAX}x`)}, ${verdictText(r.verdict.declines, 'no declines')}`,
      ],
    ],
  );
}

const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-');
/** Median over the runs of how late the generator wrote its requests, at p50: a delay both sides' latency holds. */
const sendLagP50 = (s: ScenarioResult): string => {
  const lags = s.samples.flatMap((sample) => (sample.sendLagMs === undefined ? [] : [sample.sendLagMs.p50]));
  return lags.length === 0 ? '-' : ms(median(lags));
};
const percentiles = (s: ScenarioResult): string =>
  `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)} / ${ms(s.latencyMs.p999)}`;

/**
 * Issue 20's table: at each offered rate, the switch's and the floor
 * server's percentiles and CPU per message (the server, then its Redis), and
 * the switch's over the floor's.
 */
export function latencyTable(t: LatencyTable): string {
  const rows = t.rows.map((row) => {
    const sw = row.switch;
    const floor = row.floor;
    const lost = sw.samples.reduce((n, s) => n + s.errors + s.declined, 0);
    return [
      `${int(row.ratePerS)}/s`,
      `${int(sw.approvedPerS.median)} / ${int(floor.approvedPerS.median)}${lost > 0 ? ` (${int(lost)} not approved)` : ''}`,
      percentiles(sw),
      percentiles(floor),
      `${times(row.ratio.p50)} / ${times(row.ratio.p99)} / ${times(row.ratio.p999)}`,
      `${us(sw.cpuUsPerMsg.switch)} / ${us(sw.cpuUsPerMsg.redis)}`,
      `${us(floor.cpuUsPerMsg.floor)} / ${us(floor.cpuUsPerMsg.redis)}`,
      times(row.ratio.cpu),
      `${sendLagP50(sw)} / ${sendLagP50(floor)}`,
    ];
  });
  return table(
    [
      'offered (open loop, fsync always)',
      'approved/s switch / floor',
      'switch p50 / p99 / p99.9 ms',
      'floor p50 / p99 / p99.9 ms',
      'x floor p50 / p99 / p99.9',
      'CPU us/msg switch / redis',
      'floor / redis',
      'x floor CPU',
      'send lag p50 ms',
    ],
    rows,
  );
}

const METRIC_NAMES: Readonly<Record<LatencyMetric, string>> = {
  p50: 'p50',
  p99: 'p99',
  p999: 'p99.9',
  cpu: 'CPU per message, with Redis',
};

/** One line per issue 20 target: the switch's figure over the floor's, the bound, pass or fail. */
export function latencyTargetsText(t: LatencyTable): string {
  const lines = t.verdicts.map(
    (v) =>
      `  ${`${METRIC_NAMES[v.metric]} at ${int(v.ratePerS)}/s:`.padEnd(40)} ${v.ratio === undefined ? '-' : times(v.ratio)}` +
      ` (target <= ${v.ratioMax}x): ${v.verdict}`,
  );
  const passed = t.verdicts.filter((v) => v.verdict === 'pass').length;
  const judged = t.verdicts.filter((v) => v.verdict !== 'n/a').length;
  return [
    `issue 20 targets, switch over floor (${passed} of ${judged} met; ${t.plan.pairs} pair${t.plan.pairs === 1 ? '' : 's'} of ${t.plan.measureS} s runs, load average ${t.loadAverage1m.start.toFixed(1)} to ${t.loadAverage1m.end.toFixed(1)}):`,
    ...lines,
    `  Redis AOF rewrites started during the runs: switch ${t.aofRewritesInRuns.switch}, floor ${t.aofRewritesInRuns.floor}` +
      " (each stalls its Redis's fsyncs for about a second)",
  ].join('\n');
}

export function headerText(doc: Pick<BenchDocument, 'kind' | 'machine' | 'revision'>): string {
  const m = doc.machine;
  return (
    `switchyard bench (${doc.kind}): ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, ` +
    `Node ${m.node}, Redis ${m.redis}; commit ${doc.revision.commit.slice(0, 12)}${doc.revision.dirty ? ' (with local changes)' : ''}`
  );
}
