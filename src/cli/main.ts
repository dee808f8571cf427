#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { scrubText } from '../observability/log-redact.js';
import type { CommandSpec } from '../util/parse-command.js';
import { dispatch } from './dispatch.js';
import { EXIT_OK } from './run-command.js';

const MAIN_SPEC: CommandSpec = {
  name: 'switchyard',
  usage: `usage: switchyard <command> [options]

  start --config FILE          run the switch (or SWITCHYARD_CONFIG=FILE)
  keygen                       print a new Ed25519 key pair (base64) for an institution
  keys <command>               institution key pairs and the data key file (keys --help)
  sim acquirer [options]       drive traffic as an acquirer host
  sim issuer [options]         answer forwarded traffic as an issuer host
  accounts seed [options]      create the simulator's accounts in bulk
  accounts get PAN             print an account
  accounts put PAN [options]   create an account, or set its status and limits
  accounts adjust PAN [opts]   credit or debit an account
  config check FILE            check a config file without starting the switch
  config reload [options]      make a running switch re-read routes and institutions
  clearing <command>           clearing worker and reconcile (clearing --help)
  --version                    print the version
  --help                       this text

Every command answers --help. Exit codes: 0 done, 1 failed (the switch
unreachable, an error answer, nothing approved), 2 bad command line.
`,
  options: {},
};

function printVersion(): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  process.stdout.write(`${pkg.version}\n`);
  return Promise.resolve(EXIT_OK);
}

function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') return printVersion();
  return dispatch(MAIN_SPEC, argv, {
    start: async () => (await import('./start-command.js')).runStartCommand,
    keygen: async () => (await import('./keygen-command.js')).runKeygenCommand,
    keys: async () => (await import('./keys-command.js')).runKeysCommand,
    sim: async () => (await import('./sim-command.js')).runSimCommand,
    accounts: async () => (await import('./accounts-command.js')).runAccountsCommand,
    config: async () => (await import('./config-command.js')).runConfigCommand,
    clearing: async () => (await import('./clearing-command.js')).runClearingCommand,
    // `switchyard help` as well as `switchyard --help`, as before.
    help: async () => () => dispatch(MAIN_SPEC, ['--help'], {}),
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Give stdout a turn to drain, then leave even if a stray handle lingers.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (error: unknown) => {
    // Scrubbed as log lines are: an error message may quote a PAN or a URL with a password.
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`switchyard: fatal: ${scrubText(text)}\n`);
    process.exit(1);
  },
);
