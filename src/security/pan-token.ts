import { createHmac } from 'node:crypto';

/**
 * A PAN's stored reference: a keyed hash (HMAC-SHA256) of the whole PAN,
 * 128 bits kept, with the id of the key that made it (PCI DSS v4 3.5.1: a
 * keyed cryptographic hash of the entire PAN). Without the key a token says
 * nothing about its PAN; with it, lookups by PAN stay one hash away.
 */

export const TOKEN_KEY_BYTES = 32;
/** Bytes of the HMAC kept: 128 bits, the least the issue allows. */
export const TOKEN_BYTES = 16;

export interface TokenKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The token of `pan` under `key`: base64url of the first 16 bytes of HMAC-SHA256 (22 characters). */
export function panToken(key: TokenKey, pan: string): string {
  return createHmac('sha256', key.key)
    .update(pan, 'ascii')
    .digest()
    .subarray(0, TOKEN_BYTES)
    .toString('base64url');
}
