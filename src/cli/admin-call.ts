import type { AdminTarget } from './admin-target.js';
import { failureReason, unreachable } from './reach.js';
import { CliFailure } from './run-command.js';

export interface AdminAnswer {
  readonly status: number;
  readonly ok: boolean;
  readonly text: string;
}

export interface AdminCallOptions {
  readonly body?: unknown;
  /** Undefined: wait as long as the switch takes (a bulk seed of a million accounts takes a while). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** An error body's text is shown at most this long: enough for a message, not a page of HTML. */
const ERROR_TEXT_CHARS_MAX = 200;

/** The address an operator would recognise in a message: host:port of the base URL. */
function addressOf(target: AdminTarget): string {
  return new URL(target.baseUrl).host;
}

/**
 * One admin API call with the bearer token. Resolves with any HTTP answer;
 * rejects with a one-line CliFailure when the switch cannot be reached or
 * does not answer in time.
 */
export async function callAdmin(
  target: AdminTarget,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  options: AdminCallOptions = {},
): Promise<AdminAnswer> {
  const signals = [
    ...(options.timeoutMs === undefined ? [] : [AbortSignal.timeout(options.timeoutMs)]),
    ...(options.signal === undefined ? [] : [options.signal]),
  ];
  try {
    const response = await fetch(`${target.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(signals.length === 0 ? {} : { signal: AbortSignal.any(signals) }),
    });
    return { status: response.status, ok: response.ok, text: await response.text() };
  } catch (error) {
    if (options.signal?.aborted === true) throw error;
    if ((error as { name?: unknown }).name === 'TimeoutError')
      throw unreachable(addressOf(target), `no answer within ${options.timeoutMs} ms`);
    throw unreachable(addressOf(target), failureReason(error));
  }
}

/**
 * A non-2xx answer as one line: the status, the API's error code and message
 * (docs/protocol.md section 6: `{error: {code, message}}`), else the start of the body.
 */
export function answerFailure(answer: AdminAnswer): CliFailure {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string')
    return new CliFailure('SWITCHYARD_ADMIN_ERROR', `${answer.status} ${error.code}: ${error.message}`);
  const text = answer.text.replace(/\s+/g, ' ').trim().slice(0, ERROR_TEXT_CHARS_MAX);
  return new CliFailure('SWITCHYARD_ADMIN_ERROR', `${answer.status}${text === '' ? '' : ` ${text}`}`);
}
