import nacl from 'tweetnacl';

const SEED_BYTES = 32;

/**
 * `switchyard keygen`: a new Ed25519 key pair for one institution, as JSON
 * (base64), made with tweetnacl like the client SDK that will use it. The
 * secretKey is tweetnacl's 64-byte form (seed || public key), what
 * SwitchClient's `secretKey` takes. `seed` is for tests only.
 */
export function runKeygen(seed?: Uint8Array): string {
  if (seed !== undefined && seed.length !== SEED_BYTES)
    throw new RangeError(`seed must be ${SEED_BYTES} bytes`);
  const pair = seed === undefined ? nacl.sign.keyPair() : nacl.sign.keyPair.fromSeed(seed);
  return JSON.stringify(
    {
      _comment:
        'The secretKey stays with the institution (its host signs on with it); only publicKey goes into the switch config (institutions[].publicKey).',
      publicKey: Buffer.from(pair.publicKey).toString('base64'),
      secretKey: Buffer.from(pair.secretKey).toString('base64'),
    },
    null,
    2,
  );
}
