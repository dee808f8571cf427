import { encodePayload } from '../codec/codec.js';
import { ClientError } from './errors.js';
import { isValidId, type MessageId, type RequestMessage } from './messages.js';

/**
 * Gives a request its id and encodes it once. An absent id becomes the next
 * free integer; a caller's id must be valid and not in flight (docs/protocol.md
 * section 1). The caller's object is never mutated: they may retransmit it.
 */
export function encodeRequest(
  message: RequestMessage,
  nextId: () => number,
  inFlight: (id: MessageId) => boolean,
): { id: MessageId; encoded: Buffer } | ClientError {
  if (typeof message !== 'object' || message === null || typeof message.mti !== 'string') {
    return new ClientError('INVALID_MESSAGE', 'a message is a map with a string mti');
  }
  let id = message.id;
  if (id === undefined) {
    do id = nextId();
    while (inFlight(id));
    return { id, encoded: encodePayload({ ...message, id }) };
  }
  if (!isValidId(id)) {
    return new ClientError(
      'INVALID_MESSAGE',
      'id must be an unsigned safe integer or a string of at most 64 bytes',
    );
  }
  if (inFlight(id))
    return new ClientError('DUPLICATE_ID', `id ${String(id)} is already in flight on this connection`);
  return { id, encoded: encodePayload(message) };
}
