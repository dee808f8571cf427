import nacl from 'tweetnacl';
import { type ConnectOptions, RawClient, show } from './raw-client.js';
import type { Msg } from './wire.js';

export type Role = 'acquirer' | 'issuer';

export interface Institution {
  readonly id: string;
  readonly role: Role;
  readonly keys: nacl.SignKeyPair;
}

/** A fresh Ed25519 identity (tweetnacl). */
export function makeInstitution(id: string, role: Role): Institution {
  return { id, role, keys: nacl.sign.keyPair() };
}

/** The `institutions[]` entry for the switch config (public key base64). */
export function institutionEntry(inst: Institution): { id: string; role: Role; publicKey: string } {
  return { id: inst.id, role: inst.role, publicKey: Buffer.from(inst.keys.publicKey).toString('base64') };
}

/** nonce || utf8(institution) || 0x00 || utf8(role) */
export function signonBytes(nonce: Uint8Array, institution: string, role: string): Uint8Array {
  return Buffer.concat([
    Buffer.from(nonce),
    Buffer.from(institution, 'utf8'),
    Buffer.from([0]),
    Buffer.from(role, 'utf8'),
  ]);
}

export function signSignon(
  secretKey: Uint8Array,
  nonce: Uint8Array,
  institution: string,
  role: string,
): Uint8Array {
  return nacl.sign.detached(signonBytes(nonce, institution, role), secretKey);
}

/** Ed25519 group order L. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The same signature with S replaced by S + L (still < 2^256): non-canonical, malleated. */
export function malleate(sig: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
  let t = s + L;
  const out = Uint8Array.from(sig);
  for (let i = 32; i < 64; i++) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  if (t !== 0n) throw new Error('S + L does not fit 32 bytes');
  return out;
}

export interface SignOnOverrides {
  readonly id?: unknown;
  readonly institution?: string;
  readonly role?: string;
  /** Sign over this nonce instead of the connection's. */
  readonly nonce?: Uint8Array;
  /** Send this signature as is. */
  readonly sig?: Uint8Array;
  /** Sign with this secret key instead of the institution's. */
  readonly secretKey?: Uint8Array;
}

let nextSignonId = 1;

/** Waits for the challenge, sends the sign-on; returns the switch's answer (not checked). */
export async function signOn(client: RawClient, inst: Institution, o: SignOnOverrides = {}): Promise<Msg> {
  const challenge = await client.challenge();
  const nonce = challenge['nonce'] as Uint8Array;
  const institution = o.institution ?? inst.id;
  const role = o.role ?? inst.role;
  const sig = o.sig ?? signSignon(o.secretKey ?? inst.keys.secretKey, o.nonce ?? nonce, institution, role);
  const id = o.id ?? `signon-${nextSignonId++}`;
  client.send({ mti: '0800', id, code: 'signon', institution, role, sig });
  return client.nextMessage((m) => m['mti'] === '0810' && m['code'] === 'signon');
}

/** Connects and signs on; throws unless the switch answers rc 00. */
export async function connectSignedOn(options: ConnectOptions, inst: Institution): Promise<RawClient> {
  const client = await RawClient.connect(options);
  try {
    const answer = await signOn(client, inst);
    if (answer['rc'] !== '00') throw new Error(`sign-on refused: ${show(answer)}`);
    return client;
  } catch (e) {
    client.destroy();
    throw e;
  }
}
