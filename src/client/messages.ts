/**
 * Message shapes as the SDK sees them. Fields beyond `mti`, `id` and `rc` are
 * the caller's business (docs/protocol.md section 3): the SDK forwards them as-is.
 */

/** A request id: unsigned integer below 2^53 or a string of at most 64 bytes. */
export type MessageId = number | string;

export interface RequestMessage {
  readonly mti: string;
  /** Assigned by the client (an incrementing integer) when absent. */
  readonly id?: MessageId;
  readonly [field: string]: unknown;
}

export interface ResponseMessage {
  readonly mti: string;
  readonly id?: MessageId;
  readonly rc?: string;
  readonly [field: string]: unknown;
}

/** What an issuer's onRequest handler returns; `mti` defaults to the request MTI's response and `id` to the request's. */
export interface HandlerAnswer {
  readonly mti?: string;
  readonly id?: MessageId;
  readonly rc: string;
  readonly [field: string]: unknown;
}

export type IncomingRequestHandler = (request: ResponseMessage) => HandlerAnswer | Promise<HandlerAnswer>;

const ID_STRING_BYTES_MAX = 64;

export function isMessageMap(value: unknown): value is ResponseMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    typeof (value as { mti?: unknown }).mti === 'string'
  );
}

export function isValidId(id: unknown): id is MessageId {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0;
  if (typeof id === 'string') return Buffer.byteLength(id, 'utf8') <= ID_STRING_BYTES_MAX;
  return false;
}

/**
 * Who sent a message, read from its MTI: the third digit is even for requests
 * and advices (0100, 0120, 0420), odd for their responses (0110, 0130, 0430).
 * 0800 is session traffic; 0620 is the switch's reject notice, which answers
 * one of ours despite its even digit.
 */
export function isSwitchInitiatedRequest(mti: string): boolean {
  if (mti.length !== 4 || mti === '0800' || mti === '0620') return false;
  const function3 = mti.charCodeAt(2) - 48;
  return function3 >= 0 && function3 <= 9 && function3 % 2 === 0;
}

/** Request MTI to response MTI: third digit + 1, last digit 0 (0100 -> 0110, 0121 -> 0130, 0420 -> 0430). */
export function responseMtiFor(requestMti: string): string {
  const function3 = requestMti.charCodeAt(2) - 48;
  return `${requestMti.slice(0, 2)}${function3 + 1}0`;
}
