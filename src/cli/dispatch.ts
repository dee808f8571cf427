import { type CommandSpec, UsageError } from '../util/parse-command.js';
import { reportUsage } from './run-command.js';

/** Runs one (sub)command with the words after its name; resolves with the exit code. */
export type CommandRunner = (argv: readonly string[]) => Promise<number>;

/**
 * Picks the subcommand named by argv[0] and runs it with the rest. Loaders
 * import on demand, so `switchyard keygen` does not load the simulator. The
 * command itself answers --help (its spec's usage, exit 0); a missing or
 * unknown subcommand, or any option before one, is refused (exit 2).
 */
export async function dispatch(
  spec: CommandSpec,
  argv: readonly string[],
  subcommands: Readonly<Record<string, () => Promise<CommandRunner>>>,
): Promise<number> {
  const [word, ...rest] = argv;
  if (word === '--help' || word === '-h') return reportUsage(new UsageError(spec, '', true));
  // `help` is a synonym of --help, not a command to advertise.
  const names = Object.keys(subcommands).filter((name) => name !== 'help');
  if (word === undefined) return reportUsage(new UsageError(spec, `missing command (${names.join(', ')})`));
  const load = Object.hasOwn(subcommands, word) ? subcommands[word] : undefined;
  if (load === undefined) {
    const problem = word.startsWith('-')
      ? `unknown option ${word}`
      : `unknown command ${JSON.stringify(word)}`;
    return reportUsage(new UsageError(spec, problem));
  }
  return (await load())(rest);
}
