import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LogFields, Logger } from '../../src/observability/log.js';
import { createLogger } from '../../src/observability/log.js';
import { REDACTED, scrubText } from '../../src/observability/log-redact.js';
import { maskPan } from '../../src/util/pan.js';
import { formatTable, type MicroResult, measure } from '../harness/micro.js';

/**
 * The logger's costs, and pino's for the same lines, to choose between them
 * (issue 15, item 7). Run after a build:
 *
 *   npm i --no-save pino      # optional: without it only switchyard's logger is measured
 *   node --expose-gc --max-semi-space-size=64 dist/bench/scenarios/log.bench.js > /dev/null
 *
 * Results go to stderr; stdout is the sink of the "to stdout" rows, so send
 * it to /dev/null (or a file) to time the write itself rather than a terminal.
 *
 * - typical line: a child logger's info line with four short fields, formatted
 *   into a sink that keeps the last line (formatting cost alone);
 * - error line: an Error with a code and a cause (stack and cause written);
 * - PAN in a string: a Redis error message holding an account key (the
 *   safety net masks it);
 * - disabled debug: a debug call with a fields literal at level info (the hot
 *   path's price for a debug line that is off);
 * - bytes allocated per typical line (needs --expose-gc and a young generation
 *   large enough that no scavenge runs inside the window).
 *
 * pino is set up for the same output: ISO time, level as a label, no pid or
 * hostname, `redact` for pan (masked by a censor function) and the secret
 * names, an Error serialiser for `error`, and a `formatters.log` hook that
 * walks the fields to mask Luhn-valid digit runs (pino's redact matches
 * paths, not values, so the safety net needs that hook). "pino bare" is pino
 * with none of it: the ceiling pino gives when nothing is scrubbed.
 */

/** The two calls measured, with switchyard's argument order. */
type Calls = Pick<Logger, 'info' | 'debug'>;

interface Candidate {
  readonly name: string;
  /** Formats into a sink that keeps the last line. */
  readonly toMemory: Calls;
  /** Writes to fd 1 as it would in production. */
  readonly toStdout: Calls;
}

interface PinoLogger {
  info(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
  child(bindings: object): PinoLogger;
}

interface Pino {
  (options: object, destination: unknown): PinoLogger;
  readonly stdTimeFunctions: { readonly isoTime: unknown };
  readonly stdSerializers: { readonly errWithCause: unknown };
  destination(options: object): unknown;
}

/**
 * pino's argument order is (fields, msg). debug is measured only disabled,
 * where pino's method is its shared no-op: taken as is, so a wrapper's cost
 * is not charged to pino.
 */
function adapt(p: PinoLogger): Calls {
  return {
    info: (msg, fields) => p.info(fields ?? {}, msg),
    debug: p.debug as unknown as Calls['debug'],
  };
}

let lastLine = '';
const memorySink = (line: string): void => {
  lastLine = line;
};

const TYPICAL: LogFields = {
  remote: '127.0.0.1:54321',
  institution: 'acq-1',
  role: 'acquirer',
  transport: 'tcp',
};
const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
const ERROR: LogFields = {
  workerId: 1,
  error: Object.assign(new Error('commit failed', { cause }), { code: 'SWITCHYARD_COMMIT' }),
};
const PAN_IN_STRING: LogFields = {
  shard: 17,
  reason: 'WRONGTYPE Operation against a key holding the wrong kind of value: sy:{17:a:4000001234567899',
};

function ours(name: string): Candidate {
  return {
    name,
    toMemory: createLogger('info', memorySink).child({ worker: 1 }),
    toStdout: createLogger('info').child({ worker: 1 }),
  };
}

async function pinoCandidates(): Promise<Candidate[]> {
  // A variable specifier: pino is not a dependency, only a candidate measured when installed.
  const specifier = 'pino';
  let pino: Pino;
  try {
    pino = ((await import(specifier)) as { default: Pino }).default;
  } catch {
    process.stderr.write('pino not installed (npm i --no-save pino): measuring switchyard only\n');
    return [];
  }
  const memory = { write: memorySink };
  const secrets = ['token', 'key', 'secret', 'sig', 'password'];
  const redactPaths = ['pan', '*.pan', ...secrets, ...secrets.map((s) => `*.${s}`)];
  const full = (dest: unknown): Calls =>
    adapt(
      pino(
        {
          level: 'info',
          base: undefined,
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: {
            level: (label: string) => ({ level: label }),
            log: (fields: Record<string, unknown>) => scrubDeep(fields, 0) as Record<string, unknown>,
          },
          serializers: { error: pino.stdSerializers.errWithCause },
          redact: {
            paths: redactPaths,
            censor: (value: unknown, path: string[]) =>
              path[path.length - 1] === 'pan' ? maskPan(String(value)) : REDACTED,
          },
        },
        dest,
      ).child({ worker: 1 }),
    );
  const bare = (dest: unknown): Calls =>
    adapt(
      pino({ level: 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, dest).child({
        worker: 1,
      }),
    );
  return [
    {
      name: 'pino, same redaction',
      toMemory: full(memory),
      toStdout: full(pino.destination({ sync: true })),
    },
    { name: 'pino bare', toMemory: bare(memory), toStdout: bare(pino.destination({ sync: true })) },
  ];
}

/** What the formatters.log hook must do for pino to match the safety net: copy and scrub every string. */
function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null || depth > 8 || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = scrubDeep(item, depth + 1);
  return out;
}

/** Bytes allocated per call, or undefined when it cannot be measured cleanly (no gc, or a scavenge ran). */
function allocatedPerCall(fn: () => void, calls: number): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  for (let i = 0; i < 1_000; i++) fn();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < calls; i++) fn();
  const after = process.memoryUsage().heapUsed;
  return after > before ? (after - before) / calls : undefined;
}

/** Every row for one candidate; measured in a process of its own (see runLogBench). */
async function measureCandidate(name: string, durationMs: number): Promise<CandidateResult> {
  const c = [ours('switchyard'), ...(await pinoCandidates())].find((candidate) => candidate.name === name);
  if (c === undefined) throw new Error(`no candidate ${name}`);
  const m = c.toMemory;
  const s = c.toStdout;
  const rows = [
    measure(`${c.name}: typical line`, 1, () => m.info('signed on', TYPICAL), durationMs),
    measure(`${c.name}: error line`, 1, () => m.info('commit failed', ERROR), durationMs),
    measure(`${c.name}: PAN in a string`, 1, () => m.info('state unreadable', PAN_IN_STRING), durationMs),
    measure(
      `${c.name}: disabled debug`,
      1,
      () => m.debug('record sweep pass', { accounts: 1, swept: 2 }),
      durationMs,
    ),
    measure(`${c.name}: typical line to stdout`, 1, () => s.info('signed on', TYPICAL), durationMs),
  ];
  const bytesPerLine = allocatedPerCall(() => m.info('signed on', TYPICAL), 20_000);
  m.info('signed on', TYPICAL);
  return { rows, bytesPerLine: bytesPerLine ?? null, line: lastLine.trimEnd() };
}

interface CandidateResult {
  readonly rows: MicroResult[];
  readonly bytesPerLine: number | null;
  readonly line: string;
}

/**
 * Each candidate runs in a fresh process: measured in one process, the
 * shared call sites of the benchmark turn polymorphic after the first
 * candidate, and whichever runs second pays for it (a disabled debug call
 * measured 2 ns first and 11-22 ns second, for either logger).
 */
export async function runLogBench(durationMs: number): Promise<string> {
  const names = ['switchyard', ...(await pinoCandidates()).map((c) => c.name)];
  const results: MicroResult[] = [];
  const allocation: string[] = [];
  const lines: string[] = [];
  for (const name of names) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), CANDIDATE_FLAG, name],
      { stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, LOG_BENCH_MS: String(durationMs) } },
    );
    const text = child.stderr.toString();
    const marker = text.lastIndexOf(RESULT_MARKER);
    if (child.status !== 0 || marker < 0) throw new Error(`candidate ${name} failed: ${text}`);
    const result = JSON.parse(text.slice(marker + RESULT_MARKER.length)) as CandidateResult;
    results.push(...result.rows);
    const bytes = result.bytesPerLine;
    allocation.push(`| ${name} | ${bytes === null ? 'n/a (run with --expose-gc)' : Math.round(bytes)} |`);
    lines.push(`${name}: ${result.line}`);
  }
  return [
    formatTable(results),
    '',
    '| logger | bytes allocated per typical line |',
    '|---|---:|',
    ...allocation,
    '',
    'one typical line:',
    ...lines,
  ].join('\n');
}

const CANDIDATE_FLAG = '--candidate';
const RESULT_MARKER = '\nlog-bench-result:';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const durationMs = Number(process.env['LOG_BENCH_MS'] ?? 1_000);
  const at = process.argv.indexOf(CANDIDATE_FLAG);
  // Results to stderr: stdout is what the "to stdout" rows write to.
  if (at >= 0) {
    const result = await measureCandidate(process.argv[at + 1] ?? '', durationMs);
    process.stderr.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
  } else process.stderr.write(`${await runLogBench(durationMs)}\n`);
}
