import { ClientError } from './errors.js';
import { type IncomingRequestHandler, type ResponseMessage, responseMtiFor } from './messages.js';

const RC_SYSTEM_MALFUNCTION = '96';

/**
 * Runs an issuer's handler on a request or advice from the switch and hands
 * back the answer, with the response MTI and the switch's id filled in when
 * the handler left them out. A handler that throws is reported and the switch
 * gets rc 96 rather than silence (silence would cost it a full issuer timeout).
 */
export function answerSwitchRequest(
  request: ResponseMessage,
  handler: IncomingRequestHandler,
  send: (answer: Record<string, unknown>) => void,
  onError: (error: Error) => void,
): void {
  const responseMti = responseMtiFor(request.mti);
  Promise.resolve()
    .then(() => handler(request))
    .then(
      (answer) => send({ ...answer, mti: answer.mti ?? responseMti, id: answer.id ?? request.id }),
      (error: unknown) => {
        onError(
          new ClientError('HANDLER_FAILED', `onRequest handler failed for ${request.mti}; answered rc 96`, {
            cause: error,
          }),
        );
        send({ mti: responseMti, id: request.id, rc: RC_SYSTEM_MALFUNCTION });
      },
    );
}
