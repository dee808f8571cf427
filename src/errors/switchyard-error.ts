import { type ErrorCode, type ExitErrorCode, exitCodeOf } from './codes.js';

/**
 * An operating error with a registered code (DESIGN.md: typed errors for
 * operating failures). Thrown where the failure is known; the command that
 * catches it prints formatError(...) and exits with `exitCode`.
 */
export class SwitchyardError extends Error {
  constructor(
    readonly code: ExitErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SwitchyardError';
  }

  get exitCode(): number {
    return exitCodeOf(this.code);
  }
}

/**
 * A command-line error for the CLI commands: `throw cliError('SWITCHYARD_USAGE',
 * '--count is required')`, then at the top `return reportError('switchyard
 * accounts seed', error)`.
 */
export function cliError(
  code: 'SWITCHYARD_USAGE' | 'SWITCHYARD_SWITCH_UNREACHABLE' | 'SWITCHYARD_ADMIN_ERROR',
  message: string,
  options?: ErrorOptions,
): SwitchyardError {
  return new SwitchyardError(code, message, options);
}

/**
 * The line an error is shown as: `switchyard start: SWITCHYARD_PORT_IN_USE: ...`.
 * The code comes first after the command so a log search or a supervisor
 * finds it without parsing prose; a message with detail lines (every config
 * problem) keeps them below the first line.
 */
export function formatError(command: string, code: ErrorCode, message: string): string {
  return `${command}: ${code}: ${message}`;
}

/** Writes `error` as formatError's line to stderr and returns the exit status to end with. */
export function reportError(
  command: string,
  error: SwitchyardError,
  stderr: { write(text: string): unknown } = process.stderr,
): number {
  stderr.write(`${formatError(command, error.code, error.message)}\n`);
  return error.exitCode;
}
