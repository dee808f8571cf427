import { type CommandSpec, type ParsedCommand, parseCommand, UsageError } from '../util/parse-command.js';
import {
  CONNECTION_OPTIONS,
  connectionUsage,
  parseSimConnection,
  type SimConnectionOptions,
} from './connection-args.js';
import type { IssuerBehaviour } from './issuer-policy.js';
import { LATENCY_MS_MAX } from './latency-distribution.js';

const ISSUER_COMMAND = 'switchyard sim issuer';

export const ISSUER_SIM_USAGE = `usage: switchyard sim issuer [options]

Signs on as an issuer and answers the requests the switch forwards, and
acknowledges its advices, until --duration or Ctrl-C; then prints a summary.

${connectionUsage('issuer')}
Answers:
  --connections C          sign on C times (default 1)
  --latency-ms P50[,P99]   answer delay: fixed, or log-normal with that median and 99th percentile (default 0)
  --decline-ratio R        share of requests declined, 0..1 (default 0)
  --decline-rc LIST        the codes declines pick from, comma separated (default 05,51)
  --partial-ratio R        share of approvals answered 10 for half the amount, when the request allows
                           partial approval (default 0)

Misbehaviour:
  --silent                 answer no request (advices are still acknowledged unless --no-ack)
  --slow-ms N              add N ms to every answer
  --late-ratio R           share of answers sent --late-ms after the request instead
  --late-ms N              default: issuerTimeoutMs + 1000 (the config's, else the contract's 2000)
  --twice-ratio R          share of answers sent twice
  --drop-after N           drop a connection (no sign-off) when it has brought N requests, the last
                           unanswered; the simulator reconnects with back-off and counts again
  --no-ack                 acknowledge no advice (the switch repeats them)

Run:
  --duration S             stop after S seconds (default: run until Ctrl-C)
  --seed N                 seeds every random choice (default: from the clock; printed in the summary)
  --json                   final summary as one JSON line on stdout
  --quiet                  no progress line on stderr
  --help                   this text
`;

/** A bad `sim issuer` command line, or `help` for --help (message = usage). */
export class IssuerSimArgsError extends UsageError {
  override readonly name = 'IssuerSimArgsError';
  constructor(problem: string, help = false) {
    super({ name: ISSUER_COMMAND, usage: ISSUER_SIM_USAGE }, problem, help);
  }
}

export interface IssuerSimOptions {
  readonly connection: SimConnectionOptions;
  readonly connections: number;
  readonly behaviour: IssuerBehaviour;
  readonly durationS: number | undefined;
  readonly seed: number;
  readonly json: boolean;
  readonly progress: boolean;
  /** Install a SIGINT handler (first Ctrl-C drains and summarises, second closes at once). */
  readonly handleSigint: boolean;
  /** Embedding and tests: stop as on Ctrl-C. */
  readonly signal?: AbortSignal;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly progressIntervalMs?: number;
}

const ISSUER_SPEC: CommandSpec = {
  name: ISSUER_COMMAND,
  usage: ISSUER_SIM_USAGE,
  options: {
    ...CONNECTION_OPTIONS,
    connections: 'string',
    'latency-ms': 'string',
    'decline-ratio': 'string',
    'decline-rc': 'string',
    'partial-ratio': 'string',
    silent: 'boolean',
    'slow-ms': 'string',
    'late-ratio': 'string',
    'late-ms': 'string',
    'twice-ratio': 'string',
    'drop-after': 'string',
    'no-ack': 'boolean',
    duration: 'string',
    seed: 'string',
    json: 'boolean',
    quiet: 'boolean',
    help: 'boolean',
  },
  makeError: (problem, help) => new IssuerSimArgsError(problem, help),
};

/** Connect steps (challenge, sign-on answer) and sign-off: the SDK's default. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Late answers, by default, come this long after the switch has given up on them. */
const LATE_AFTER_TIMEOUT_MS = 1_000;
/** The contract's default issuerTimeoutMs (docs/protocol.md section 4), when no config says otherwise. */
const DEFAULT_ISSUER_TIMEOUT_MS = 2_000;
/** Approvals, not declines: a decline code list holding them would make --decline-ratio approve. */
const APPROVAL_RCS = new Set(['00', '10']);
const DEFAULT_DECLINE_RCS = ['05', '51'];
/** Options that shape answers: meaningless when --silent sends none. */
const ANSWER_OPTIONS = [
  'latency-ms',
  'slow-ms',
  'decline-ratio',
  'decline-rc',
  'partial-ratio',
  'late-ratio',
  'late-ms',
  'twice-ratio',
];

function ratio(flags: ParsedCommand, name: string): number {
  return flags.number(name, { min: 0, max: 1, integer: false }) ?? 0;
}

/** `P50` or `P50,P99`, in ms. */
function parseLatency(flags: ParsedCommand): { p50Ms: number; p99Ms: number } {
  const raw = flags.string('latency-ms');
  if (raw === undefined) return { p50Ms: 0, p99Ms: 0 };
  const parts = raw.split(',');
  const values = parts.map((part) => Number(part));
  if (
    parts.length > 2 ||
    parts.some((part) => part.trim() === '') ||
    values.some((v) => !Number.isFinite(v) || v < 0 || v > LATENCY_MS_MAX)
  ) {
    throw flags.error(
      `--latency-ms must be P50 or P50,P99 in ms, each 0..${LATENCY_MS_MAX}, got ${JSON.stringify(raw)}`,
    );
  }
  const p50Ms = values[0]!;
  const p99Ms = values[1] ?? p50Ms;
  if (p99Ms < p50Ms) throw flags.error('--latency-ms: P99 must not be below P50');
  if (p99Ms > p50Ms && p50Ms === 0) throw flags.error('--latency-ms: a distribution needs a P50 above 0');
  return { p50Ms, p99Ms };
}

function parseDeclineRcs(flags: ParsedCommand): string[] {
  const raw = flags.string('decline-rc');
  if (raw === undefined) return DEFAULT_DECLINE_RCS;
  const rcs = raw.split(',');
  for (const rc of rcs) {
    if (!/^[0-9A-Z]{2}$/.test(rc))
      throw flags.error(`--decline-rc: ${JSON.stringify(rc)} is not a two-character code`);
    if (APPROVAL_RCS.has(rc)) throw flags.error(`--decline-rc: ${rc} is an approval, not a decline`);
  }
  return rcs;
}

/** Parses `switchyard sim issuer` arguments; reads the config and key files named. Throws IssuerSimArgsError. */
export function parseIssuerSimArgs(argv: readonly string[]): IssuerSimOptions {
  const flags = parseCommand(ISSUER_SPEC, argv);
  const { connection, issuerTimeoutMs } = parseSimConnection(flags, 'issuer', REQUEST_TIMEOUT_MS);

  const silent = flags.has('silent');
  if (silent) {
    const shaping = ANSWER_OPTIONS.find((name) => flags.has(name));
    if (shaping !== undefined) throw flags.error(`--${shaping} shapes answers, and --silent sends none`);
  }
  const lateRatio = ratio(flags, 'late-ratio');
  const explicitLateMs = flags.number('late-ms', { min: 0, max: LATENCY_MS_MAX, integer: false });
  if (explicitLateMs !== undefined && !flags.has('late-ratio'))
    throw flags.error('--late-ms needs --late-ratio');

  return {
    connection,
    connections: flags.number('connections', { min: 1, max: 1_024, integer: true }) ?? 1,
    behaviour: {
      latency: parseLatency(flags),
      slowMs: flags.number('slow-ms', { min: 0, max: LATENCY_MS_MAX, integer: false }) ?? 0,
      declineRatio: ratio(flags, 'decline-ratio'),
      declineRcs: parseDeclineRcs(flags),
      partialRatio: ratio(flags, 'partial-ratio'),
      silent,
      lateRatio,
      lateMs: explicitLateMs ?? (issuerTimeoutMs ?? DEFAULT_ISSUER_TIMEOUT_MS) + LATE_AFTER_TIMEOUT_MS,
      twiceRatio: ratio(flags, 'twice-ratio'),
      dropAfter: flags.number('drop-after', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
      acknowledgeAdvices: !flags.has('no-ack'),
    },
    durationS: flags.number('duration', { min: 0.001, max: 31_536_000, integer: false }),
    seed: flags.number('seed', { min: 0, max: 0xffff_ffff, integer: true }) ?? Date.now() >>> 0,
    json: flags.has('json'),
    progress: !flags.has('quiet'),
    handleSigint: true,
  };
}
