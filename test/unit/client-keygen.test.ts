import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { runKeygen } from '../../src/cli/keygen.js';
import { importEd25519PublicKey, verifyEd25519 } from '../../src/session/ed25519.js';

describe('runKeygen', () => {
  it('prints a JSON key pair, base64, with the note on where each half goes', () => {
    const parsed = JSON.parse(runKeygen()) as Record<string, string>;
    expect(Buffer.from(parsed.publicKey!, 'base64')).toHaveLength(32);
    expect(Buffer.from(parsed.secretKey!, 'base64')).toHaveLength(64);
    expect(parsed._comment).toMatch(/secretKey stays with the institution/);
    expect(parsed._comment).toMatch(/only publicKey goes into the switch config/);
  });

  it('makes a pair whose signatures the switch (node:crypto) accepts', () => {
    const parsed = JSON.parse(runKeygen(new Uint8Array(32).fill(9))) as {
      publicKey: string;
      secretKey: string;
    };
    const message = Buffer.from('nonce||institution');
    const sig = nacl.sign.detached(message, new Uint8Array(Buffer.from(parsed.secretKey, 'base64')));
    const publicKey = importEd25519PublicKey(Buffer.from(parsed.publicKey, 'base64'));
    expect(verifyEd25519(publicKey, message, sig)).toBe(true);
    expect(verifyEd25519(publicKey, Buffer.from('something else'), sig)).toBe(false);
  });

  it('makes a different pair each time', () => {
    expect(JSON.parse(runKeygen()).publicKey).not.toBe(JSON.parse(runKeygen()).publicKey);
  });
});
