import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../protocol/signon.js';

/**
 * Ed25519 verification with node:crypto (OpenSSL): ~16k verifies/s against
 * tweetnacl's ~200/s, and it refuses non-canonical signatures (S >= L), which
 * tweetnacl would accept. The explicit S check below makes that refusal ours,
 * not an OpenSSL version detail.
 */

// SPKI DER prefix for a raw 32-byte Ed25519 public key (RFC 8410).
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// L = 2^252 + 27742317777372353535851937790883648493, little-endian bytes.
const GROUP_ORDER_LE = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

export function importEd25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== PUBLIC_KEY_BYTES)
    throw new RangeError(`Ed25519 public key must be ${PUBLIC_KEY_BYTES} bytes`);
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** True when S (the signature's last 32 bytes, little-endian) is below the group order L. */
export function isCanonicalS(signature: Uint8Array): boolean {
  for (let i = SIGNATURE_BYTES - 1; i >= 32; i--) {
    const s = signature[i]!;
    const l = GROUP_ORDER_LE[i - 32]!;
    if (s < l) return true;
    if (s > l) return false;
  }
  return false; // S == L is not canonical either
}

export function verifyEd25519(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || !isCanonicalS(signature)) return false;
  return verify(null, message, publicKey, signature);
}
