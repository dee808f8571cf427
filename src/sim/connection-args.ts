import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientTlsOptions, TransportKind } from '../client/options.js';
import type { Role } from '../protocol/mti.js';
import type { OptionKind, ParsedCommand } from '../util/parse-command.js';

/*
 * Where a simulator connects and as whom: the options `sim acquirer` and
 * `sim issuer` share (a switch config or an address, the transport and TLS,
 * the institution and its key), parsed one way for both.
 */

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

/** What the connection options found, plus what else the switch config says that a simulator may use. */
export interface ParsedSimConnection {
  readonly connection: SimConnectionOptions;
  /** The config's `issuerTimeoutMs`, when a config was read and sets it. */
  readonly issuerTimeoutMs: number | undefined;
}

export const CONNECTION_OPTIONS: Readonly<Record<string, OptionKind>> = {
  config: 'string',
  keys: 'string',
  host: 'string',
  port: 'string',
  transport: 'string',
  path: 'string',
  ca: 'string',
  institution: 'string',
  'secret-key': 'string',
  tls: 'boolean',
  insecure: 'boolean',
};

/** The usage section for the options above; `role` names whose institution the config gives by default. */
export function connectionUsage(role: Role): string {
  return `Where to connect (default: --config config/demo.json):
  --config FILE            switch config: listen address, first ${role} institution
  --keys FILE              institution key file (default: dev-keys.json next to the config)
  --host HOST --port PORT  connect here instead of the config's listener
  --transport tcp|ws       default tcp
  --path PATH              WebSocket path (default /)
  --tls                    TLS / WSS (on by itself when the config's listener has tls)
  --ca FILE                CA bundle (PEM) to verify the switch
  --insecure               do not verify the switch's certificate
  --institution ID         default: the config's first ${role}
  --secret-key BASE64      64-byte tweetnacl secret key (instead of --keys)
`;
}

const DEFAULT_CONFIG_FILE = 'config/demo.json';
const DEFAULT_KEYS_FILE_NAME = 'dev-keys.json';
const SECRET_KEY_BYTES = 64;

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function readJsonFile(flags: ParsedCommand, file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw flags.error(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw flags.error(`${what} ${file} is not JSON: ${(error as Error).message}`);
  }
}

interface SwitchConfigView {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Institution ids of `role`, in config order. */
  readonly institutions: string[];
  readonly issuerTimeoutMs: number | undefined;
}

/** What a switch config tells a client: the listener for a transport and the institutions of a role. */
function readSwitchConfig(
  flags: ParsedCommand,
  file: string,
  transport: TransportKind,
  role: Role,
): SwitchConfigView {
  const config = readJsonFile(flags, file, 'config');
  const listener = field(field(config, 'listen'), transport);
  const host = field(listener, 'host');
  const port = field(listener, 'port');
  if (typeof host !== 'string' || typeof port !== 'number' || port === 0) {
    throw flags.error(
      `config ${file} has no fixed listen.${transport} host and port; pass --host and --port`,
    );
  }
  const institutions = field(config, 'institutions');
  const timeout = field(config, 'issuerTimeoutMs');
  return {
    host: connectableHost(host),
    port,
    tls: field(listener, 'tls') !== undefined,
    institutions: Array.isArray(institutions)
      ? institutions.filter((i) => field(i, 'role') === role).map((i) => String(field(i, 'id')))
      : [],
    issuerTimeoutMs: typeof timeout === 'number' ? timeout : undefined,
  };
}

/** A wildcard listen address is not something to connect to. */
function connectableHost(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') return '127.0.0.1';
  if (listenHost === '::') return '::1';
  return listenHost;
}

function decodeSecretKey(flags: ParsedCommand, base64: string, source: string): Uint8Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== SECRET_KEY_BYTES) {
    throw flags.error(
      `${source}: secret key must be ${SECRET_KEY_BYTES} bytes of base64, got ${bytes.length}`,
    );
  }
  return new Uint8Array(bytes);
}

/**
 * The connection options of a simulator signing on as `role`; reads the
 * config and key files named (or the demo ones). Throws the command's
 * UsageError.
 */
export function parseSimConnection(
  flags: ParsedCommand,
  role: Role,
  requestTimeoutMs: number,
): ParsedSimConnection {
  const transportFlag = flags.string('transport') ?? 'tcp';
  if (transportFlag !== 'tcp' && transportFlag !== 'ws') throw flags.error('--transport must be tcp or ws');
  const transport: TransportKind = transportFlag;

  const explicitHost = flags.string('host');
  const explicitPort = flags.number('port', { min: 1, max: 65_535, integer: true });
  const configFile =
    flags.string('config') ??
    (explicitHost === undefined || explicitPort === undefined ? DEFAULT_CONFIG_FILE : undefined);
  const fromConfig =
    configFile === undefined ? undefined : readSwitchConfig(flags, configFile, transport, role);

  const host = explicitHost ?? fromConfig?.host;
  const port = explicitPort ?? fromConfig?.port;
  if (host === undefined || port === undefined)
    throw flags.error('no switch address: --config, or --host and --port');

  const institution = flags.string('institution') ?? fromConfig?.institutions[0];
  if (institution === undefined) throw flags.error(`no ${role} institution: --institution ID`);

  let secretKey: Uint8Array;
  const secretKeyFlag = flags.string('secret-key');
  if (secretKeyFlag !== undefined) {
    if (flags.has('keys')) throw flags.error('--secret-key and --keys are exclusive');
    secretKey = decodeSecretKey(flags, secretKeyFlag, '--secret-key');
  } else {
    const keysFile =
      flags.string('keys') ??
      path.join(configFile === undefined ? 'config' : path.dirname(configFile), DEFAULT_KEYS_FILE_NAME);
    const entry = field(readJsonFile(flags, keysFile, 'key file'), institution);
    const base64 = field(entry, 'secretKey');
    if (typeof base64 !== 'string')
      throw flags.error(`key file ${keysFile} has no secretKey for ${institution}`);
    secretKey = decodeSecretKey(flags, base64, keysFile);
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
        throw flags.error(`cannot read --ca ${caFile}: ${(error as Error).message}`);
      }
    }
    tls = { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: !flags.has('insecure') };
  }

  const wsPath = flags.string('path') ?? '/';
  if (!wsPath.startsWith('/')) throw flags.error("--path must start with '/'");

  return {
    connection: { transport, host, port, path: wsPath, tls, institution, secretKey, requestTimeoutMs },
    issuerTimeoutMs: fromConfig?.issuerTimeoutMs,
  };
}
