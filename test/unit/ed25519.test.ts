import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { signonSignedBytes } from '../../src/protocol/signon.js';
import { importEd25519PublicKey, isCanonicalS, verifyEd25519 } from '../../src/session/ed25519.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function leToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigIntToLe(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** The same signature with S replaced by S + L: tweetnacl accepts it, the contract refuses it. */
function malleate(signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(signature);
  out.set(bigIntToLe(leToBigInt(signature.subarray(32)) + L, 32), 32);
  return out;
}

describe('Ed25519 sign-on verification', () => {
  const pair = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
  const key = importEd25519PublicKey(pair.publicKey);
  const nonce = new Uint8Array(32).fill(3);
  const message = signonSignedBytes(nonce, 'acq-1', 'acquirer');

  it('builds the signed bytes as nonce || institution || 0x00 || role', () => {
    expect(Buffer.from(message)).toEqual(
      Buffer.concat([Buffer.from(nonce), Buffer.from('acq-1'), Buffer.from([0]), Buffer.from('acquirer')]),
    );
  });

  it('verifies a tweetnacl signature with node:crypto', () => {
    const sig = nacl.sign.detached(message, pair.secretKey);
    expect(verifyEd25519(key, message, sig)).toBe(true);
  });

  it('refuses a signature over different bytes, and one made by another key', () => {
    const sig = nacl.sign.detached(message, pair.secretKey);
    expect(verifyEd25519(key, signonSignedBytes(nonce, 'acq-1', 'issuer'), sig)).toBe(false);
    const other = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
    expect(verifyEd25519(key, message, nacl.sign.detached(message, other.secretKey))).toBe(false);
  });

  it('refuses the malleated (S + L) signature that tweetnacl itself accepts', () => {
    const sig = nacl.sign.detached(message, pair.secretKey);
    const malleated = malleate(sig);
    expect(nacl.sign.detached.verify(message, malleated, pair.publicKey)).toBe(true);
    expect(isCanonicalS(malleated)).toBe(false);
    expect(verifyEd25519(key, message, malleated)).toBe(false);
  });

  it('classifies S = L - 1 as canonical and S = L as not', () => {
    const sig = new Uint8Array(64);
    sig.set(bigIntToLe(L - 1n, 32), 32);
    expect(isCanonicalS(sig)).toBe(true);
    sig.set(bigIntToLe(L, 32), 32);
    expect(isCanonicalS(sig)).toBe(false);
  });

  it('refuses signatures of the wrong length and keys of the wrong length', () => {
    expect(verifyEd25519(key, message, new Uint8Array(63))).toBe(false);
    expect(() => importEd25519PublicKey(new Uint8Array(31))).toThrow(RangeError);
  });
});
