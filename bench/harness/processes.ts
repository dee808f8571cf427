import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Child processes and temp dirs of one bench run. Everything started here is
 * tracked by PID and killed (and every temp dir removed) when the run ends,
 * fails or is interrupted.
 */

/** The repository root (this file runs from dist/bench/harness/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping the processes it started\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

export function makeTempDir(prefix: string): string {
  installHooks();
  const dir = mkdtempSync(join(tmpdir(), `switchyard-bench-${prefix}-`));
  liveDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Tracked {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  /** The last lines of stderr (and stdout lines nobody consumed), for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process has exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const TAIL_LINES = 40;

/** Spawns a tracked child; `onLine` gets each stdout line, `onErrLine` each stderr line. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions & {
    readonly onLine?: (line: string) => void;
    readonly onErrLine?: (line: string) => void;
  } = {},
): Tracked {
  installHooks();
  const { onLine, onErrLine, ...spawnOptions } = options;
  const child = spawn(command, [...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...spawnOptions,
  });
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  liveChildren.add(child);
  const tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolveExit({ code, signal });
    });
    child.once('error', () => {
      liveChildren.delete(child);
      resolveExit({ code: null, signal: null });
    });
  });
  readLines(child.stdout, (line) => (onLine ?? keep)(line));
  readLines(child.stderr, (line) => {
    keep(line);
    onErrLine?.(line);
  });
  const stop = async (graceMs = 10_000): Promise<ExitInfo> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const first = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    child.kill('SIGKILL');
    return exited;
  };
  return { child, pid: child.pid, exited, tail: () => tail.join('\n'), stop };
}

function readLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (rest.length > 0) onLine(rest);
  });
}

/**
 * A simulator's `--json` summary: its last stdout line, when it exited 0
 * and `is` accepts the line; otherwise an error with what it printed.
 */
export function jsonSummary<T>(
  tracked: Tracked,
  exit: ExitInfo,
  lines: readonly string[],
  is: (value: unknown) => value is T,
  what: string,
): T {
  let summary: unknown;
  try {
    summary = JSON.parse(lines[lines.length - 1] ?? '');
  } catch {
    summary = undefined;
  }
  if (exit.code !== 0 || !is(summary)) {
    throw new Error(
      `${what} failed (exit ${exit.code ?? exit.signal}): ${tracked.tail()}\n${lines.join('\n')}`,
    );
  }
  return summary;
}

/** Resolves with `value` from the first stdout JSON line for which `pick` returns one. */
export function waitForLine<T>(
  tracked: Tracked,
  lines: { on(listener: (line: string) => void): void },
  pick: (parsed: unknown) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what}: not ready within ${timeoutMs} ms\n${tracked.tail()}`)),
      timeoutMs,
    );
    void tracked.exited.then((info) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${what} exited before ready (code ${info.code}, signal ${info.signal})\n${tracked.tail()}`,
        ),
      );
    });
    lines.on((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      const value = pick(parsed);
      if (value !== undefined) {
        clearTimeout(timer);
        resolvePromise(value);
      }
    });
  });
}

/** A broadcast of stdout lines, so a waiter can be attached after spawning. */
export class LineFeed {
  private readonly listeners: ((line: string) => void)[] = [];
  readonly push = (line: string): void => {
    for (const listener of this.listeners) listener(line);
  };
  on(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }
}

export { freePort } from '../../src/util/free-port.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CLOCK_TICKS_PER_S = 100;

/**
 * CPU time (user + system, ms) a process and all its threads have used, from
 * /proc/<pid>/stat; undefined where there is no /proc or the process is gone.
 * Linux reports it in clock ticks, 100 per second on every common kernel.
 */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the name start at state (field 3); utime is field 14, stime 15.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}
