import { dispatch } from './dispatch.js';
import type { CommandSpec } from './parse-command.js';
import { CliFailure, EXIT_USAGE, runCommand } from './run-command.js';

/**
 * Placeholder for `switchyard config check FILE`, which is being written on
 * another branch (issue 15); the integrator replaces this file with it. It
 * parses like every other command (so --help and unknown flags behave) and
 * then says it is not built yet.
 */

const CONFIG_SPEC: CommandSpec = {
  name: 'switchyard config',
  usage: `usage: switchyard config <command>

  check FILE    check a switch config file without starting the switch
`,
  options: {},
};

const CHECK_SPEC: CommandSpec = {
  name: 'switchyard config check',
  usage: `usage: switchyard config check FILE

Checks a switch config file without starting the switch (not built yet).

  --help    this text
`,
  options: { help: 'boolean' },
  positionals: ['FILE'],
};

function runCheck(argv: readonly string[]): Promise<number> {
  return runCommand(CHECK_SPEC, argv, async () => {
    throw new CliFailure('not built yet', EXIT_USAGE);
  });
}

export function runConfigCommand(argv: readonly string[]): Promise<number> {
  return dispatch(CONFIG_SPEC, argv, { check: async () => runCheck });
}
