import { open, seal, sealedKeyId } from './aead.js';
import type { KeyFile } from './key-file.js';
import { panToken } from './pan-token.js';
import { ShardHash } from './shard-hash.js';

/**
 * What the ledger stores in place of a PAN, and the keys that make it
 * (docs/security.md "Stored references"):
 *
 * - the shard: SipHash-2-4 of the PAN under the shard key (ShardHash);
 * - the ref: `<tokenKeyId>.<token>`, the PAN's HMAC token under a token key;
 * - the sealed PAN: AES-256-GCM under the current data key, the ref as its
 *   record id, kept in the account's own state so a re-keying job can make
 *   new tokens.
 *
 * One instance per key file: a reload builds a new one. The shard key must
 * not change across a reload (a shard is an account's writer): sameShards()
 * tells.
 */
export class AccountRefs {
  private readonly shards: ShardHash;
  private readonly currentToken: { readonly id: string; readonly key: Buffer };
  private readonly previousToken: { readonly id: string; readonly key: Buffer } | undefined;

  constructor(readonly keys: KeyFile) {
    this.shards = new ShardHash(keys.shardKey);
    this.currentToken = { id: keys.currentTokenKey, key: keys.tokenKeys.get(keys.currentTokenKey)! };
    const previous = keys.previousTokenKey;
    this.previousToken =
      previous === undefined ? undefined : { id: previous, key: keys.tokenKeys.get(previous)! };
  }

  shardOf(pan: string): number {
    return this.shards.shardOf(pan);
  }

  /** The PAN's ref under the current token key. */
  refOf(pan: string): string {
    return `${this.currentToken.id}.${panToken(this.currentToken, pan)}`;
  }

  /** The PAN's ref under the previous token key (accepted for lookups while accounts are re-keyed), if one is named. */
  previousRefOf(pan: string): string | undefined {
    const previous = this.previousToken;
    return previous === undefined ? undefined : `${previous.id}.${panToken(previous, pan)}`;
  }

  /** Whether `ref` was made with the current token key. */
  isCurrentRef(ref: string): boolean {
    return tokenKeyIdOf(ref) === this.currentToken.id;
  }

  get currentDataKeyId(): string {
    return this.keys.currentDataKey;
  }

  /** The PAN sealed under the current data key, bound to the account's ref. */
  sealPan(pan: string, ref: string): Buffer {
    const id = this.keys.currentDataKey;
    return seal({ id, key: this.keys.dataKeys.get(id)! }, ref, Buffer.from(pan, 'ascii'));
  }

  /** The PAN a sealed value holds; throws SealError when it does not open for `ref` under a key of this file. */
  openPan(sealed: Uint8Array, ref: string): string {
    return open(sealed, ref, (id) => this.keys.dataKeys.get(id)).toString('ascii');
  }

  /** Whether `sealed` was sealed under the current data key (else it is re-sealed when next written). */
  isCurrentSeal(sealed: Uint8Array): boolean {
    return sealedKeyId(sealed) === this.keys.currentDataKey;
  }

  /** Whether `other` hashes PANs to the same shards (a reload may not move accounts between writers). */
  sameShards(other: KeyFile): boolean {
    return other.shardKey.equals(this.keys.shardKey);
  }
}

/** The token key id of a ref (`<tokenKeyId>.<token>`): key ids may hold dots, tokens (base64url) never. */
export function tokenKeyIdOf(ref: string): string {
  return ref.slice(0, ref.lastIndexOf('.'));
}
