import type { KeyObject } from 'node:crypto';
import type { InstitutionConfig } from '../config/types.js';
import type { Role } from '../protocol/mti.js';
import { signonSignedBytes } from '../protocol/signon.js';
import { importEd25519PublicKey, verifyEd25519 } from './ed25519.js';

/**
 * Sign-on verification against `institutions[]` (docs/protocol.md section 2).
 * Keys are imported once per config load, never per sign-on.
 */
export class Authenticator {
  private readonly keys = new Map<string, KeyObject>();

  constructor(institutions: readonly InstitutionConfig[]) {
    for (const inst of institutions) {
      this.keys.set(keyOf(inst.id, inst.role), importEd25519PublicKey(Buffer.from(inst.publicKey, 'base64')));
    }
  }

  /** True only for a configured (institution, role) whose key made `signature` over the sign-on bytes. */
  verify(nonce: Uint8Array, institution: string, role: Role, signature: Uint8Array): boolean {
    const key = this.keys.get(keyOf(institution, role));
    if (key === undefined) return false;
    return verifyEd25519(key, signonSignedBytes(nonce, institution, role), signature);
  }

  /** Whether (institution, role) is still configured: used on reload to close dropped institutions. */
  has(institution: string, role: Role): boolean {
    return this.keys.has(keyOf(institution, role));
  }
}

function keyOf(institution: string, role: Role): string {
  return `${role}\u0000${institution}`;
}
