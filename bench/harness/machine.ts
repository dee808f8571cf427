import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { repoRoot } from './processes.js';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly redis: string;
}

export interface Revision {
  /** `git rev-parse HEAD`, or "unknown" outside a git checkout. */
  readonly commit: string;
  /** Uncommitted changes in the working tree when the run started. */
  readonly dirty: boolean;
}

function run(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, [...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

export function describeMachine(): Machine {
  const redisLine = run('redis-server', ['--version']) ?? '';
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${release()}`,
    node: process.version,
    redis: /v=([^\s]+)/.exec(redisLine)?.[1] ?? 'unknown',
  };
}

/** Read-only git: the commit measured and whether the tree had local changes. */
export function describeRevision(): Revision {
  const commit = run('git', ['rev-parse', 'HEAD'])?.trim();
  const status = run('git', ['status', '--porcelain', '--untracked-files=no']);
  return {
    commit: commit === undefined || commit === '' ? 'unknown' : commit,
    dirty: (status ?? '').trim() !== '',
  };
}
