#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { scrubText } from '../observability/log-redact.js';
import { runStart } from './start.js';

const USAGE = `usage: switchyard <command>

  start --config FILE        run the switch (or SWITCHYARD_CONFIG=FILE)
  keygen                     print a new Ed25519 key pair (base64) for an institution
  sim acquirer [options]     drive traffic as an acquirer host (--help for options)
  accounts seed [options]    create the simulator's accounts in bulk (--help for options)
  --version                  print the version
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runStart(rest);
    case 'keygen': {
      const { runKeygen } = await import('./keygen.js');
      process.stdout.write(`${runKeygen()}\n`);
      return 0;
    }
    case 'sim': {
      const { runSimCommand } = await import('./sim-command.js');
      return runSimCommand(rest);
    }
    case 'accounts': {
      const { runAccountsCommand } = await import('./accounts-command.js');
      return runAccountsCommand(rest);
    }
    case '--version':
    case '-v': {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`switchyard: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
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
