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

/** An answer to one of the switch's messages; `mti` defaults to the message MTI's response and `id` to the message's. */
export interface HandlerAnswer {
  readonly mti?: string;
  readonly id?: MessageId;
  readonly rc: string;
  readonly [field: string]: unknown;
}

/**
 * Handed to issuer handlers with each request or advice: answers it on the
 * connection it came on, whenever the host is ready. Both return false, and
 * send nothing, when that connection has closed since: the switch times the
 * request out, or repeats the advice, on its own.
 */
export interface SwitchMessageContext {
  /** Sends an answer (another one, if one was already sent); `mti` and `id` default as for a handler's return. */
  respond(answer: HandlerAnswer): boolean;
  /** Advices: sends the acknowledgment (0130/0230/0430 with the advice's `id`, `rc` 00). Once per advice. */
  acknowledge(): boolean;
}

/**
 * Issuer hosts: answers a request the switch forwarded (0100, 0200). Its
 * return value is the response; `null` sends none now (answer later with
 * `context.respond()`, or never and let the switch time it out).
 */
export type IncomingRequestHandler = (
  request: ResponseMessage,
  context: SwitchMessageContext,
) => HandlerAnswer | null | Promise<HandlerAnswer | null>;

/**
 * Issuer hosts: takes an advice (0120/0220/0420, or its repeat 0121/0221/0421).
 * With `autoAcknowledgeAdvices` (the default) the SDK acknowledges it when the
 * handler returns or its promise resolves, and not when it throws or rejects,
 * so an advice the host failed to record comes again. Without, the host calls
 * `context.acknowledge()` itself.
 */
export type AdviceHandler = (advice: ResponseMessage, context: SwitchMessageContext) => void | Promise<void>;

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

/**
 * Advices carry message function 2 in the third digit (0120, 0221, 0420):
 * the switch reports something already decided and only wants it
 * acknowledged. Function 0 (0100, 0200) asks for a decision.
 */
export function isAdviceMti(mti: string): boolean {
  return mti.length === 4 && mti[2] === '2';
}

/** Request MTI to response MTI: third digit + 1, last digit 0 (0100 -> 0110, 0121 -> 0130, 0420 -> 0430). */
export function responseMtiFor(requestMti: string): string {
  const function3 = requestMti.charCodeAt(2) - 48;
  return `${requestMti.slice(0, 2)}${function3 + 1}0`;
}
