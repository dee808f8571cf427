import type { IssuerSimSummary } from '../../src/sim/issuer-stats.js';
import { cpuTimeMs, jsonSummary, sleep, spawnTracked } from '../harness/processes.js';
import type { HostCredentials, Listen } from './switch-proc.js';

/** How the simulated issuer answers during a run (the `switchyard sim issuer` flags). */
export interface IssuerAnswering {
  /** Sign-ons, all as the one issuer (--connections). */
  readonly connections: number;
  /** Fixed delay of every answer, ms (--latency-ms); 0 = in the turn that read the request. */
  readonly latencyMs: number;
}

/** A switch with an issuer route (bench/procs/switch-proc.ts). */
export interface IssuerTarget {
  readonly listen: Listen;
  readonly issuer: HostCredentials;
  /** Issuer connections the switch has signed on now. */
  issuerConnections(): Promise<number>;
  /** The issuer's advices queued and unacknowledged, as the switch last counted them (every ~100 ms). */
  adviceQueueDepth(): Promise<number>;
}

export interface IssuerRun {
  readonly summary: IssuerSimSummary;
  /** CPU ms it used from signed on to stopped; undefined where /proc cannot tell. */
  readonly cpuMs: number | undefined;
}

export interface RunningIssuer {
  readonly pid: number;
  /** Stops it as Ctrl-C does (answers already scheduled go out, sign-off) and returns its summary and CPU. */
  stop(): Promise<IssuerRun>;
}

const CONNECTIONS_TIMEOUT_MS = 30_000;
const CONNECTIONS_POLL_MS = 20;
/** Longer than the switch's recount of the advice queue (100 ms). */
const ADVICE_COUNT_SETTLE_MS = 250;
const ADVICE_COUNT_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 30_000;

function isIssuerSummary(value: unknown): value is IssuerSimSummary {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<IssuerSimSummary>;
  return (
    typeof v.received === 'number' && typeof v.answered === 'number' && typeof v.answerDelayMs === 'object'
  );
}

/**
 * Advices the switch queued for the issuer while `run` ran (the issuer away,
 * so none leaves the queue): the queue's depth before and after, each read
 * once the switch's count of it has settled (it recounts every ~100 ms).
 * Stand-in approvals queue one each, in the commit that approves them.
 */
export async function advicesQueuedDuring<T>(
  target: IssuerTarget,
  expected: (result: T) => number,
  run: () => Promise<T>,
): Promise<{ result: T; advicesQueued: number }> {
  const settled = async (atLeast: number): Promise<number> => {
    const deadline = performance.now() + ADVICE_COUNT_TIMEOUT_MS;
    let last = await target.adviceQueueDepth();
    for (;;) {
      await sleep(ADVICE_COUNT_SETTLE_MS);
      const now = await target.adviceQueueDepth();
      if ((now === last && now >= atLeast) || performance.now() > deadline) return now;
      last = now;
    }
  };
  const before = await settled(0);
  const result = await run();
  const after = await settled(before + expected(result));
  return { result, advicesQueued: after - before };
}

async function waitForIssuerConnections(
  target: IssuerTarget,
  done: (connections: number) => boolean,
  failed: () => boolean,
): Promise<boolean> {
  const deadline = performance.now() + CONNECTIONS_TIMEOUT_MS;
  while (!done(await target.issuerConnections())) {
    if (failed() || performance.now() > deadline) return false;
    await sleep(CONNECTIONS_POLL_MS);
  }
  return true;
}

/**
 * Runs `switchyard sim issuer` as its own process (a real issuer host is one:
 * it shares the two cores with the switch, Redis and the acquirer simulator)
 * and resolves once the switch reports every one of its connections signed
 * on, so no request of the run finds the issuer away. Stopping it waits until
 * the switch has seen every connection close, so the next run starts with
 * the issuer away.
 */
export async function startIssuerSim(
  target: IssuerTarget,
  answering: IssuerAnswering,
  seed: number,
  label: string,
): Promise<RunningIssuer> {
  const args = [
    'dist/src/cli/main.js',
    'sim',
    'issuer',
    '--host',
    target.listen.tcp.host,
    '--port',
    String(target.listen.tcp.port),
    '--institution',
    target.issuer.institution,
    '--secret-key',
    target.issuer.secretKeyBase64,
    '--connections',
    String(answering.connections),
    '--latency-ms',
    String(answering.latencyMs),
    '--seed',
    String(seed),
    '--json',
    '--quiet',
  ];
  const lines: string[] = [];
  const tracked = spawnTracked(process.execPath, args, {
    onLine: (line) => lines.push(line),
    onErrLine: (line) => {
      if (line.trim() !== '') process.stderr.write(`  ${label} issuer: ${line}\n`);
    },
  });
  const signedOn = await waitForIssuerConnections(
    target,
    (connections) => connections >= answering.connections,
    () => tracked.child.exitCode !== null,
  );
  if (!signedOn) {
    await tracked.stop();
    throw new Error(`sim issuer (${label}) did not sign on: ${tracked.tail()}\n${lines.join('\n')}`);
  }
  const cpuBefore = cpuTimeMs(tracked.pid);
  return {
    pid: tracked.pid,
    stop: async () => {
      const cpuAfter = cpuTimeMs(tracked.pid);
      // SIGINT is its Ctrl-C: it lets out the answers already scheduled, signs off and prints the summary.
      tracked.child.kill('SIGINT');
      const timer = setTimeout(() => tracked.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const exit = await tracked.exited;
      clearTimeout(timer);
      const summary = jsonSummary(tracked, exit, lines, isIssuerSummary, `sim issuer (${label})`);
      if (
        !(await waitForIssuerConnections(
          target,
          (connections) => connections === 0,
          () => false,
        ))
      )
        throw new Error(`sim issuer (${label}) exited, and the switch still counts issuer connections`);
      const cpuMs = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
      return { summary, cpuMs };
    },
  };
}
