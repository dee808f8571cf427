/**
 * promtool (Debian's `prometheus` package) run as a child process: `check metrics` on a
 * text exposition, `check rules` and `test rules` on rule files and their unit tests.
 */
import { spawn } from 'node:child_process';
import { repoRoot, terminate, trackChild } from './processes.js';

export interface PromtoolResult {
  /** Exit status: 0 when promtool found no problem. */
  readonly code: number | null;
  /** stdout and stderr together, in arrival order: where promtool names the problems. */
  readonly output: string;
}

/** Runs `promtool ...args` in the repository root, `stdin` written to it; killed by its PID after `timeoutMs`. */
export async function promtool(
  args: readonly string[],
  stdin = '',
  timeoutMs = 30_000,
): Promise<PromtoolResult> {
  const child = spawn('promtool', [...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
  }
  // promtool may exit before it reads all of stdin (a usage error): that is its answer, not ours.
  child.stdin.on('error', () => {});
  child.stdin.end(stdin);
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const first = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (first === 'timeout') {
    await terminate(child, 'SIGKILL', 5_000);
    return { code: null, output: `${output}\npromtool killed after ${timeoutMs} ms` };
  }
  return { code: first, output };
}

/**
 * The families of a Prometheus text exposition whose names start with `prefix`: their HELP,
 * TYPE and sample lines, in order (the rest, such as Node's process metrics, left out).
 */
export function familiesWithPrefix(exposition: string, prefix: string): string {
  const kept = exposition.split('\n').filter((line) => {
    const name = line.startsWith('# ') ? (line.split(' ')[2] ?? '') : line;
    return name.startsWith(prefix);
  });
  return `${kept.join('\n')}\n`;
}
