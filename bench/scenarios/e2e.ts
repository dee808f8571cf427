import type { LatencyPercentilesMs } from '../../src/sim/latency-histogram.js';
import type { Plan, Scenario, SwitchFamily } from '../harness/plan.js';
import { type FsyncMode, startRedis } from '../harness/redis.js';
import { median, medianByKey, type Spread, spread } from '../harness/stats.js';
import { startEchoProcess } from '../procs/echo-proc.js';
import {
  advicesQueuedDuring,
  type IssuerAnswering,
  type IssuerRun,
  type IssuerTarget,
  startIssuerSim,
} from '../procs/issuer-run.js';
import { runSim, type SimLoad, type SimRun, type SimTarget } from '../procs/sim-run.js';
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
  /** CPU microseconds per answered message, by process (switch, echo or floor, redis, sim, issuer). */
  readonly cpuUsPerMsg: Readonly<Record<string, number>>;
  /** Issuer-routed runs: what `sim issuer` answered and measured (a request's arrival to its answer's write). */
  readonly issuer?: { readonly answered: number; readonly answerDelayMs: LatencyPercentilesMs };
  /** Stand-in runs (issuer away): advices the switch queued during the run, one per stand-in approval. */
  readonly advicesQueued?: number;
}

/** Latency the switch added to issuer-routed requests: the acquirer's percentile less the issuer's. */
export interface SwitchShareMs {
  readonly p50: number;
  readonly p99: number;
}

export type LatencyKey = 'p50' | 'p90' | 'p99' | 'p999' | 'max';
const LATENCY_KEYS: readonly LatencyKey[] = ['p50', 'p90', 'p99', 'p999', 'max'];

/** What a scenario ran against: the switch, the echo server, or the floor server (echo plus one fsync'd write per turn). */
export type ScenarioTarget = 'switch' | 'echo' | 'floor';

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly target: ScenarioTarget;
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
  readonly issuer?: IssuerAnswering | 'away';
  readonly baseline?: string;
  /** With an answering issuer: each percentile of its answer delay, median over the runs. */
  readonly issuerAnswerDelayMs?: Readonly<Record<LatencyKey, number>>;
  /** With an answering issuer: median over the runs of each run's acquirer percentile less the issuer's. */
  readonly switchShareMs?: SwitchShareMs;
}

const BASE_SEED = 1;
/** The issuer simulator's seeds, apart from the acquirer's. */
const ISSUER_SEED = 1_000;

/**
 * Runs the simulator against `target` with the issuer the scenario asks for:
 * `sim issuer` signed on for the run (and stopped after it, with its summary
 * and CPU), or, for `away`, checked to be signed off, so every request meets
 * stand-in, with the advices the run queued counted.
 */
async function runWithIssuer(
  target: SimTarget,
  scenario: Scenario,
  load: SimLoad,
  label: string,
  seed: number,
  watched: Readonly<Record<string, number>>,
  issuerTarget: IssuerTarget | undefined,
): Promise<{ run: SimRun; issuer?: IssuerRun; advicesQueued?: number }> {
  if (scenario.issuer === undefined) return { run: await runSim(target, load, label, seed, watched) };
  if (issuerTarget === undefined) throw new Error(`${scenario.id}: issuer routing needs a switch`);
  if (scenario.issuer === 'away') {
    const connections = await issuerTarget.issuerConnections();
    if (connections !== 0)
      throw new Error(`${scenario.id}: the issuer should be away, ${connections} signed on`);
    const { result, advicesQueued } = await advicesQueuedDuring(
      issuerTarget,
      (run: SimRun) => run.summary.rcCounts['00'] ?? 0,
      () => runSim(target, load, label, seed, watched),
    );
    return { run: result, advicesQueued };
  }
  const issuer = await startIssuerSim(issuerTarget, scenario.issuer, ISSUER_SEED + seed, label);
  let run: SimRun;
  try {
    run = await runSim(target, load, label, seed, watched);
  } catch (error) {
    await issuer.stop().catch(() => undefined);
    throw error;
  }
  return { run, issuer: await issuer.stop() };
}

/** One run of `scenario` against `target`: the simulator's summary as a sample. */
export async function runOnce(
  target: SimTarget,
  scenario: Scenario,
  index: number,
  repeats: number,
  watched: Readonly<Record<string, number>>,
  issuerTarget?: IssuerTarget,
): Promise<RunSample> {
  const label = `${scenario.id}${repeats > 1 ? ` #${index + 1}/${repeats}` : ''}`;
  const { run, issuer, advicesQueued } = await runWithIssuer(
    target,
    scenario,
    scenario.load,
    label,
    BASE_SEED + index,
    watched,
    issuerTarget,
  );
  const s = run.summary;
  const approved = s.rcCounts['00'] ?? 0;
  const cpuMs: Record<string, number> = { ...run.cpuMs };
  if (issuer?.cpuMs !== undefined) cpuMs.issuer = issuer.cpuMs;
  const cpuUsPerMsg: Record<string, number> = {};
  for (const [name, ms] of Object.entries(cpuMs))
    cpuUsPerMsg[name] = s.answered > 0 ? (ms * 1000) / s.answered : 0;
  const sample: RunSample = {
    approvedPerS: s.elapsedMs > 0 ? (approved * 1000) / s.elapsedMs : 0,
    answered: s.answered,
    declined: s.answered - approved,
    errors: s.errors,
    latencyMs: s.latencyMs,
    ...(s.sendLagMs === undefined ? {} : { sendLagMs: s.sendLagMs }),
    cpuUsPerMsg,
    ...(issuer === undefined
      ? {}
      : { issuer: { answered: issuer.summary.answered, answerDelayMs: issuer.summary.answerDelayMs } }),
    ...(advicesQueued === undefined ? {} : { advicesQueued }),
  };
  const p = s.latencyMs;
  // An approval the issuer did not give is a stand-in (a forward that timed out): the row would flatter the route.
  const standIns = issuer === undefined ? 0 : approved - issuer.summary.answered;
  process.stderr.write(
    `  ${label}: ${Math.round(sample.approvedPerS).toLocaleString('en-US')}/s` +
      ` p50 ${p.p50.toFixed(2)} p99 ${p.p99.toFixed(2)} p99.9 ${p.p999.toFixed(2)} max ${p.max.toFixed(2)} ms` +
      `${issuer === undefined ? '' : `, issuer delay p50 ${issuer.summary.answerDelayMs.p50.toFixed(2)} p99 ${issuer.summary.answerDelayMs.p99.toFixed(2)} ms`}` +
      `${s.errors > 0 ? `, ${s.errors} unanswered` : ''}${sample.declined > 0 ? `, ${sample.declined} not approved` : ''}` +
      `${standIns > 0 ? `, ${standIns} approved without the issuer's answer` : ''}` +
      `${advicesQueued === undefined ? '' : `, ${advicesQueued} advices queued`}\n`,
  );
  return sample;
}

/** A scenario's runs: each percentile's median and range, CPU per message by process, medians. */
export function summarize(
  scenario: Scenario,
  samples: readonly RunSample[],
  context: { target: ScenarioTarget; family?: string; fsync?: FsyncMode },
): ScenarioResult {
  const latencyMs = {} as Record<LatencyKey, number>;
  const latencyRangeMs = {} as Record<LatencyKey, Spread>;
  for (const key of LATENCY_KEYS) {
    latencyRangeMs[key] = spread(samples.map((sample) => sample.latencyMs[key]));
    latencyMs[key] = latencyRangeMs[key].median;
  }
  const lags = samples.flatMap((sample) => (sample.sendLagMs === undefined ? [] : [sample.sendLagMs.p99]));
  const issued = samples.flatMap((sample) =>
    sample.issuer === undefined ? [] : [{ acquirer: sample.latencyMs, issuer: sample.issuer.answerDelayMs }],
  );
  let issuerFigures: Pick<ScenarioResult, 'issuerAnswerDelayMs' | 'switchShareMs'> = {};
  if (issued.length > 0) {
    const issuerAnswerDelayMs = {} as Record<LatencyKey, number>;
    for (const key of LATENCY_KEYS) issuerAnswerDelayMs[key] = median(issued.map((i) => i.issuer[key]));
    // To the microsecond: the histograms' resolution is coarser, and the difference would print float noise.
    const share = (key: 'p50' | 'p99'): number =>
      Math.round(median(issued.map((i) => i.acquirer[key] - i.issuer[key])) * 1000) / 1000;
    issuerFigures = { issuerAnswerDelayMs, switchShareMs: { p50: share('p50'), p99: share('p99') } };
  }
  return {
    id: scenario.id,
    title: scenario.title,
    ...context,
    accounts: scenario.load.pans,
    load: scenario.load,
    ...(scenario.ceiling === undefined ? {} : { ceiling: scenario.ceiling }),
    ...(scenario.sweep === true ? { sweep: true } : {}),
    ...(scenario.issuer === undefined ? {} : { issuer: scenario.issuer }),
    ...(scenario.baseline === undefined ? {} : { baseline: scenario.baseline }),
    ...issuerFigures,
    samples,
    approvedPerS: spread(samples.map((sample) => sample.approvedPerS)),
    latencyMs,
    latencyRangeMs,
    ...(lags.length === 0 ? {} : { sendLagP99Ms: spread(lags).median }),
    cpuUsPerMsg: medianByKey(samples.map((sample) => sample.cpuUsPerMsg)),
  };
}

/** A short discarded run of the first scenario's load (and issuer): JIT in every process, accounts active. */
async function warmUp(
  plan: Plan,
  target: SimTarget,
  first: Scenario | undefined,
  watched: Readonly<Record<string, number>>,
  issuerTarget?: IssuerTarget,
): Promise<void> {
  if (plan.warmupS <= 0 || first === undefined) return;
  const load: SimLoad = { ...first.load, durationS: plan.warmupS };
  await runWithIssuer(target, first, load, 'warm-up', 0, watched, issuerTarget);
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
  readonly target: SimTarget & IssuerTarget;
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
            await warmUp(plan, target, scenario, watched, target);
            return runOnce(target, scenario, i, repeats, watched, target);
          }),
        );
      }
      results.push(summarize(scenario, samples, context));
    }
    return results;
  }
  await withFreshSwitch(family, async ({ target, watched }) => {
    await warmUp(plan, target, family.scenarios[0], watched, target);
    for (const scenario of family.scenarios) {
      const repeats = scenario.repeats ?? plan.repeats;
      const samples: RunSample[] = [];
      for (let i = 0; i < repeats; i++)
        samples.push(await runOnce(target, scenario, i, repeats, watched, target));
      results.push(summarize(scenario, samples, context));
    }
  });
  return results;
}
