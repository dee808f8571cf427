import type { CommandSpec } from '../util/parse-command.js';
import { EXIT_OK, runCommand } from './run-command.js';

const keygenSpec = (name: string): CommandSpec => ({
  name,
  usage: `usage: ${name}

Prints a new Ed25519 key pair for one institution as JSON (base64): publicKey
goes into the switch config (institutions[].publicKey); secretKey stays with the
institution, whose host signs on with it.

  --help    this text
`,
  options: { help: 'boolean' },
});

/** `switchyard keygen`, and `switchyard keys institution` under its own name. */
export function runKeygenCommand(argv: readonly string[], name = 'switchyard keygen'): Promise<number> {
  return runCommand(keygenSpec(name), argv, async () => {
    const { runKeygen } = await import('./keygen.js');
    process.stdout.write(`${runKeygen()}\n`);
    return EXIT_OK;
  });
}
