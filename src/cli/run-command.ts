import { type CliErrorCode, exitCodeOf } from '../errors/codes.js';
import { formatError } from '../errors/switchyard-error.js';
import { maskPansIn } from '../util/pan.js';
import { type CommandSpec, type ParsedCommand, parseCommand, UsageError } from '../util/parse-command.js';

/** Exit codes of every command (docs/cli.md). */
export const EXIT_OK = 0;
/** The command ran and failed: the switch unreachable, an API error, nothing approved. */
export const EXIT_FAILED = 1;
/** The command line (or the config it names) was refused; nothing was done. */
export const EXIT_USAGE = 2;

/**
 * A failure the operator can act on, said in one line (no stack trace):
 * printed as `<command>: <CODE>: <message>` with a code of the error
 * registry (docs/errors.md), exit the code's status.
 */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  readonly exitCode: number;
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
    this.exitCode = exitCodeOf(code);
  }
}

/** One stderr line; any PAN-shaped digit run in it is masked first. */
export function printError(line: string): void {
  process.stderr.write(`${maskPansIn(line)}\n`);
}

/** Prints a UsageError the conventional way: help on stdout (exit 0), a refusal on stderr (exit 2). */
export function reportUsage(error: UsageError): number {
  if (error.help) {
    process.stdout.write(error.usage);
    return EXIT_OK;
  }
  printError(error.line);
  return EXIT_USAGE;
}

/**
 * Runs `body` for the command `name`, turning the expected failures into
 * their exit codes and one stderr line; anything else is a bug and propagates
 * (main prints it with its stack).
 */
export async function guard(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) return reportUsage(error);
    if (error instanceof CliFailure) {
      printError(formatError(name, error.code, error.message));
      return error.exitCode;
    }
    throw error;
  }
}

/** Parses `argv` against `spec` and runs `body` with the result, under guard(). */
export function runCommand(
  spec: CommandSpec,
  argv: readonly string[],
  body: (args: ParsedCommand) => Promise<number>,
): Promise<number> {
  return guard(spec.name, () => body(parseCommand(spec, argv)));
}
