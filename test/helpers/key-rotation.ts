/**
 * What the key rotation tests share: the `switchyard keys` command on a key file, a switch's
 * JSON log lines, the end of a rotation job, and GET /keys/usage's answer
 * (docs/security.md "Rotation", docs/protocol.md section 6).
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { admin } from './harness.js';
import { repoRoot } from './processes.js';
import type { SwitchProcess } from './switch-process.js';

/** Runs `switchyard keys ...args`, expecting exit 0. */
export function keysCli(...args: string[]): void {
  const result = spawnSync(process.execPath, ['dist/src/cli/main.js', 'keys', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  expect(result.status, `keys ${args.join(' ')}: ${result.stderr}`).toBe(0);
}

/** The switch's JSON log lines with message `msg`, in order. */
export function logLines(sw: SwitchProcess, msg: string): Record<string, unknown>[] {
  return sw.stdout
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['msg'] === msg);
}

/** The log line of rotation job `job` done in `sw`, once there is one. */
export function jobDone(sw: SwitchProcess, job: string): Record<string, unknown> | undefined {
  return logLines(sw, 'key rotation job done').find((entry) => entry['job'] === job);
}

export interface UsageAnswer {
  dataKeys: Record<string, { identities: number; advices: number; retirable: boolean; current: boolean }>;
  tokenKeys: Record<
    string,
    {
      accounts: number;
      journalRecordsUnpassed: number;
      holdBucketMembers: number;
      aliases: number;
      retirable: boolean;
    }
  >;
  accounts: number;
  unreadableAccounts: number;
  advices: number;
  unreadableAdvices: number;
  jobs: Record<string, string>;
}

/** GET /keys/usage, expecting 200. */
export async function usage(sw: SwitchProcess, token: string): Promise<UsageAnswer> {
  const answer = await admin(sw, 'GET', '/keys/usage', { token });
  expect(answer.status, answer.text).toBe(200);
  return answer.json as UsageAnswer;
}
