import { isClientError } from '../client/errors.js';
import { CliFailure } from './run-command.js';

/** How deep to follow `cause` / AggregateError chains for a system error code. */
const CAUSE_DEPTH_MAX = 8;
/** Node's system errors (ECONNREFUSED, ENOTFOUND, ...) and undici's connect errors (UND_ERR_...). */
const NETWORK_CODE = /^(E[A-Z0-9_]+|UND_ERR_[A-Z_]+)$/;

/** The first network error code along an error's cause chain, e.g. ECONNREFUSED. */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < CAUSE_DEPTH_MAX && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODE.test(code)) return code;
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const found = networkCode(inner[0]);
      if (found !== undefined) return found;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why a connection failed, in a word if possible: the network code, else the innermost cause's message. */
export function failureReason(error: unknown): string {
  const code = networkCode(error);
  if (code !== undefined) return code;
  let current: unknown = error;
  for (let depth = 0; depth < CAUSE_DEPTH_MAX; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  return current instanceof Error ? current.message : String(current);
}

/** `host:port`, with an IPv6 host in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The one line for a switch that did not answer at `address`; `why` is the error code or a short reason. */
export function unreachable(address: string, why: string): CliFailure {
  return new CliFailure('SWITCHYARD_SWITCH_UNREACHABLE', `cannot reach the switch at ${address} (${why})`);
}

/**
 * A connect or sign-on failure of the SDK (or the lean connection) as one
 * line naming the address tried; undefined for any other error.
 */
export function connectFailure(error: unknown, address: string): CliFailure | undefined {
  if (isClientError(error, 'CONNECT_FAILED')) return unreachable(address, failureReason(error));
  if (isClientError(error, 'CONNECT_TIMEOUT')) return unreachable(address, error.message);
  if (isClientError(error, 'SIGNON_REFUSED')) {
    return new CliFailure('SWITCHYARD_SIGNON_REFUSED', `${error.message} (at ${address})`);
  }
  return undefined;
}
