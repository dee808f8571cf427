/** switchyard client SDK: the public surface. */
export { backoffDelayMs } from './backoff.js';
export { SwitchClient, type SwitchClientEventMap } from './client.js';
export { CLIENT_ERROR_CODES, ClientError, type ClientErrorCode, isClientError } from './errors.js';
export type {
  AdviceHandler,
  HandlerAnswer,
  IncomingRequestHandler,
  MessageId,
  RequestMessage,
  ResponseMessage,
  SwitchMessageContext,
} from './messages.js';
export {
  CLIENT_DEFAULTS,
  type ClientTlsOptions,
  type ReconnectPolicy,
  type SwitchClientOptions,
  type TransportKind,
} from './options.js';
