import { ConfigError } from '../config/errors.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { OptionKind, ParsedCommand } from '../util/parse-command.js';
import { hostPort } from './reach.js';
import { CliFailure } from './run-command.js';

/** Where the admin API is and the token it wants. */
export interface AdminTarget {
  /** e.g. http://127.0.0.1:8585, no trailing slash. */
  readonly baseUrl: string;
  readonly token: string;
}

const DEFAULT_CONFIG_FILE = 'config/demo.json';

/** The options of every command that calls the admin API. */
export const ADMIN_TARGET_OPTIONS: Readonly<Record<string, OptionKind>> = {
  config: 'string',
  admin: 'string',
  token: 'string',
};

export const ADMIN_TARGET_USAGE = `Where the switch is (default: --config config/demo.json, or SWITCHYARD_CONFIG):
  --config FILE      read the admin address (listen.admin) and admin.token from this switch config
  --admin URL        admin API base URL instead, e.g. http://127.0.0.1:8585 (needs --token)
  --token TOKEN      admin token (with --admin; with --config it replaces the config's)
`;

/** A wildcard listen address is not something to connect to. */
function connectableHost(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') return '127.0.0.1';
  if (listenHost === '::') return '::1';
  return listenHost;
}

function fromUrl(args: ParsedCommand, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw args.error(`--admin must be a URL such as http://127.0.0.1:8585, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw args.error('--admin must be http:// or https://');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function fromConfig(path: string): AdminTarget {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliFailure('SWITCHYARD_USAGE', error.message);
    throw error;
  }
  const listener = config.listen.admin;
  if (listener === undefined || listener.port === 0) {
    throw new CliFailure(
      'SWITCHYARD_USAGE',
      `${path} has no fixed listen.admin port; pass --admin URL --token TOKEN`,
    );
  }
  const scheme = listener.tls === undefined ? 'http' : 'https';
  return {
    baseUrl: `${scheme}://${hostPort(connectableHost(listener.host), listener.port)}`,
    token: config.admin.token,
  };
}

/** The admin API named by --admin/--token, else by --config (or SWITCHYARD_CONFIG, else the demo config). */
export function resolveAdminTarget(args: ParsedCommand): AdminTarget {
  const admin = args.string('admin');
  const token = args.string('token');
  if (admin !== undefined) {
    if (args.has('config')) throw args.error('--admin and --config are exclusive');
    if (token === undefined) throw args.error('--admin needs --token');
    return { baseUrl: fromUrl(args, admin), token };
  }
  const path = args.string('config') ?? resolveConfigPath([], process.env) ?? DEFAULT_CONFIG_FILE;
  const target = fromConfig(path);
  return token === undefined ? target : { ...target, token };
}
