import { parseArgs } from 'node:util';
import { loadConfig, resolveConfigPath } from '../config/load.js';

const USAGE = `usage: switchyard accounts seed --count N --balance MINOR --currency CODE [options]

Creates N accounts with the simulator's PANs (same prefix, same numbering) through
the running switch's admin API (POST /accounts/bulk). Existing accounts are left
as they are, so seeding twice is safe.

  --count N          accounts to create (1..1000000)
  --balance MINOR    opening balance, minor units
  --currency CODE    ISO 4217 alpha-3, e.g. USD
  --prefix DIGITS    PAN prefix (default 4, as the simulator's)
  --config FILE      read the admin address and token from this config (default config/demo.json)
  --admin URL        admin API base URL instead (e.g. http://127.0.0.1:8585)
  --token TOKEN      admin token (with --admin)
`;

/** `switchyard accounts seed ...` */
export async function runAccountsCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'seed') {
    process.stderr.write(USAGE);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        count: { type: 'string' },
        balance: { type: 'string' },
        currency: { type: 'string' },
        prefix: { type: 'string' },
        config: { type: 'string' },
        admin: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`switchyard accounts seed: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const count = Number(values.count);
  const balance = Number(values.balance);
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(balance) || typeof values.currency !== 'string') {
    process.stderr.write(
      `switchyard accounts seed: --count, --balance and --currency are required\n\n${USAGE}`,
    );
    return 2;
  }
  let base: string;
  let token: string;
  if (typeof values.admin === 'string') {
    if (typeof values.token !== 'string') {
      process.stderr.write('switchyard accounts seed: --admin needs --token\n');
      return 2;
    }
    base = values.admin.replace(/\/$/, '');
    token = values.token;
  } else {
    const path =
      typeof values.config === 'string'
        ? values.config
        : (resolveConfigPath([], process.env) ?? 'config/demo.json');
    const config = loadConfig(path);
    const listener = config.listen.admin;
    if (listener === undefined) {
      process.stderr.write(`switchyard accounts seed: ${path} has no listen.admin\n`);
      return 2;
    }
    const host = listener.host === '0.0.0.0' || listener.host === '::' ? '127.0.0.1' : listener.host;
    base = `${listener.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${listener.port}`;
    token = config.admin.token;
  }
  const body = {
    count,
    balance,
    currency: values.currency,
    ...(typeof values.prefix === 'string' ? { prefix: values.prefix } : {}),
  };
  const response = await fetch(`${base}/accounts/bulk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    process.stderr.write(`switchyard accounts seed: ${response.status} ${text}\n`);
    return 1;
  }
  process.stdout.write(`${text}\n`);
  return 0;
}
