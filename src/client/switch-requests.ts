import { ClientError } from './errors.js';
import {
  type AdviceHandler,
  type HandlerAnswer,
  type IncomingRequestHandler,
  isAdviceMti,
  isValidId,
  type MessageId,
  type ResponseMessage,
  responseMtiFor,
  type SwitchMessageContext,
} from './messages.js';

const RC_APPROVED = '00';
const RC_SYSTEM_MALFUNCTION = '96';

/** What a connection knows of the host's issuer side when a switch message arrives. */
export interface SwitchMessageHandlers {
  readonly request: IncomingRequestHandler | undefined;
  readonly advice: AdviceHandler | undefined;
  readonly autoAcknowledgeAdvices: boolean;
}

/** Writes one answer on the connection the message came on; false when it has closed. */
export type SendAnswer = (answer: Record<string, unknown>) => boolean;

/** One request or advice and the connection it came on: how the host answers it, now or later. */
class MessageContext implements SwitchMessageContext {
  /** The first acknowledge()'s outcome; undefined until then. */
  private acknowledgment: boolean | undefined;
  private readonly responseMti: string;

  constructor(
    private readonly id: MessageId,
    requestMti: string,
    private readonly send: SendAnswer,
  ) {
    this.responseMti = responseMtiFor(requestMti);
  }

  respond(answer: HandlerAnswer): boolean {
    return this.send({ ...answer, mti: answer.mti ?? this.responseMti, id: answer.id ?? this.id });
  }

  acknowledge(): boolean {
    // Once per advice: a handler that acknowledges under auto-acknowledgment is not answered twice.
    this.acknowledgment ??= this.send({ mti: this.responseMti, id: this.id, rc: RC_APPROVED });
    return this.acknowledgment;
  }
}

function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isAnswer(value: unknown): value is HandlerAnswer {
  return typeof value === 'object' && value !== null && typeof (value as { rc?: unknown }).rc === 'string';
}

/**
 * A request or advice from the switch (docs/protocol.md section 4), given to
 * the host's handlers. Requests: the handler's return value is the answer
 * (null: none now). A handler that throws, rejects or returns something that
 * is not an answer is reported and the switch gets rc 96 at once: silence
 * would hold the acquirer for the whole issuer timeout and then let stand-in
 * approve what the issuer could not decide. Advices: acknowledged after the
 * handler, unless it failed (the switch then repeats the advice, which is
 * what store-and-forward is for) or automatic acknowledgment is off.
 * A message without a usable `id` cannot be answered and is dropped.
 */
export function handleSwitchMessage(
  message: ResponseMessage,
  handlers: SwitchMessageHandlers,
  send: SendAnswer,
  onError: (error: Error) => void,
): void {
  if (!isValidId(message.id)) return;
  const context = new MessageContext(message.id, message.mti, send);
  if (isAdviceMti(message.mti)) handleAdvice(message, handlers, context, onError);
  else handleRequest(message, handlers.request, context, onError);
}

function handleRequest(
  request: ResponseMessage,
  handler: IncomingRequestHandler | undefined,
  context: MessageContext,
  onError: (error: Error) => void,
): void {
  // No handler: leave it unanswered; the switch times it out (stand-in or 91).
  if (handler === undefined) return;
  const fail = (cause: unknown): void => {
    onError(
      new ClientError('HANDLER_FAILED', `onRequest handler failed for ${request.mti}; answered rc 96`, {
        cause,
      }),
    );
    context.respond({ rc: RC_SYSTEM_MALFUNCTION });
  };
  const settle = (answer: unknown): void => {
    if (answer === null) return;
    if (!isAnswer(answer)) {
      fail(new TypeError('the handler returned neither an answer with a string rc nor null'));
      return;
    }
    context.respond(answer);
  };
  let result: ReturnType<IncomingRequestHandler>;
  try {
    result = handler(request, context);
  } catch (error) {
    fail(error);
    return;
  }
  // A plain value is answered in this turn: no promise hop per request for a synchronous host.
  if (isThenable<HandlerAnswer | null>(result)) result.then(settle, fail);
  else settle(result);
}

function handleAdvice(
  advice: ResponseMessage,
  handlers: SwitchMessageHandlers,
  context: MessageContext,
  onError: (error: Error) => void,
): void {
  const { advice: handler, autoAcknowledgeAdvices } = handlers;
  const done = (): void => {
    if (autoAcknowledgeAdvices) context.acknowledge();
  };
  if (handler === undefined) {
    done();
    return;
  }
  const fail = (cause: unknown): void => {
    onError(
      new ClientError(
        'HANDLER_FAILED',
        `onAdvice handler failed for ${advice.mti}; not acknowledged, the switch repeats it`,
        { cause },
      ),
    );
  };
  let result: void | Promise<void>;
  try {
    result = handler(advice, context);
  } catch (error) {
    fail(error);
    return;
  }
  if (isThenable<void>(result)) result.then(done, fail);
  else done();
}
