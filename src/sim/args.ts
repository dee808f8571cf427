import { type CommandSpec, parseCommand, UsageError } from '../util/parse-command.js';
import {
  CONNECTION_OPTIONS,
  connectionUsage,
  parseSimConnection,
  type SimConnectionOptions,
} from './connection-args.js';
import { SIM_PAN_DIGITS, type SkewOptions } from './request-factory.js';

export const SIM_USAGE = `usage: switchyard sim acquirer [options]

${connectionUsage('acquirer')}
Load:
  --rate N                 target requests/s, all connections together (0 = as fast as possible; default 0);
                           latency is timed from each request's scheduled send time (no coordinated omission)
  --duration S             stop after S seconds
  --count N                stop after N requests (no --duration/--count: run until Ctrl-C)
  --connections C          default 1
  --inflight N             max outstanding requests per connection (default 256)
  --batch B                messages per requestBatch() frame (default 1)
  --no-coalesce            one frame per request/batch (default: a turn's sends share frames)
  --lean                   load-generator connections instead of the SDK client: requests encoded from a
                           template, responses scanned for id and rc only, no reconnect; several times
                           less CPU per request (what the benchmark suite uses)
  --timeout-ms MS          request timeout (default 30000)

Requests:
  --pans N                 distinct Luhn-valid ${SIM_PAN_DIGITS}-digit PANs (default 1000)
  --prefix DIGITS          PAN prefix (default 4)
  --skew SHARE             send SHARE (0..1) of the requests to the hot PANs, picked with --seed
                           (default: no skew, PANs round-robin)
  --hot FRACTION           with --skew: the share of the PANs that are hot (default 0.01)
  --amount MINOR           default 100
  --currency CODE          default USD
  --mti 0100|0200          default 0100
  --seed N                 seeds the stan start and the skew (default: from the clock; printed in the summary)

Output:
  --json                   final summary as one JSON line on stdout
  --quiet                  no progress line on stderr
  --help                   this text
`;

const SIM_COMMAND = 'switchyard sim acquirer';

/** A bad command line (a one-line message naming the problem), or `help` for --help (message = usage). */
export class SimArgsError extends UsageError {
  override readonly name = 'SimArgsError';
  constructor(problem: string, help = false) {
    super({ name: SIM_COMMAND, usage: SIM_USAGE }, problem, help);
  }
}

export type { SimConnectionOptions } from './connection-args.js';

export interface SimLoadOptions {
  /** Requests per second over all connections; 0 = closed loop only, as fast as answers come. */
  readonly ratePerS: number;
  readonly durationS: number | undefined;
  readonly count: number | undefined;
  readonly connections: number;
  readonly inflightMax: number;
  readonly batch: number;
  readonly coalesce: boolean;
  /** --lean: the lean connection (pre-encoded requests, scanned responses, no reconnect) instead of the SDK. */
  readonly lean?: boolean;
  readonly pans: number;
  readonly prefix: string;
  /** --skew: a hot subset of the PANs gets this share of the requests; undefined = round-robin. */
  readonly skew?: SkewOptions | undefined;
  readonly amount: number;
  readonly currency: string;
  readonly mti: '0100' | '0200';
  readonly seed: number;
  readonly json: boolean;
  readonly progress: boolean;
}

export interface SimOptions extends SimLoadOptions {
  readonly connection: SimConnectionOptions;
  /** Install a SIGINT handler (first Ctrl-C drains and summarises, second closes at once). */
  readonly handleSigint: boolean;
  /** Embedding and tests: stop as on Ctrl-C. */
  readonly signal?: AbortSignal;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly progressIntervalMs?: number;
}

const AMOUNT_MAX = 10 ** 15;

const SIM_SPEC: CommandSpec = {
  name: SIM_COMMAND,
  usage: SIM_USAGE,
  options: {
    ...CONNECTION_OPTIONS,
    rate: 'string',
    duration: 'string',
    count: 'string',
    connections: 'string',
    inflight: 'string',
    batch: 'string',
    'timeout-ms': 'string',
    pans: 'string',
    prefix: 'string',
    amount: 'string',
    currency: 'string',
    mti: 'string',
    seed: 'string',
    skew: 'string',
    hot: 'string',
    'no-coalesce': 'boolean',
    lean: 'boolean',
    json: 'boolean',
    quiet: 'boolean',
    help: 'boolean',
  },
  makeError: (problem, help) => new SimArgsError(problem, help),
};

/** Parses `switchyard sim acquirer` arguments; reads the config and key files named. Throws SimArgsError. */
export function parseSimArgs(argv: readonly string[]): SimOptions {
  const flags = parseCommand(SIM_SPEC, argv);

  const { connection } = parseSimConnection(
    flags,
    'acquirer',
    flags.number('timeout-ms', { min: 1, max: 2_147_483_647, integer: true }) ?? 30_000,
  );

  const prefix = flags.string('prefix') ?? '4';
  const indexDigits = SIM_PAN_DIGITS - 1 - prefix.length;
  if (!/^[0-9]+$/.test(prefix) || indexDigits < 1) {
    throw new SimArgsError(`--prefix must be 1..${SIM_PAN_DIGITS - 2} digits`);
  }
  const pans =
    flags.number('pans', { min: 1, max: Math.min(10 ** indexDigits, 10_000_000), integer: true }) ?? 1000;

  const skewShare = flags.number('skew', { min: 0, max: 1, integer: false });
  const hotFraction = flags.number('hot', { min: 0, max: 1, integer: false });
  if (hotFraction !== undefined && skewShare === undefined) throw new SimArgsError('--hot needs --skew');
  if (skewShare !== undefined && (skewShare <= 0 || skewShare >= 1))
    throw new SimArgsError('--skew must be strictly between 0 and 1');
  if (hotFraction !== undefined && (hotFraction <= 0 || hotFraction >= 1))
    throw new SimArgsError('--hot must be strictly between 0 and 1');
  if (skewShare !== undefined && pans < 2) throw new SimArgsError('--skew needs --pans of at least 2');
  const skew: SkewOptions | undefined =
    skewShare === undefined ? undefined : { share: skewShare, hotFraction: hotFraction ?? 0.01 };

  const currency = flags.string('currency') ?? 'USD';
  if (!/^[A-Z]{3}$/.test(currency)) throw new SimArgsError('--currency must be ISO 4217 alpha-3, upper case');
  const mti = flags.string('mti') ?? '0100';
  if (mti !== '0100' && mti !== '0200') throw new SimArgsError('--mti must be 0100 or 0200');

  const inflightMax = flags.number('inflight', { min: 1, max: 65_536, integer: true }) ?? 256;
  const batch = flags.number('batch', { min: 1, max: 4_096, integer: true }) ?? 1;
  if (batch > inflightMax) throw new SimArgsError('--batch cannot exceed --inflight');

  return {
    connection,
    ratePerS: flags.number('rate', { min: 0, max: 100_000_000, integer: false }) ?? 0,
    durationS: flags.number('duration', { min: 0.001, max: 31_536_000, integer: false }),
    count: flags.number('count', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
    connections: flags.number('connections', { min: 1, max: 1_024, integer: true }) ?? 1,
    inflightMax,
    batch,
    coalesce: !flags.has('no-coalesce'),
    lean: flags.has('lean'),
    pans,
    prefix,
    skew,
    amount: flags.number('amount', { min: 0, max: AMOUNT_MAX, integer: true }) ?? 100,
    currency,
    mti,
    seed: flags.number('seed', { min: 0, max: 0xffff_ffff, integer: true }) ?? Date.now() >>> 0,
    json: flags.has('json'),
    progress: !flags.has('quiet'),
    handleSigint: true,
  };
}
