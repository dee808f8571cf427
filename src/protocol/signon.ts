import type { Role } from './mti.js';

export const NONCE_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;

/** The bytes an institution signs at sign-on: nonce || utf8(institution) || 0x00 || utf8(role). */
export function signonSignedBytes(nonce: Uint8Array, institution: string, role: Role): Buffer {
  return Buffer.concat([
    nonce,
    Buffer.from(institution, 'utf8'),
    Buffer.from([0]),
    Buffer.from(role, 'utf8'),
  ]);
}
