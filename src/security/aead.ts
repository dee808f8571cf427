import { createCipheriv, createDecipheriv } from 'node:crypto';
import { drawRandom } from './random-pool.js';

/**
 * AES-256-GCM for the few places a full PAN must be kept (an account's own
 * state, for re-keying; an issuer advice, to send it again). A sealed value
 * names the key that sealed it and is bound to the record it belongs to:
 * the record id is the associated data, so a ciphertext moved to another
 * record, or opened with another key or key id, fails to open.
 *
 * Layout: version (1) | key id length (1) | key id (ASCII) | IV (12) | tag (16) | ciphertext.
 */

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;
/** Key ids are short ASCII names (`d1`, `2026-12-data`): they are stored beside every ciphertext. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

export interface DataKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A sealed value that cannot be opened: wrong key, wrong key id, moved to another record, or damaged. */
export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

export function seal(key: DataKey, recordId: string, plaintext: Uint8Array): Buffer {
  if (key.key.length !== DATA_KEY_BYTES) throw new RangeError('a data key is 32 bytes');
  const id = Buffer.from(key.id, 'ascii');
  // Unique and unpredictable, as GCM needs: random-pool.ts says why a pooled draw is.
  const iv = drawRandom(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(associatedData(id, recordId));
  const body = cipher.update(plaintext);
  const rest = cipher.final();
  // One buffer for the whole sealed value (the IV copied out of the pool's block here).
  const sealed = Buffer.allocUnsafe(2 + id.length + IV_BYTES + TAG_BYTES + body.length + rest.length);
  sealed[0] = VERSION;
  sealed[1] = id.length;
  let at = 2 + id.copy(sealed, 2);
  at += iv.copy(sealed, at);
  at += cipher.getAuthTag().copy(sealed, at);
  at += body.copy(sealed, at);
  rest.copy(sealed, at);
  return sealed;
}

/** The id of the key that sealed `sealed` (to pick the key, or to find what an old key still protects). */
export function sealedKeyId(sealed: Uint8Array): string {
  const buffer = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (buffer.length < 2 || buffer[0] !== VERSION) throw new SealError('not a sealed value of this version');
  const idLength = buffer[1]!;
  if (buffer.length < 2 + idLength + IV_BYTES + TAG_BYTES) throw new SealError('sealed value cut short');
  return buffer.toString('ascii', 2, 2 + idLength);
}

/** Opens `sealed` with the key it names, found by `keyOf`; throws SealError when it cannot. */
export function open(
  sealed: Uint8Array,
  recordId: string,
  keyOf: (id: string) => Buffer | undefined,
): Buffer {
  const buffer = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const keyId = sealedKeyId(buffer);
  const key = keyOf(keyId);
  if (key === undefined) throw new SealError(`no data key with id ${keyId}`);
  const id = buffer.subarray(2, 2 + buffer[1]!);
  let at = 2 + id.length;
  const iv = buffer.subarray(at, at + IV_BYTES);
  at += IV_BYTES;
  const tag = buffer.subarray(at, at + TAG_BYTES);
  at += TAG_BYTES;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(associatedData(id, recordId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(buffer.subarray(at)), decipher.final()]);
  } catch {
    // One answer for every reason: which part was wrong is not the caller's to learn.
    throw new SealError(`sealed value does not open under key ${keyId} for this record`);
  }
}

/** The key id and the record id, length-prefixed, so no two pairs share an encoding. */
function associatedData(keyId: Buffer, recordId: string): Buffer {
  const record = Buffer.from(recordId, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt16BE(keyId.length, 0);
  head.writeUInt16BE(record.length, 2);
  return Buffer.concat([head, keyId, record]);
}
