import type { AccountRefs } from '../../../security/account-refs.js';
import type { StoredAccountRef } from '../../../store/keys.js';
import { maskPan } from '../../../util/pan.js';

/** What layout 3 stores in place of a PAN: its stored reference and its mask. */
export interface PanRef extends StoredAccountRef {
  readonly panMasked: string;
}

/** PANs remembered before the cache starts over: bounds memory on a store of millions. */
const CACHED_PANS_MAX = 100_000;

/**
 * A PAN's shard, ref and mask, remembered: a journal names the same few
 * accounts many times, and a ref is an HMAC.
 */
export class PanRefs {
  private readonly known = new Map<string, PanRef>();

  constructor(private readonly refs: AccountRefs) {}

  of(pan: string): PanRef {
    let found = this.known.get(pan);
    if (found === undefined) {
      if (this.known.size >= CACHED_PANS_MAX) this.known.clear();
      found = { shard: this.refs.shardOf(pan), ref: this.refs.refOf(pan), panMasked: maskPan(pan) };
      this.known.set(pan, found);
    }
    return found;
  }

  /** The PAN sealed for its account's identity entry (a fresh nonce each time: not cached). */
  sealed(pan: string): Uint8Array {
    return this.refs.sealPan(pan, this.of(pan).ref);
  }

  /** The PAN a sealed identity holds, for a ref (throws when it does not open). */
  open(sealed: Uint8Array, ref: string): string {
    return this.refs.openPan(sealed, ref);
  }
}
