import type { AdminErrorCode, LedgerErrorCode } from '../errors/codes.js';

/**
 * The HTTP status of every code the admin API answers with (docs/protocol.md
 * section 6): its own errors, and the ledger's domain outcomes, which carry
 * no status of their own. Typed so a new code cannot go without one.
 */
export const HTTP_STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  internal: 500,
  invalid_config: 400,
  cycle_not_found: 404,
  cycle_running: 409,
  account_not_found: 404,
  currency_mismatch: 409,
  reference_conflict: 409,
  insufficient_funds: 409,
  balance_overflow: 409,
  // The change may or may not have been applied: retrying the same call is safe (idempotent).
  store_unavailable: 503,
  worker_unavailable: 503,
} as const satisfies Record<AdminErrorCode | LedgerErrorCode, number>;

export type HttpErrorCode = keyof typeof HTTP_STATUS;

export function httpStatusOf(code: HttpErrorCode): number {
  return HTTP_STATUS[code];
}
