/**
 * Every error the switch gives a person or a program, with a stable code
 * (model: fastify's lib/errors.js). docs/errors.md explains each one (where
 * it appears, its HTTP status or exit code, what it means, what to do), and
 * test/unit/errors-doc.test.ts holds the two in step both ways. A code, once
 * published, keeps its meaning; retire one rather than reuse it.
 *
 * Where a code appears:
 * - `admin`: an admin API error body `{error: {code, message}}`; the HTTP
 *   status is src/admin/error-status.ts's.
 * - `ledger`: a domain outcome of an account call, returned by the ledger as
 *   a value (never an HTTP status: the ledger knows no HTTP) and shown by the
 *   admin API like an `admin` code.
 * - `start`: `switchyard start` refused to start: one line with the code on
 *   stderr, and the code's own exit status, so a supervisor can tell a bad
 *   config (do not restart) from a busy port or Redis (retry later).
 * - `cli`: the other commands' failures, with their exit status.
 *
 * Exit statuses skip 3-13, which Node uses for its own fatal errors.
 */

export type ErrorSurface = 'admin' | 'ledger' | 'start' | 'cli';

interface ErrorEntry {
  readonly surface: ErrorSurface;
  /** For `start` and `cli` codes: the process exit status. */
  readonly exitCode?: number;
}

export const ERRORS = {
  // ---- admin API (src/admin)
  unauthorized: { surface: 'admin' },
  not_found: { surface: 'admin' },
  method_not_allowed: { surface: 'admin' },
  invalid_json: { surface: 'admin' },
  invalid_request: { surface: 'admin' },
  body_too_large: { surface: 'admin' },
  internal: { surface: 'admin' },
  // POST /config/reload: the file cannot be read, is not JSON, or has problems (all listed).
  invalid_config: { surface: 'admin' },
  // Clearing calls: a cycle that is not closed (or never was); a rerun while its job runs.
  cycle_not_found: { surface: 'admin' },
  cycle_running: { surface: 'admin' },

  // ---- ledger outcomes of account calls (src/rules/onus/admin-ops.ts, src/runtime)
  account_not_found: { surface: 'ledger' },
  currency_mismatch: { surface: 'ledger' },
  reference_conflict: { surface: 'ledger' },
  insufficient_funds: { surface: 'ledger' },
  balance_overflow: { surface: 'ledger' },
  store_unavailable: { surface: 'ledger' },
  worker_unavailable: { surface: 'ledger' },

  // ---- start-up refusals (src/cli/start.ts)
  SWITCHYARD_START_FAILED: { surface: 'start', exitCode: 1 },
  SWITCHYARD_CONFIG_INVALID: { surface: 'start', exitCode: 20 },
  SWITCHYARD_DATA_DIR_LOCKED: { surface: 'start', exitCode: 21 },
  SWITCHYARD_REDIS_NOT_INSTALLED: { surface: 'start', exitCode: 22 },
  SWITCHYARD_REDIS_START_FAILED: { surface: 'start', exitCode: 23 },
  SWITCHYARD_REDIS_UNREACHABLE: { surface: 'start', exitCode: 24 },
  SWITCHYARD_PORT_IN_USE: { surface: 'start', exitCode: 25 },
  SWITCHYARD_LISTEN_FAILED: { surface: 'start', exitCode: 26 },
  SWITCHYARD_TLS_INVALID: { surface: 'start', exitCode: 27 },
  // Not a refusal: the switch ran, and stopping it did not finish cleanly.
  SWITCHYARD_SHUTDOWN_FAILED: { surface: 'start', exitCode: 28 },
  // The data keys (docs/security.md): a key file or SWITCHYARD_KEYS that cannot be used, or one others can read.
  SWITCHYARD_KEY_FILE_INVALID: { surface: 'start', exitCode: 29 },
  SWITCHYARD_KEY_FILE_EXPOSED: { surface: 'start', exitCode: 30 },
  // A Redis that may evict keys or keeps no AOF (docs/operations.md).
  SWITCHYARD_REDIS_UNSUITABLE: { surface: 'start', exitCode: 31 },

  // ---- command line (src/cli)
  SWITCHYARD_CONFIG_CHECK_FAILED: { surface: 'cli', exitCode: 1 },
  SWITCHYARD_USAGE: { surface: 'cli', exitCode: 2 },
  // Every command that runs and fails exits 1 (docs/cli.md); the code in its line says why.
  SWITCHYARD_SWITCH_UNREACHABLE: { surface: 'cli', exitCode: 1 },
  SWITCHYARD_ADMIN_ERROR: { surface: 'cli', exitCode: 1 },
  SWITCHYARD_SIGNON_REFUSED: { surface: 'cli', exitCode: 1 },
  SWITCHYARD_NOTHING_APPROVED: { surface: 'cli', exitCode: 1 },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERRORS;

type CodesOf<S extends ErrorSurface> = {
  [C in ErrorCode]: (typeof ERRORS)[C]['surface'] extends S ? C : never;
}[ErrorCode];

/** Codes of the admin API's own errors. */
export type AdminErrorCode = CodesOf<'admin'>;
/** Codes the ledger answers an account call with when it does not succeed. */
export type LedgerErrorCode = CodesOf<'ledger'>;
/** Codes a process exits with: start-up refusals and command-line errors. */
export type ExitErrorCode = CodesOf<'start' | 'cli'>;
export type StartErrorCode = CodesOf<'start'>;
export type CliErrorCode = CodesOf<'cli'>;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

export function exitCodeOf(code: ExitErrorCode): number {
  return ERRORS[code].exitCode;
}
