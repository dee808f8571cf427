import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SwitchConfig } from '../../src/config/types.js';
import { NODE_FLAG_NO_MEMORY_REDUCER } from '../../src/runtime/gc-tuning.js';
import {
  type ExitInfo,
  exitOf,
  killRedisServer,
  removeDir,
  repoRoot,
  terminate,
  trackChild,
  trackDir,
  trackRedisPid,
} from './processes.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ListenInfo {
  readonly tcp?: Endpoint;
  readonly ws?: Endpoint;
  readonly admin?: Endpoint;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Any key may be overridden; `undefined` removes a key from the defaults. */
export type ConfigOverrides = {
  [K in keyof SwitchConfig]?: SwitchConfig[K] extends readonly unknown[]
    ? SwitchConfig[K]
    : SwitchConfig[K] extends object
      ? { [P in keyof SwitchConfig[K]]?: SwitchConfig[K][P] | undefined }
      : SwitchConfig[K];
};

export interface StartOptions {
  /** Merged (two levels deep; arrays replaced) over the test defaults. */
  readonly config?: ConfigOverrides;
  /** Bound for the ready line (default 40 s). */
  readonly readyTimeoutMs?: number;
  /** Environment variables set for the switch on top of this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface SwitchProcess {
  readonly pid: number;
  readonly dir: string;
  readonly configPath: string;
  readonly config: Mutable<Partial<SwitchConfig>>;
  readonly listen: ListenInfo;
  /** Every stdout / stderr line so far (kept after exit). */
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** SIGTERM, wait up to `graceMs` (default 15 s), then SIGKILL. */
  stop(graceMs?: number): Promise<ExitInfo>;
  kill9(): Promise<ExitInfo>;
  /** stop() if still running, then remove the temp dir. Idempotent; safe in afterAll. */
  dispose(): Promise<void>;
}

export const TEST_SWITCH_ID = 'switchyard-test';
const DEV_KEY_FILE = fileURLToPath(new URL('../../config/dev-data-keys.json', import.meta.url));

function defaults(dir: string): Mutable<Partial<SwitchConfig>> {
  return {
    switchId: TEST_SWITCH_ID,
    listen: {
      tcp: { host: '127.0.0.1', port: 0 },
      ws: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
    },
    redis: {},
    admin: { token: 'test-admin-token-0123456789abcdef' },
    institutions: [],
    routes: [{ prefix: '4', issuer: 'local' }],
    // Looser than the product defaults would need: a test that signs on byte by byte, or a runner
    // starved of CPU for seconds, must not be cut off. Tests of these timers set their own.
    signonTimeoutMs: 15_000,
    heartbeatMs: 30_000,
    clearing: {
      cycleMs: 86_400_000,
      outDir: join(dir, 'clearing'),
      worker: true,
      journalRetentionMs: 35 * 86_400_000,
    },
    dataDir: join(dir, 'data'),
    // The demo's development keys: every switch a test starts on one Redis (a restart, a
    // second process) reads what the others wrote, and tests find accounts with devRefs
    // (test-keys.ts). Tests of the generated key file set `keys: undefined`.
    keys: { file: DEV_KEY_FILE },
    workers: 1,
    log: { level: 'info' },
  };
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (value === undefined) {
      delete out[key];
    } else if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current)
    ) {
      out[key] = merge(current as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function lineReader(stream: NodeJS.ReadableStream | null, sink: string[], onLine: (line: string) => void) {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      sink.push(line);
      onLine(line);
      nl = rest.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (rest.length > 0) sink.push(rest);
  });
}

function parseReady(line: string): ListenInfo | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const entry = parsed as { msg?: unknown; listen?: unknown };
  if (entry.msg !== 'switch ready' || typeof entry.listen !== 'object' || entry.listen === null) {
    return undefined;
  }
  return entry.listen as ListenInfo;
}

/**
 * Writes a temp config (all ports 0) and starts `node --no-memory-reducer dist/src/cli/main.js
 * start --config FILE` (the command docs/operations.md gives, flag included: what the switch
 * starts inside it must live with node's flags), resolving once it logs `"msg":"switch ready"`. On any failure the process is killed and the temp
 * dir removed before the error propagates.
 */
export async function startSwitch(options: StartOptions = {}): Promise<SwitchProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-switch-'));
  trackDir(dir);
  const config = merge(defaults(dir), (options.config ?? {}) as Record<string, unknown>);
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const child: ChildProcess = spawn(
    process.execPath,
    [NODE_FLAG_NO_MEMORY_REDUCER, 'dist/src/cli/main.js', 'start', '--config', configPath],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  trackChild(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = exitOf(child);

  let onReady: (listen: ListenInfo) => void = () => {};
  const ready = new Promise<ListenInfo>((r) => {
    onReady = r;
  });
  const redisPids: number[] = [];
  lineReader(child.stdout, stdout, (line) => {
    const listen = parseReady(line);
    if (listen) onReady(listen);
    const redisPid = startedRedisPid(line);
    if (redisPid !== undefined) {
      redisPids.push(redisPid);
      trackRedisPid(redisPid);
    }
  });
  lineReader(child.stderr, stderr, () => {});

  let disposed = false;
  const stop = (graceMs = 15_000) => terminate(child, 'SIGTERM', graceMs);
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await terminate(child, 'SIGTERM', 15_000);
    // A switch stops its private redis-server itself; one it left behind (killed, or its
    // data directory gone) must not outlive the test.
    for (const pid of redisPids) killRedisServer(pid);
    removeDir(dir);
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 40_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready,
    exited.then((e) => new Error(`switch exited before ready (code ${e.code}, signal ${e.signal})`)),
    new Promise<Error>((r) => {
      timer = setTimeout(() => r(new Error(`switch not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome instanceof Error) {
    await dispose();
    const tail = (lines: string[]) => lines.slice(-40).join('\n');
    throw new Error(`${outcome.message}\n--- stdout ---\n${tail(stdout)}\n--- stderr ---\n${tail(stderr)}`);
  }

  return {
    pid: child.pid ?? -1,
    dir,
    configPath,
    config: config as Mutable<Partial<SwitchConfig>>,
    listen: outcome,
    stdout,
    stderr,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    stop,
    kill9: () => terminate(child, 'SIGKILL', 5000),
    dispose,
  };
}

/** The pid in the switch's "started a private redis-server" log line, if `line` is that line. */
function startedRedisPid(line: string): number | undefined {
  if (!line.includes('"started a private redis-server')) return undefined;
  try {
    const pid = (JSON.parse(line) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}
