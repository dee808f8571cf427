import type { SimSummary } from '../../src/sim/stats.js';
import { cpuTimeMs, jsonSummary, spawnTracked } from '../harness/processes.js';
import type { HostCredentials, Listen } from './switch-proc.js';

/** One simulator invocation's load shape (the `switchyard sim acquirer` flags). */
export interface SimLoad {
  readonly transport: 'tcp' | 'ws';
  readonly connections: number;
  readonly batch: number;
  /** Per connection. */
  readonly inflight: number;
  /** false: --no-coalesce, so every unit (1 or `batch` messages) is its own frame. */
  readonly coalesce: boolean;
  /** Open loop at this many requests/s; undefined = closed loop. */
  readonly ratePerS?: number;
  readonly durationS: number;
  readonly pans: number;
  /** --skew: share of the traffic that goes to 1% of the PANs. */
  readonly skew?: number;
  /** --prefix: the PANs' first digits, hence their route (the simulator's default, 4, is on-us). */
  readonly prefix?: string;
}

export interface SimTarget {
  readonly listen: Listen;
  readonly acquirer: HostCredentials;
}

export interface SimRun {
  readonly summary: SimSummary;
  /** Wall time of the simulator process, start to exit. */
  readonly wallMs: number;
  /** CPU ms used during that time by the target's processes (by name) and by the simulator ("sim"). */
  readonly cpuMs: Readonly<Record<string, number>>;
}

/** The flags for a load (without the target). */
export function simArgs(load: SimLoad, seed: number): string[] {
  const args = [
    '--lean',
    '--json',
    '--transport',
    load.transport,
    '--connections',
    String(load.connections),
    '--batch',
    String(load.batch),
    '--inflight',
    String(load.inflight),
    '--duration',
    String(load.durationS),
    '--pans',
    String(load.pans),
    '--seed',
    String(seed),
  ];
  if (!load.coalesce) args.push('--no-coalesce');
  if (load.ratePerS !== undefined) args.push('--rate', String(load.ratePerS));
  if (load.skew !== undefined) args.push('--skew', String(load.skew));
  if (load.prefix !== undefined) args.push('--prefix', load.prefix);
  return args;
}

const CLEAR_TO_END_OF_LINE = '\x1b[K';
/** How the simulator's progress lines start (src/sim/stats.ts formatProgressLine); its notes start with "sim:". */
const PROGRESS_LINE_START = 'sent ';

function isSummary(value: unknown): value is SimSummary {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SimSummary>;
  return (
    typeof v.answered === 'number' &&
    typeof v.achievedRatePerS === 'number' &&
    typeof v.latencyMs === 'object'
  );
}

/**
 * Runs the simulator CLI as its own process against `target`, passing its
 * progress line through (in place on a terminal, one line per second
 * otherwise), and returns its --json summary with the CPU each process used.
 * `onProgress` gets each progress line too (the first comes a second into
 * the load).
 */
export async function runSim(
  target: SimTarget,
  load: SimLoad,
  label: string,
  seed: number,
  watched: Readonly<Record<string, number>>,
  onProgress?: (line: string) => void,
): Promise<SimRun> {
  const endpoint = target.listen[load.transport];
  const args = [
    'dist/src/cli/main.js',
    'sim',
    'acquirer',
    '--host',
    endpoint.host,
    '--port',
    String(endpoint.port),
    '--institution',
    target.acquirer.institution,
    '--secret-key',
    target.acquirer.secretKeyBase64,
    ...simArgs(load, seed),
  ];
  const tty = process.stderr.isTTY === true;
  const lines: string[] = [];
  const cpuBefore = new Map<string, number | undefined>();
  for (const [name, pid] of Object.entries(watched)) cpuBefore.set(name, cpuTimeMs(pid));
  const t0 = performance.now();
  const tracked = spawnTracked(process.execPath, args, {
    onLine: (line) => lines.push(line),
    onErrLine: (line) => {
      if (line.trim() === '') return;
      if (line.startsWith(PROGRESS_LINE_START)) onProgress?.(line);
      process.stderr.write(tty ? `\r  ${label}: ${line}${CLEAR_TO_END_OF_LINE}` : `  ${label}: ${line}\n`);
    },
  });
  const exit = await tracked.exited;
  const wallMs = performance.now() - t0;
  if (tty) process.stderr.write(`\r${CLEAR_TO_END_OF_LINE}`);
  const cpuMs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(watched)) {
    const before = cpuBefore.get(name);
    const after = cpuTimeMs(pid);
    if (before !== undefined && after !== undefined) cpuMs[name] = after - before;
  }
  const summary = jsonSummary(tracked, exit, lines, isSummary, `simulator (${label})`);
  if (summary.cpuMs !== undefined) cpuMs.sim = summary.cpuMs.user + summary.cpuMs.system;
  return { summary, wallMs, cpuMs };
}
