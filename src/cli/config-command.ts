import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigTable, spliceConfigTable, TABLE_BEGIN, TABLE_END } from '../config/config-table.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { exitCodeOf } from '../errors/codes.js';
import { formatError } from '../errors/switchyard-error.js';
import type { CommandSpec } from '../util/parse-command.js';
import { answerFailure, callAdmin } from './admin-call.js';
import { ADMIN_TARGET_OPTIONS, ADMIN_TARGET_USAGE, resolveAdminTarget } from './admin-target.js';
import { dispatch } from './dispatch.js';
import { CliFailure, EXIT_OK, printError, runCommand } from './run-command.js';

const CONFIG_SPEC: CommandSpec = {
  name: 'switchyard config',
  usage: `usage: switchyard config <command>

  check FILE              validate FILE exactly as start does, without starting
  reload [options]        make a running switch re-read its routes and institutions
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

/** A reload reads one file and swaps two tables: it answers in milliseconds unless another reload runs. */
const RELOAD_CALL_TIMEOUT_MS = 30_000;

const RELOAD_SPEC: CommandSpec = {
  name: 'switchyard config reload',
  usage: `usage: switchyard config reload [options]

Makes a running switch re-read routes and institutions from the config file
it was started with (POST /config/reload; SIGHUP does the same and also
re-reads the data keys). Prints the answer as JSON: the counts now in force,
the settings that differ but take a restart, the sessions closed. A file the
switch cannot use is refused with every problem (exit 1), and the switch
keeps its running config.

${ADMIN_TARGET_USAGE}  --help             this text
`,
  options: { ...ADMIN_TARGET_OPTIONS, help: 'boolean' },
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

function runReload(argv: readonly string[]): Promise<number> {
  return runCommand(RELOAD_SPEC, argv, async (args) => {
    const answer = await callAdmin(resolveAdminTarget(args), 'POST', '/config/reload', {
      timeoutMs: RELOAD_CALL_TIMEOUT_MS,
    });
    if (!answer.ok) throw answerFailure(answer);
    process.stdout.write(`${JSON.stringify(JSON.parse(answer.text), null, 2)}\n`);
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

/** `switchyard config check FILE | reload [options] | table [--update FILE]` */
export function runConfigCommand(argv: readonly string[]): Promise<number> {
  return dispatch(CONFIG_SPEC, argv, {
    check: async () => runCheck,
    reload: async () => runReload,
    table: async () => runTable,
  });
}
