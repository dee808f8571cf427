import { spawn } from 'node:child_process';
import type { ExitInfo } from './processes.js';
import { repoRoot, terminate, trackChild } from './processes.js';
import { type RedisHandle, startRedis } from './redis-server.js';
import { type StartOptions, type SwitchProcess, startSwitch } from './switch-process.js';

/**
 * One Redis and a switch that can be stopped and started again against the same Redis (same
 * config, new temp dir and ports), to test what survives a restart. Every switch process it ever
 * started is kept, so a test can inspect all their output.
 */
export class RestartableStack {
  private current: SwitchProcess;
  readonly generations: SwitchProcess[];

  private constructor(
    readonly redis: RedisHandle,
    first: SwitchProcess,
    private readonly options: StartOptions,
  ) {
    this.current = first;
    this.generations = [first];
  }

  static async start(options: StartOptions = {}): Promise<RestartableStack> {
    const redis = await startRedis();
    const withRedis: StartOptions = {
      ...options,
      config: { ...options.config, redis: { url: redis.url } },
    };
    try {
      return new RestartableStack(redis, await startSwitch(withRedis), withRedis);
    } catch (e) {
      await redis.stop();
      throw e;
    }
  }

  get sw(): SwitchProcess {
    return this.current;
  }

  /**
   * Stops the running switch (SIGTERM, or kill -9 with `crash`; its exit is returned), then starts a
   * new one on the same Redis.
   */
  async restart(crash = false): Promise<ExitInfo> {
    const exit = crash ? await this.current.kill9() : await this.current.stop();
    this.current = await startSwitch(this.options);
    this.generations.push(this.current);
    return exit;
  }

  /** Every stdout and stderr line of every generation. */
  allOutput(): string {
    return this.generations.flatMap((g) => [...g.stdout, ...g.stderr]).join('\n');
  }

  /** Stops every switch, then Redis; removes temp dirs. Idempotent. */
  async dispose(): Promise<void> {
    for (const g of this.generations) await g.dispose();
    await this.redis.stop();
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/src/cli/main.js ...args`; killed (by its PID) after `timeoutMs`. */
export async function runCli(args: readonly string[], timeoutMs = 30_000): Promise<CliResult> {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  // 'close' comes after the exit and after both pipes have ended: all output is in.
  const closed = new Promise<ExitInfo>((r) => {
    child.once('close', (code, signal) => r({ code, signal }));
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), timeoutMs);
  });
  const first = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (first === 'timeout') await terminate(child, 'SIGKILL', 5000);
  const exit = await closed;
  return { code: exit.code, signal: exit.signal, stdout, stderr };
}
