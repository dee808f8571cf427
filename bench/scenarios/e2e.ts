import type { LatencyPercentilesMs } from '../../src/sim/latency-histogram.js';
import type { Plan, Scenario, SwitchFamily } from '../harness/plan.js';
import { type FsyncMode, startRedis } from '../harness/redis.js';
import { medianByKey, type Spread, spread } from '../harness/stats.js';
import { startEchoProcess } from '../procs/echo-proc.js';
import { runSim, type SimLoad, type SimTarget } from '../procs/sim-run.js';
import { startSwitch } from '../procs/switch-proc.js';

/** One run of one scenario. */
export interface RunSample {
  /** Answered rc 00 per second (the switch's durable approvals; every echo answer is 00). */
  readonly approvedPerS: number;
  readonly answered: number;
  /** Answered with another rc. */
  readonly declined: number;
  /** Sent and never answered (timeouts, disconnects). */
  readonly errors: number;
  readonly latencyMs: LatencyPercentilesMs;
  /** Open loop: how far behind its schedule the generator wrote (see sim/load-driver.ts). */
  readonly sendLagMs?: LatencyPercentilesMs;
  /** CPU microseconds per answered message, by process (switch or echo, redis, sim). */
  readonly cpuUsPerMsg: Readonly<Record<string, number>>;
}

export type LatencyKey = 'p50' | 'p90' | 'p99' | 'p999' | 'max';
const LATENCY_KEYS: readonly LatencyKey[] = ['p50', 'p90', 'p99', 'p999', 'max'];

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly target: 'switch' | 'echo';
  readonly family?: string;
  readonly fsync?: FsyncMode;
  readonly accounts: number;
  readonly load: SimLoad;
  readonly ceiling?: string;
  readonly sweep?: boolean;
  readonly samples: readonly RunSample[];
  readonly approvedPerS: Spread;
  /** Each percentile's median over the runs. */
  readonly latencyMs: Readonly<Record<LatencyKey, number>>;
  readonly latencyRangeMs: Readonly<Record<LatencyKey, Spread>>;
  readonly sendLagP99Ms?: number;
  readonly cpuUsPerMsg: Readonly<Record<string, number>>;
}

const BASE_SEED = 1;

/** One run of `scenario` against `target`: the simulator's summary as a sample. */
async function runOnce(
  target: SimTarget,
  scenario: Scenario,
  index: number,
  repeats: number,
  watched: Readonly<Record<string, number>>,
): Promise<RunSample> {
  const label = `${scenario.id}${repeats > 1 ? ` #${index + 1}/${repeats}` : ''}`;
  const run = await runSim(target, scenario.load, label, BASE_SEED + index, watched);
  const s = run.summary;
  const approved = s.rcCounts['00'] ?? 0;
  const cpuUsPerMsg: Record<string, number> = {};
  for (const [name, ms] of Object.entries(run.cpuMs))
    cpuUsPerMsg[name] = s.answered > 0 ? (ms * 1000) / s.answered : 0;
  const sample: RunSample = {
    approvedPerS: s.elapsedMs > 0 ? (approved * 1000) / s.elapsedMs : 0,
    answered: s.answered,
    declined: s.answered - approved,
    errors: s.errors,
    latencyMs: s.latencyMs,
    ...(s.sendLagMs === undefined ? {} : { sendLagMs: s.sendLagMs }),
    cpuUsPerMsg,
  };
  const p = s.latencyMs;
  process.stderr.write(
    `  ${label}: ${Math.round(sample.approvedPerS).toLocaleString('en-US')}/s` +
      ` p50 ${p.p50.toFixed(2)} p99 ${p.p99.toFixed(2)} p99.9 ${p.p999.toFixed(2)} max ${p.max.toFixed(2)} ms` +
      `${s.errors > 0 ? `, ${s.errors} unanswered` : ''}${sample.declined > 0 ? `, ${sample.declined} not approved` : ''}\n`,
  );
  return sample;
}

function summarize(
  scenario: Scenario,
  samples: readonly RunSample[],
  context: { target: 'switch' | 'echo'; family?: string; fsync?: FsyncMode },
): ScenarioResult {
  const latencyMs = {} as Record<LatencyKey, number>;
  const latencyRangeMs = {} as Record<LatencyKey, Spread>;
  for (const key of LATENCY_KEYS) {
    latencyRangeMs[key] = spread(samples.map((sample) => sample.latencyMs[key]));
    latencyMs[key] = latencyRangeMs[key].median;
  }
  const lags = samples.flatMap((sample) => (sample.sendLagMs === undefined ? [] : [sample.sendLagMs.p99]));
  return {
    id: scenario.id,
    title: scenario.title,
    ...context,
    accounts: scenario.load.pans,
    load: scenario.load,
    ...(scenario.ceiling === undefined ? {} : { ceiling: scenario.ceiling }),
    ...(scenario.sweep === true ? { sweep: true } : {}),
    samples,
    approvedPerS: spread(samples.map((sample) => sample.approvedPerS)),
    latencyMs,
    latencyRangeMs,
    ...(lags.length === 0 ? {} : { sendLagP99Ms: spread(lags).median }),
    cpuUsPerMsg: medianByKey(samples.map((sample) => sample.cpuUsPerMsg)),
  };
}

/** A short discarded run of the first scenario's load: JIT in every process, accounts active. */
async function warmUp(
  plan: Plan,
  target: SimTarget,
  first: Scenario | undefined,
  watched: Readonly<Record<string, number>>,
): Promise<void> {
  if (plan.warmupS <= 0 || first === undefined) return;
  const load: SimLoad = { ...first.load, durationS: plan.warmupS };
  await runSim(target, load, 'warm-up', 0, watched);
}

/** Every echo scenario against one echo-server process. */
export async function runEchoScenarios(plan: Plan): Promise<ScenarioResult[]> {
  process.stderr.write('\nceiling: echo server (same framing and codec, no logic)\n');
  const echo = await startEchoProcess();
  try {
    // Any key signs on to the echo server; it checks nothing.
    const target: SimTarget = {
      listen: echo.listen,
      acquirer: { institution: 'acq-bench', secretKeyBase64: Buffer.alloc(64).toString('base64') },
    };
    await warmUp(plan, target, plan.echo[0], { echo: echo.pid });
    const results: ScenarioResult[] = [];
    for (const scenario of plan.echo) {
      const repeats = scenario.repeats ?? plan.echoRepeats;
      const samples: RunSample[] = [];
      for (let i = 0; i < repeats; i++)
        samples.push(await runOnce(target, scenario, i, repeats, { echo: echo.pid }));
      results.push(summarize(scenario, samples, { target: 'echo' }));
    }

    return results;
  } finally {
    await echo.stop();
  }
}

interface FreshSwitch {
  readonly target: SimTarget;
  readonly watched: Readonly<Record<string, number>>;
}

/** A fresh Redis (the family's fsync) and switch, the family's accounts seeded; both stopped after `use`. */
async function withFreshSwitch<T>(family: SwitchFamily, use: (fresh: FreshSwitch) => Promise<T>): Promise<T> {
  const redis = await startRedis(family.fsync);
  try {
    const sw = await startSwitch(redis.url, family.switchConfig ? { config: family.switchConfig } : {});
    try {
      const seeded = await sw.seedAccounts(family.accounts);
      process.stderr.write(
        `  fresh switch (redis appendfsync ${family.fsync}): ${seeded.created.toLocaleString('en-US')} accounts seeded in ${seeded.elapsedMs} ms\n`,
      );
      return await use({ target: sw, watched: { switch: sw.pid, redis: redis.pid } });
    } finally {
      await sw.stop();
    }
  } finally {
    await redis.stop();
  }
}

/**
 * One family: each scenario `repeats` times, every repeat on a fresh Redis
 * and switch (plan.freshPerRepeat) or all of them on one, each fresh switch
 * warmed up first.
 */
export async function runSwitchFamily(plan: Plan, family: SwitchFamily): Promise<ScenarioResult[]> {
  process.stderr.write(`\nswitch: ${family.id}\n`);
  const context = { target: 'switch' as const, family: family.id, fsync: family.fsync };
  const results: ScenarioResult[] = [];
  if (plan.freshPerRepeat) {
    for (const scenario of family.scenarios) {
      const repeats = scenario.repeats ?? plan.repeats;
      const samples: RunSample[] = [];
      for (let i = 0; i < repeats; i++) {
        samples.push(
          await withFreshSwitch(family, async ({ target, watched }) => {
            await warmUp(plan, target, scenario, watched);
            return runOnce(target, scenario, i, repeats, watched);
          }),
        );
      }
      results.push(summarize(scenario, samples, context));
    }
    return results;
  }
  await withFreshSwitch(family, async ({ target, watched }) => {
    await warmUp(plan, target, family.scenarios[0], watched);
    for (const scenario of family.scenarios) {
      const repeats = scenario.repeats ?? plan.repeats;
      const samples: RunSample[] = [];
      for (let i = 0; i < repeats; i++) samples.push(await runOnce(target, scenario, i, repeats, watched));
      results.push(summarize(scenario, samples, context));
    }
  });
  return results;
}
