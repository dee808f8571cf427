import type { CommandSpec } from '../util/parse-command.js';
import { runCommand } from './run-command.js';

/**
 * The command line of `switchyard start`, checked here with every other
 * command's parser; start.ts then runs the switch. A new start option goes
 * into `options` below as well as into start.ts.
 */
const START_SPEC: CommandSpec = {
  name: 'switchyard start',
  usage: `usage: switchyard start --config FILE

Runs the switch until SIGINT or SIGTERM, then shuts down gracefully (exit 0).
Logs JSON lines on stdout; "switch ready" names the bound addresses.

  --config FILE    the switch config (JSON; docs/protocol.md section 9); or set SWITCHYARD_CONFIG=FILE
  --help           this text

Exit: 0 after a clean shutdown, 1 when it cannot start or stop, 2 for a bad
command line or config.
`,
  options: { config: 'string', help: 'boolean' },
};

/** `switchyard start ...` */
export function runStartCommand(argv: readonly string[]): Promise<number> {
  return runCommand(START_SPEC, argv, async () => {
    const { runStart } = await import('./start.js');
    return runStart(argv);
  });
}
