/**
 * The SDK's one error registry. Every operating error the client can raise has
 * a stable `code` that callers switch on; messages are for humans and may
 * change. Business outcomes (a decline, rc 51, ...) are never errors: they
 * come back as the `rc` of a resolved response.
 */
export const CLIENT_ERROR_CODES = {
  /** Options failed validation; nothing was opened. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** TCP/TLS/WS connection could not be established. */
  CONNECT_FAILED: 'CONNECT_FAILED',
  /** No challenge, or no sign-on answer, within requestTimeoutMs. */
  CONNECT_TIMEOUT: 'CONNECT_TIMEOUT',
  /** The switch answered the sign-on with an rc other than 00 (see `rc`). */
  SIGNON_REFUSED: 'SIGNON_REFUSED',
  /** request()/requestBatch() while not signed on (before connect, while reconnecting). */
  NOT_CONNECTED: 'NOT_CONNECTED',
  /** No response within requestTimeoutMs. The switch may still have processed it. */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** The connection dropped with the request unanswered; retransmitting is safe (exactly-once by key). */
  DISCONNECTED: 'DISCONNECTED',
  /** close() was called with the request unanswered. */
  CLOSED: 'CLOSED',
  /** A message without a string `mti`, with a bad `id`, or an empty batch. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** The caller's id is already in flight on this connection (docs/protocol.md section 1). */
  DUPLICATE_ID: 'DUPLICATE_ID',
  /** One message, or one requestBatch(), would not fit in a frame (frameBytesMax / batchMax). */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** The switch sent bytes that are not a valid payload; the connection is dropped. */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  /** An echo or sign-off was answered with an rc other than 00. */
  UNEXPECTED_RESPONSE: 'UNEXPECTED_RESPONSE',
  /** An issuer handler failed: onRequest (the switch was answered rc 96) or onAdvice (not acknowledged). */
  HANDLER_FAILED: 'HANDLER_FAILED',
} as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[keyof typeof CLIENT_ERROR_CODES];

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  /** The switch's response code, for SIGNON_REFUSED and UNEXPECTED_RESPONSE. */
  readonly rc: string | undefined;

  constructor(code: ClientErrorCode, message: string, details: { rc?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.rc = details.rc;
  }
}

export function isClientError(error: unknown, code?: ClientErrorCode): error is ClientError {
  return error instanceof ClientError && (code === undefined || error.code === code);
}
