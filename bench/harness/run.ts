import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLedgerBenchRepeated } from '../procs/ledger-thread.js';
import {
  CLEARING_CYCLE_ROW,
  type ClearingCycleResult,
  runClearingCycleRow,
} from '../scenarios/clearing-cycle-row.js';
import {
  CLEARING_LIVE_ROW,
  type ClearingLiveResult,
  runClearingLiveRow,
} from '../scenarios/clearing-live-row.js';
import { runCodecBench } from '../scenarios/codec.bench.js';
import { runEchoScenarios, runSwitchFamily, type ScenarioResult } from '../scenarios/e2e.js';
import { LATENCY_TABLE, type LatencyTable, runLatencyTable } from '../scenarios/latency-table.js';
import { measureRedisCeiling, type RedisCeiling, type RedisWriteMode } from '../scenarios/redis-ceiling.js';
import { latencyByLoadChart, throughputByBatchChart } from './chart.js';
import { describeMachine, describeRevision } from './machine.js';
import { formatTable } from './micro.js';
import { makePlan, type RunKind } from './plan.js';
import { repoRoot } from './processes.js';
import type { FsyncMode } from './redis.js';
import {
  type BenchDocument,
  ceilingTable,
  clearingCycleTable,
  clearingLiveTable,
  closedLoopTable,
  headerText,
  issuerTable,
  latencyTable,
  latencyTargetsText,
  openLoopTable,
  rate,
} from './report.js';

const USAGE = `usage: node dist/bench/harness/run.js [--quick] [--only PART[,PART...]] [--pairs N]

  npm run bench          full suite (about 21 minutes): every end-to-end scenario 3 times
  npm run bench:quick    every scenario once, short (about two minutes)
  --only                 run only some parts: micro, redis, echo, switch (every family),
                         switch family ids (see bench/harness/plan.ts), latency (the switch
                         against the floor server at 1k, 5k and 20k/s), clearing (both
                         clearing rows), clearing-cycle or clearing-live; results go to
                         bench/results/partial-*.json and *-partial.svg, not latest-*
  --pairs N              runs of each side at each rate in the latency table (default 2,
                         quick 1): --only latency --pairs 1 takes about a minute and a half
`;

const DURABILITY =
  'Each switch family gets a fresh redis-server (AOF on, appendfsync always unless the family says everysec, ' +
  'no-appendfsync-on-rewrite no, no RDB, rdbcompression no, noeviction) whose AOF is on the local disk (os.tmpdir()), and a fresh ' +
  'switch (default workers and limits) pointed at it. Approvals are counted only when answered rc 00, i.e. after ' +
  'the commit script returned.';

const METHOD =
  'Switch, Redis and the load generator (switchyard sim acquirer --lean, a separate process) share the machine. ' +
  'Closed loop: a fixed number of messages in flight; open loop: a fixed schedule, latency timed from each ' +
  "request's scheduled send time. Percentiles from the simulator's log-bucketed histogram (3% resolution). " +
  'Ceilings in the same run: an echo server with the same framing and codec driven by the same generator, and ' +
  'Redis journal appends (80-byte XADD) with ioredis. Latency table: the switch against the floor server (the ' +
  "echo server, answering each event-loop turn's requests after one INCR to its own Redis with fsync always " +
  'returns), the same open-loop load on both, interleaved. Ranges are min-max over the repeats.';

interface RunArgs {
  readonly kind: RunKind;
  readonly only: Set<string> | undefined;
  /** Overrides the plan's latency pairs. */
  readonly pairs: number | undefined;
}

function parseArgs(argv: readonly string[]): RunArgs {
  let kind: RunKind = 'full';
  let only: Set<string> | undefined;
  let pairs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') kind = 'quick';
    else if (arg === '--pairs' || arg.startsWith('--pairs=')) {
      const text = arg === '--pairs' ? argv[++i] : arg.slice('--pairs='.length);
      pairs = Number(text);
      if (!Number.isSafeInteger(pairs) || pairs < 1)
        throw new Error(`--pairs wants a whole number >= 1\n${USAGE}`);
    } else if (arg === '--only') only = new Set((argv[++i] ?? '').split(',').filter((p) => p !== ''));
    else if (arg.startsWith('--only='))
      only = new Set(
        arg
          .slice(7)
          .split(',')
          .filter((p) => p !== ''),
      );
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { kind, only, pairs };
}

async function main(argv: readonly string[]): Promise<void> {
  const { kind, only, pairs } = parseArgs(argv);
  const wants = (part: string): boolean => only === undefined || only.has(part);
  const basePlan = makePlan(kind);
  const plan = pairs === undefined ? basePlan : { ...basePlan, latency: { ...basePlan.latency, pairs } };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const machine = describeMachine();
  const revision = describeRevision();
  const say = (text: string): void => {
    process.stdout.write(`${text}\n`);
  };
  say(`${headerText({ kind, machine, revision })}\n`);

  const codec = wants('micro') ? runCodecBench(plan.microMs) : [];
  // Twice as long: the sustained rate (GC included) needs a few old-generation collections per run.
  // Each on a thread of its own, as the ledger runs, repeated as the end-to-end rows are (ledger-thread.ts).
  const ledger = wants('micro')
    ? [
        ...(await runLedgerBenchRepeated(plan.microMs * 2, 100_000, plan.repeats)),
        ...(await runLedgerBenchRepeated(plan.microMs * 2, 1_000, plan.repeats)),
      ]
    : [];
  if (codec.length > 0) say(`codec and framing (one core):\n${formatTable(codec)}\n`);
  if (ledger.length > 0) say(`in-memory actor decisions (one core):\n${formatTable(ledger)}\n`);

  const redis: RedisCeiling[] = [];
  if (wants('redis')) {
    // The script ceilings are the ones ratios refer to; the pipelined ones (client-bound) only in the full run.
    const modes: [FsyncMode, RedisWriteMode][] =
      kind === 'full'
        ? [
            ['always', 'script'],
            ['always', 'pipelined'],
            ['everysec', 'script'],
            ['everysec', 'pipelined'],
          ]
        : [
            ['always', 'script'],
            ['everysec', 'script'],
          ];
    process.stderr.write('ceiling: redis journal appends\n');
    for (const [fsync, mode] of modes) {
      const ceiling = await measureRedisCeiling(fsync, mode, plan.redisMs);
      process.stderr.write(
        `  XADD ${mode}, fsync ${fsync}: ${Math.round(ceiling.entriesPerS).toLocaleString('en-US')}/s\n`,
      );
      redis.push(ceiling);
    }
  }

  const echo = wants('echo') ? await runEchoScenarios(plan) : [];
  const switchResults: ScenarioResult[] = [];
  for (const family of plan.families) {
    if (!wants(family.id) && only?.has('switch') !== true) continue;
    switchResults.push(...(await runSwitchFamily(plan, family)));
  }
  const scenarios = rate(switchResults, echo, redis);
  const latency: LatencyTable | undefined = wants(LATENCY_TABLE)
    ? await runLatencyTable(plan.latency)
    : undefined;
  const clearingCycle: ClearingCycleResult | undefined =
    wants('clearing') || wants(CLEARING_CYCLE_ROW) ? await runClearingCycleRow(plan.clearing) : undefined;
  const clearingLive: ClearingLiveResult | undefined =
    wants('clearing') || wants(CLEARING_LIVE_ROW) ? await runClearingLiveRow(plan) : undefined;

  // A partial run (--only) must not overwrite the latest complete results.
  const suffix = only === undefined ? kind : `${kind}-partial`;
  const outDir = join(repoRoot, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const charts: string[] = [];
  const subtitle = `${kind} run, ${machine.cores} cores ${machine.cpu}, commit ${revision.commit.slice(0, 12)}, ${startedAt.slice(0, 10)}`;
  const sweep = scenarios.filter((s) => s.sweep === true);
  if (sweep.length > 0) {
    const file = `throughput-by-batch-${suffix}.svg`;
    writeFileSync(
      join(outDir, file),
      throughputByBatchChart(
        sweep,
        echo.filter((e) => e.sweep === true),
        subtitle,
      ),
    );
    charts.push(`bench/results/${file}`);
  }
  // On-us open-loop rows; the issuer-routed ones have a table of their own.
  const open = scenarios.filter((s) => s.load.ratePerS !== undefined && s.issuer === undefined);
  if (open.length > 0 || latency !== undefined) {
    const file = `latency-by-load-${suffix}.svg`;
    writeFileSync(
      join(outDir, file),
      latencyByLoadChart(
        // The chart is the default configuration's curve; variants (inline) are in the table. At a rate both
        // measured, the latency table's switch is drawn: its floor was measured beside it.
        [
          ...(latency?.rows.map((row) => row.switch) ?? []),
          ...open.filter((s) => !s.id.startsWith('inline-')),
        ],
        echo.filter((e) => e.load.ratePerS !== undefined),
        subtitle,
        latency?.rows.map((row) => row.floor) ?? [],
      ),
    );
    charts.push(`bench/results/${file}`);
  }

  say('');
  if (echo.length > 0 || redis.length > 0) say(`ceilings, same run:\n${ceilingTable(echo, redis)}\n`);
  if (scenarios.some((s) => s.load.ratePerS === undefined && s.issuer === undefined))
    say(`end to end:\n${closedLoopTable(scenarios)}\n`);
  if (open.length > 0) say(`${openLoopTable(scenarios, echo)}\n`);
  if (scenarios.some((s) => s.issuer !== undefined)) say(`${issuerTable(scenarios, echo)}\n`);
  if (latency !== undefined) say(`${latencyTable(latency)}\n\n${latencyTargetsText(latency)}\n`);
  if (clearingCycle !== undefined) say(`${clearingCycleTable(clearingCycle)}\n`);
  if (clearingLive !== undefined) say(`${clearingLiveTable(clearingLive)}\n`);

  const doc: BenchDocument = {
    suite: 'switchyard bench',
    kind,
    startedAt,
    durationS: Math.round((performance.now() - t0) / 100) / 10,
    revision,
    machine,
    durability: DURABILITY,
    method: METHOD,
    micro: { codec, ledger },
    ceilings: { redis, echo },
    scenarios,
    ...(latency === undefined ? {} : { latency }),
    ...(clearingCycle === undefined && clearingLive === undefined
      ? {}
      : {
          clearing: {
            ...(clearingCycle === undefined ? {} : { cycle: clearingCycle }),
            ...(clearingLive === undefined ? {} : { live: clearingLive }),
          },
        }),
    charts,
  };
  const file = only === undefined ? `latest-${kind}.json` : `partial-${kind}.json`;
  writeFileSync(join(outDir, file), `${JSON.stringify(doc, null, 2)}\n`);
  say(
    `results: bench/results/${file}${charts.length > 0 ? `, ${charts.join(', ')}` : ''} (${doc.durationS} s)`,
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
