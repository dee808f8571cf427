import { loadavg } from 'node:os';
import { type LatencyPlan, openLoop, type Scenario } from '../harness/plan.js';
import { aofRewriteCount, awaitAofRewrite, type BenchRedis, startRedis } from '../harness/redis.js';
import { startEchoProcess } from '../procs/echo-proc.js';
import { runSim, type SimTarget } from '../procs/sim-run.js';
import { startSwitch } from '../procs/switch-proc.js';
import { type RunSample, runOnce, type ScenarioResult, summarize } from './e2e.js';
import { judgeLatency, type LatencyMetric, type LatencyVerdict } from './latency-targets.js';

/**
 * Issue 20's latency table: at each offered rate, the switch in its default
 * configuration and the floor server, each with a private Redis (AOF,
 * `appendfsync always`), under the same open-loop load from the same
 * generator, interleaved so both see the same machine; their percentiles,
 * CPU per message and the ratios the issue's targets are set on.
 *
 * One switch and one floor server serve the whole table (started, seeded and
 * warmed once); before each run the run's Redis is let finish any AOF
 * rewrite the runs before it started.
 */

/** The `--only` part that runs just this table. */
export const LATENCY_TABLE = 'latency';

export type LatencySide = 'switch' | 'floor';

export interface LatencyRow {
  readonly ratePerS: number;
  readonly switch: ScenarioResult;
  readonly floor: ScenarioResult;
  /** The switch's median over the floor's; cpu: (switch + its Redis) over (floor + its Redis), per message answered. */
  readonly ratio: Readonly<Record<LatencyMetric, number>>;
}

export interface LatencyTable {
  readonly plan: LatencyPlan;
  readonly rows: readonly LatencyRow[];
  readonly verdicts: readonly LatencyVerdict[];
  /** The machine's 1-minute load average before the first and after the last run (other work on the cores). */
  readonly loadAverage1m: { readonly start: number; readonly end: number };
  /**
   * Redis AOF rewrites that started during each side's runs. A rewrite's
   * writes compete with the fsyncs on the same disk (docs/performance.md):
   * where the switch's side has some and the floor's none, that is disk.
   */
  readonly aofRewritesInRuns: Readonly<Record<LatencySide, number>>;
}

export function latencyScenario(side: LatencySide, ratePerS: number, plan: LatencyPlan): Scenario {
  return {
    id: `latency-${side}-${ratePerS}`,
    title: `${side === 'switch' ? 'switch, default' : 'floor server'}: open loop ${ratePerS.toLocaleString('en-US')}/s`,
    load: openLoop(ratePerS, plan.measureS, plan.accounts),
  };
}

/** The process's and its Redis's CPU per message answered. */
export function serverCpuUsPerMsg(result: ScenarioResult, side: LatencySide): number {
  return (result.cpuUsPerMsg[side] ?? Number.NaN) + (result.cpuUsPerMsg.redis ?? Number.NaN);
}

/** The rows, ratios and verdicts from each side's runs at each rate (`samples` keyed by latencyScenario's id). */
export function summarizeLatencyTable(
  plan: LatencyPlan,
  samples: ReadonlyMap<string, readonly RunSample[]>,
  loadAverage1m: LatencyTable['loadAverage1m'],
  aofRewritesInRuns: LatencyTable['aofRewritesInRuns'] = { switch: 0, floor: 0 },
): LatencyTable {
  const rows = plan.rates.map((ratePerS): LatencyRow => {
    const result = (side: LatencySide): ScenarioResult => {
      const scenario = latencyScenario(side, ratePerS, plan);
      return summarize(scenario, samples.get(scenario.id) ?? [], { target: side, fsync: 'always' });
    };
    const sw = result('switch');
    const floor = result('floor');
    return {
      ratePerS,
      switch: sw,
      floor,
      ratio: {
        p50: sw.latencyMs.p50 / floor.latencyMs.p50,
        p99: sw.latencyMs.p99 / floor.latencyMs.p99,
        p999: sw.latencyMs.p999 / floor.latencyMs.p999,
        cpu: serverCpuUsPerMsg(sw, 'switch') / serverCpuUsPerMsg(floor, 'floor'),
      },
    };
  });
  const verdicts = judgeLatency(new Map(rows.map((row) => [row.ratePerS, row.ratio])));
  return { plan, rows, verdicts, loadAverage1m, aofRewritesInRuns };
}

interface Side {
  readonly name: LatencySide;
  readonly target: SimTarget;
  readonly redis: BenchRedis;
  readonly watched: Readonly<Record<string, number>>;
}

/** Starts both sides (each stop added to `stops`, to run in reverse), seeds the switch. */
async function startSides(plan: LatencyPlan, stops: (() => Promise<void>)[]): Promise<Side[]> {
  const switchRedis = await startRedis('always');
  stops.push(() => switchRedis.stop());
  const sw = await startSwitch(switchRedis.url);
  stops.push(() => sw.stop());
  const seeded = await sw.seedAccounts(plan.accounts);
  process.stderr.write(
    `  switch (default configuration): ${seeded.created.toLocaleString('en-US')} accounts seeded in ${seeded.elapsedMs} ms\n`,
  );
  const floorRedis = await startRedis('always');
  stops.push(() => floorRedis.stop());
  const floor = await startEchoProcess({ redisUrl: floorRedis.url });
  stops.push(() => floor.stop());
  return [
    {
      name: 'switch',
      target: sw,
      redis: switchRedis,
      watched: { switch: sw.pid, redis: switchRedis.pid },
    },
    {
      name: 'floor',
      // Any key signs on to the floor server, as to the echo server: it checks nothing.
      target: {
        listen: floor.listen,
        acquirer: { institution: 'acq-bench', secretKeyBase64: Buffer.alloc(64).toString('base64') },
      },
      redis: floorRedis,
      watched: { floor: floor.pid, redis: floorRedis.pid },
    },
  ];
}

export async function runLatencyTable(plan: LatencyPlan): Promise<LatencyTable> {
  process.stderr.write('\nlatency: the switch (default configuration) against the floor server\n');
  const stops: (() => Promise<void>)[] = [];
  try {
    const sides = await startSides(plan, stops);
    const loadStart = loadavg()[0]!;
    const warmupRate = Math.max(...plan.rates);
    for (const side of sides)
      await runSim(
        side.target,
        openLoop(warmupRate, plan.warmupS, plan.accounts),
        `warm-up ${side.name}`,
        0,
        {},
      );
    const samples = new Map<string, RunSample[]>();
    const aofRewritesInRuns: Record<LatencySide, number> = { switch: 0, floor: 0 };
    for (let pair = 0; pair < plan.pairs; pair++) {
      // Alternate which side runs first, so neither always meets the machine the other left.
      const order = pair % 2 === 0 ? sides : [...sides].reverse();
      for (const ratePerS of plan.rates) {
        for (const side of order) {
          await awaitAofRewrite(side.redis.url);
          const scenario = latencyScenario(side.name, ratePerS, plan);
          // The same seed for both sides of a pair: the same requests on the same schedule.
          const rewritesBefore = await aofRewriteCount(side.redis.url);
          const sample = await runOnce(side.target, scenario, pair, plan.pairs, side.watched);
          aofRewritesInRuns[side.name] += (await aofRewriteCount(side.redis.url)) - rewritesBefore;
          samples.set(scenario.id, [...(samples.get(scenario.id) ?? []), sample]);
        }
      }
    }
    return summarizeLatencyTable(plan, samples, { start: loadStart, end: loadavg()[0]! }, aofRewritesInRuns);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
