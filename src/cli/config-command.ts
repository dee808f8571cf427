import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigTable, spliceConfigTable, TABLE_BEGIN, TABLE_END } from '../config/config-table.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { exitCodeOf } from '../errors/codes.js';
import { cliError, formatError, reportError, SwitchyardError } from '../errors/switchyard-error.js';

const COMMAND = 'switchyard config';

const USAGE = `usage: switchyard config <command>

  check FILE              validate FILE exactly as start does, without starting:
                          prints "FILE: ok" (exit 0), or every problem with its path (exit 1)
  table                   print the configuration table (markdown), generated from the settings
  table --update FILE     rewrite the table in FILE between ${TABLE_BEGIN} and ${TABLE_END}
`;

/** `switchyard config check FILE | table [--update FILE]`. Returns the exit code. */
export function runConfigCommand(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const [sub, ...rest] = argv;
    if (sub === 'check') return check(rest);
    if (sub === 'table') return table(rest);
    throw cliError(
      'SWITCHYARD_USAGE',
      `${sub === undefined ? 'a command is required' : `unknown command ${JSON.stringify(sub)}`}\n\n${USAGE}`,
    );
  } catch (error) {
    if (error instanceof SwitchyardError) return reportError(COMMAND, error);
    throw error;
  }
}

function check(args: readonly string[]): number {
  const [file, ...extra] = args;
  if (file === undefined || file.startsWith('-') || extra.length > 0)
    throw cliError('SWITCHYARD_USAGE', `check takes one config file\n\n${USAGE}`);
  try {
    loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `${formatError(`${COMMAND} check`, 'SWITCHYARD_CONFIG_CHECK_FAILED', error.message)}\n`,
    );
    return exitCodeOf('SWITCHYARD_CONFIG_CHECK_FAILED');
  }
  process.stdout.write(`${file}: ok\n`);
  return 0;
}

function table(args: readonly string[]): number {
  const rendered = renderConfigTable();
  if (args.length === 0) {
    process.stdout.write(`${rendered}\n`);
    return 0;
  }
  const [flag, file, ...extra] = args;
  if (flag !== '--update' || file === undefined || extra.length > 0)
    throw cliError('SWITCHYARD_USAGE', `table takes no arguments, or --update FILE\n\n${USAGE}`);
  let before: string;
  try {
    before = readFileSync(file, 'utf8');
  } catch (error) {
    throw cliError(
      'SWITCHYARD_USAGE',
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let after: string;
  try {
    after = spliceConfigTable(before, rendered);
  } catch (error) {
    throw cliError('SWITCHYARD_USAGE', `${file}: ${(error as Error).message}`);
  }
  if (after !== before) writeFileSync(file, after);
  process.stdout.write(
    `${file}: configuration table ${after === before ? 'already up to date' : 'updated'}\n`,
  );
  return 0;
}
