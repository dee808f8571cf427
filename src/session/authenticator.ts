import type { KeyObject } from 'node:crypto';
import type { InstitutionConfig } from '../config/types.js';
import type { Role } from '../protocol/mti.js';
import { signonSignedBytes } from '../protocol/signon.js';
import { importEd25519PublicKey, verifyEd25519 } from './ed25519.js';

/** What the log says of a sign-on the keys refused. */
export type SignonRefusal = 'unknown institution' | 'wrong role' | 'bad signature';

/**
 * Sign-on verification against `institutions[]` (docs/protocol.md section 2).
 * Keys are imported once per config load, never per sign-on.
 */
export class Authenticator {
  private readonly keys = new Map<string, KeyObject>();
  /** Institution ids of any role: a refusal's log line tells an unknown id from a wrong role. */
  private readonly ids = new Set<string>();

  constructor(institutions: readonly InstitutionConfig[]) {
    for (const inst of institutions) {
      this.keys.set(keyOf(inst.id, inst.role), importEd25519PublicKey(Buffer.from(inst.publicKey, 'base64')));
      this.ids.add(inst.id);
    }
  }

  /**
   * Undefined when a configured (institution, role)'s key made `signature`
   * over the sign-on bytes; otherwise why not, for the switch's log only (the
   * wire says "sign-on refused" whatever the reason, docs/protocol.md section 2).
   */
  refusal(
    nonce: Uint8Array,
    institution: string,
    role: Role,
    signature: Uint8Array,
  ): SignonRefusal | undefined {
    const key = this.keys.get(keyOf(institution, role));
    if (key === undefined) return this.ids.has(institution) ? 'wrong role' : 'unknown institution';
    return verifyEd25519(key, signonSignedBytes(nonce, institution, role), signature)
      ? undefined
      : 'bad signature';
  }

  /** Whether (institution, role) is still configured: used on reload to close dropped institutions. */
  has(institution: string, role: Role): boolean {
    return this.keys.has(keyOf(institution, role));
  }
}

function keyOf(institution: string, role: Role): string {
  return `${role}\u0000${institution}`;
}
