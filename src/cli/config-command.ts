import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigTable, spliceConfigTable, TABLE_BEGIN, TABLE_END } from '../config/config-table.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { exitCodeOf } from '../errors/codes.js';
import { formatError } from '../errors/switchyard-error.js';
import type { CommandSpec } from '../util/parse-command.js';
import { dispatch } from './dispatch.js';
import { CliFailure, EXIT_OK, printError, runCommand } from './run-command.js';

const CONFIG_SPEC: CommandSpec = {
  name: 'switchyard config',
  usage: `usage: switchyard config <command>

  check FILE              validate FILE exactly as start does, without starting
  table [--short] [--update FILE]
                          print the configuration table (markdown) generated from the
                          settings, or rewrite it in FILE between its markers
`,
  options: {},
};

const CHECK_SPEC: CommandSpec = {
  name: 'switchyard config check',
  usage: `usage: switchyard config check FILE

Validates FILE exactly as \`switchyard start\` does, without starting: prints
"FILE: ok" (exit 0), or every problem with its JSON path (exit 1).

  --help    this text
`,
  options: { help: 'boolean' },
  positionals: ['FILE'],
};

const TABLE_SPEC: CommandSpec = {
  name: 'switchyard config table',
  usage: `usage: switchyard config table [--short] [--update FILE]

Prints the configuration table (markdown), generated from the settings'
declarations (src/config/settings.ts). With --update FILE, rewrites the table
in FILE between the lines ${TABLE_BEGIN} and ${TABLE_END} (npm run docs:config).

  --short         key, default and meaning only (the README's table)
  --update FILE   rewrite FILE's table in place
  --help          this text
`,
  options: { help: 'boolean', update: 'string', short: 'boolean' },
};

function runCheck(argv: readonly string[]): Promise<number> {
  return runCommand(CHECK_SPEC, argv, async (args) => {
    const file = args.positionals[0]!;
    try {
      loadConfig(file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Every problem, one per line below the first: the file is fixed in one pass.
      printError(formatError(CHECK_SPEC.name, 'SWITCHYARD_CONFIG_CHECK_FAILED', error.message));
      return exitCodeOf('SWITCHYARD_CONFIG_CHECK_FAILED');
    }
    process.stdout.write(`${file}: ok\n`);
    return EXIT_OK;
  });
}

function runTable(argv: readonly string[]): Promise<number> {
  return runCommand(TABLE_SPEC, argv, async (args) => {
    const rendered = renderConfigTable(undefined, args.has('short'));
    const file = args.string('update');
    if (file === undefined) {
      process.stdout.write(`${rendered}\n`);
      return EXIT_OK;
    }
    let before: string;
    try {
      before = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliFailure(
        'SWITCHYARD_USAGE',
        `cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
      );
    }
    let after: string;
    try {
      after = spliceConfigTable(before, rendered);
    } catch (error) {
      throw new CliFailure('SWITCHYARD_USAGE', `${file}: ${(error as Error).message}`);
    }
    if (after !== before) writeFileSync(file, after);
    process.stdout.write(
      `${file}: configuration table ${after === before ? 'already up to date' : 'updated'}\n`,
    );
    return EXIT_OK;
  });
}

/** `switchyard config check FILE | table [--update FILE]` */
export function runConfigCommand(argv: readonly string[]): Promise<number> {
  return dispatch(CONFIG_SPEC, argv, { check: async () => runCheck, table: async () => runTable });
}
