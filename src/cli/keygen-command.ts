import type { CommandSpec } from '../util/parse-command.js';
import { EXIT_OK, runCommand } from './run-command.js';

const KEYGEN_SPEC: CommandSpec = {
  name: 'switchyard keygen',
  usage: `usage: switchyard keygen

Prints a new Ed25519 key pair for one institution as JSON (base64): publicKey
goes into the switch config (institutions[].publicKey); secretKey stays with the
institution, whose host signs on with it.

  --help    this text
`,
  options: { help: 'boolean' },
};

/** `switchyard keygen` */
export function runKeygenCommand(argv: readonly string[]): Promise<number> {
  return runCommand(KEYGEN_SPEC, argv, async () => {
    const { runKeygen } = await import('./keygen.js');
    process.stdout.write(`${runKeygen()}\n`);
    return EXIT_OK;
  });
}
