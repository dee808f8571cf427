import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in test/helpers/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Last-resort cleanup: if the test process exits while children or temp dirs are still
// around (a crashed hook, an unhandled error), kill the children by PID and remove the dirs.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
/** redis-servers the switches under test started (grandchildren: a SIGKILLed switch cannot stop its own). */
const liveRedisPids = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const pid of liveRedisPids) killRedisServer(pid);
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Remembers a redis-server a switch under test started, to kill if the switch leaves it behind. */
export function trackRedisPid(pid: number): void {
  installExitHook();
  liveRedisPids.add(pid);
}

/**
 * SIGKILLs `pid` if it is still a redis-server (a switch that was killed, or
 * whose data directory went away, cannot stop its own), and forgets it. The
 * command line is checked first: a pid, once free, may be any process's.
 */
export function killRedisServer(pid: number): void {
  liveRedisPids.delete(pid);
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes('redis-server')) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

export function trackChild(child: ChildProcess): void {
  installExitHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

export function trackDir(dir: string): void {
  installExitHook();
  liveDirs.add(dir);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (immediately if it already has). */
export function exitOf(child: ChildProcess): Promise<ExitInfo> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolvePromise) => {
    child.once('exit', (code, signal) => resolvePromise({ code, signal }));
  });
}

/** Sends `signal`, waits up to `graceMs` for exit, then SIGKILLs and waits again. */
export async function terminate(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<ExitInfo> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), graceMs);
  });
  const first = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (first !== 'timeout') return first;
  child.kill('SIGKILL');
  return exited;
}

/** True while a process with this PID exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A reparented child that nobody reaped is a zombie: it no longer runs.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The deadline for a wait on something that should happen soon: a message, a close, a metric,
 * a process going away. Generous on purpose: with other CPU-heavy processes on two cores, a
 * switch, its workers, redis and the test runner can each be off the CPU for seconds. A wait
 * that succeeds returns as soon as its condition holds, so the bound only costs time when the
 * test fails anyway. Never use it for a wait that expects nothing to happen.
 */
export const EVENTUALLY_MS = 20_000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
