import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientTlsOptions, TransportKind } from '../client/options.js';
import { type CommandSpec, parseCommand, UsageError } from '../util/parse-command.js';
import { SIM_PAN_DIGITS, type SkewOptions } from './request-factory.js';

export const SIM_USAGE = `usage: switchyard sim acquirer [options]

Where to connect (default: --config config/demo.json):
  --config FILE            switch config: listen address, first acquirer institution
  --keys FILE              institution key file (default: dev-keys.json next to the config)
  --host HOST --port PORT  connect here instead of the config's listener
  --transport tcp|ws       default tcp
  --path PATH              WebSocket path (default /)
  --tls                    TLS / WSS (on by itself when the config's listener has tls)
  --ca FILE                CA bundle (PEM) to verify the switch
  --insecure               do not verify the switch's certificate
  --institution ID         default: the config's first acquirer
  --secret-key BASE64      64-byte tweetnacl secret key (instead of --keys)

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

export interface SimConnectionOptions {
  readonly transport: TransportKind;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly tls: ClientTlsOptions | undefined;
  readonly institution: string;
  readonly secretKey: Uint8Array;
  readonly requestTimeoutMs: number;
}

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

const DEFAULT_CONFIG_FILE = 'config/demo.json';
const DEFAULT_KEYS_FILE_NAME = 'dev-keys.json';
const SECRET_KEY_BYTES = 64;
const AMOUNT_MAX = 10 ** 15;

const SIM_SPEC: CommandSpec = {
  name: SIM_COMMAND,
  usage: SIM_USAGE,
  options: {
    config: 'string',
    keys: 'string',
    host: 'string',
    port: 'string',
    transport: 'string',
    path: 'string',
    ca: 'string',
    institution: 'string',
    'secret-key': 'string',
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
    tls: 'boolean',
    insecure: 'boolean',
    'no-coalesce': 'boolean',
    lean: 'boolean',
    json: 'boolean',
    quiet: 'boolean',
    help: 'boolean',
  },
  makeError: (problem, help) => new SimArgsError(problem, help),
};

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SimArgsError(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SimArgsError(`${what} ${file} is not JSON: ${(error as Error).message}`);
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** What a switch config tells a client: the listener for a transport and the acquirers. */
function readSwitchConfig(
  file: string,
  transport: TransportKind,
): { host: string; port: number; tls: boolean; acquirers: string[] } {
  const config = readJsonFile(file, 'config');
  const listener = field(field(config, 'listen'), transport);
  const host = field(listener, 'host');
  const port = field(listener, 'port');
  if (typeof host !== 'string' || typeof port !== 'number' || port === 0) {
    throw new SimArgsError(
      `config ${file} has no fixed listen.${transport} host and port; pass --host and --port`,
    );
  }
  const institutions = field(config, 'institutions');
  const acquirers = Array.isArray(institutions)
    ? institutions.filter((i) => field(i, 'role') === 'acquirer').map((i) => String(field(i, 'id')))
    : [];
  return { host: connectableHost(host), port, tls: field(listener, 'tls') !== undefined, acquirers };
}

/** A wildcard listen address is not something to connect to. */
function connectableHost(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') return '127.0.0.1';
  if (listenHost === '::') return '::1';
  return listenHost;
}

function decodeSecretKey(base64: string, source: string): Uint8Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== SECRET_KEY_BYTES) {
    throw new SimArgsError(
      `${source}: secret key must be ${SECRET_KEY_BYTES} bytes of base64, got ${bytes.length}`,
    );
  }
  return new Uint8Array(bytes);
}

/** Parses `switchyard sim acquirer` arguments; reads the config and key files named. Throws SimArgsError. */
export function parseSimArgs(argv: readonly string[]): SimOptions {
  const flags = parseCommand(SIM_SPEC, argv);

  const transportFlag = flags.string('transport') ?? 'tcp';
  if (transportFlag !== 'tcp' && transportFlag !== 'ws')
    throw new SimArgsError('--transport must be tcp or ws');
  const transport: TransportKind = transportFlag;

  const explicitHost = flags.string('host');
  const explicitPort = flags.number('port', { min: 1, max: 65_535, integer: true });
  const configFile =
    flags.string('config') ??
    (explicitHost === undefined || explicitPort === undefined ? DEFAULT_CONFIG_FILE : undefined);
  const fromConfig = configFile === undefined ? undefined : readSwitchConfig(configFile, transport);

  const host = explicitHost ?? fromConfig?.host;
  const port = explicitPort ?? fromConfig?.port;
  if (host === undefined || port === undefined)
    throw new SimArgsError('no switch address: --config, or --host and --port');

  const institution = flags.string('institution') ?? fromConfig?.acquirers[0];
  if (institution === undefined) throw new SimArgsError('no acquirer institution: --institution ID');

  let secretKey: Uint8Array;
  const secretKeyFlag = flags.string('secret-key');
  if (secretKeyFlag !== undefined) {
    if (flags.has('keys')) throw new SimArgsError('--secret-key and --keys are exclusive');
    secretKey = decodeSecretKey(secretKeyFlag, '--secret-key');
  } else {
    const keysFile =
      flags.string('keys') ??
      path.join(configFile === undefined ? 'config' : path.dirname(configFile), DEFAULT_KEYS_FILE_NAME);
    const entry = field(readJsonFile(keysFile, 'key file'), institution);
    const base64 = field(entry, 'secretKey');
    if (typeof base64 !== 'string')
      throw new SimArgsError(`key file ${keysFile} has no secretKey for ${institution}`);
    secretKey = decodeSecretKey(base64, keysFile);
  }

  const caFile = flags.string('ca');
  const useTls =
    flags.has('tls') || caFile !== undefined || flags.has('insecure') || fromConfig?.tls === true;
  let tls: ClientTlsOptions | undefined;
  if (useTls) {
    let ca: string | undefined;
    if (caFile !== undefined) {
      try {
        ca = readFileSync(caFile, 'utf8');
      } catch (error) {
        throw new SimArgsError(`cannot read --ca ${caFile}: ${(error as Error).message}`);
      }
    }
    tls = { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: !flags.has('insecure') };
  }

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

  const path_ = flags.string('path') ?? '/';
  if (!path_.startsWith('/')) throw new SimArgsError("--path must start with '/'");

  return {
    connection: {
      transport,
      host,
      port,
      path: path_,
      tls,
      institution,
      secretKey,
      requestTimeoutMs: flags.number('timeout-ms', { min: 1, max: 2_147_483_647, integer: true }) ?? 30_000,
    },
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
