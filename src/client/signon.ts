import nacl from 'tweetnacl';
import type { Role } from '../protocol/mti.js';
import { NONCE_BYTES, signonSignedBytes } from '../protocol/signon.js';
import { ClientError } from './errors.js';
import type { MessageId, ResponseMessage } from './messages.js';

export interface SignonIdentity {
  readonly institution: string;
  readonly role: Role;
  readonly secretKey: Uint8Array;
}

/**
 * The answer to the switch's challenge (docs/protocol.md section 2.2): an Ed25519
 * signature over nonce || institution || 0x00 || role. Made once per
 * connection, never per message (tweetnacl signs only a few hundred a second).
 */
export function signonFor(
  challenge: ResponseMessage,
  identity: SignonIdentity,
  id: MessageId,
): Record<string, unknown> | ClientError {
  const nonce = challenge.nonce;
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) {
    return new ClientError('PROTOCOL_ERROR', `challenge without a ${NONCE_BYTES}-byte nonce`);
  }
  const { institution, role, secretKey } = identity;
  const sig = nacl.sign.detached(signonSignedBytes(nonce, institution, role), secretKey);
  return { mti: '0800', id, code: 'signon', institution, role, sig };
}
