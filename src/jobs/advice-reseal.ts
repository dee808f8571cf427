import type { Redis } from 'ioredis';
import type { Logger } from '../observability/log.js';
import {
  adviceIssuers,
  type ResealWrite,
  readAdvices,
  sealKeyIdOf,
  sealOf,
  storeResealed,
} from '../runtime/storage/advice-seals.js';
import type { AccountRefs } from '../security/account-refs.js';
import type { KeySpace } from '../store/keys.js';
import { paceStep } from './key-walk.js';

/** Advices read per step at most. */
const PAGE_MAX = 200;

/** What the re-seal job did to the queued advices. */
export interface AdviceResealTally {
  /** Advices looked at (an issuer's stream walked again after a lost compare-and-set counts twice). */
  asked: number;
  /** Re-sealed under the current data key. */
  done: number;
  /** Sealed under the current data key already. */
  current: number;
  /** Delivered and deleted between the read and the write: nothing written. */
  absent: number;
  /** Entries that cannot be decoded, or whose PAN does not open: left as they are, and logged. */
  unreadable: number;
}

export function emptyAdviceTally(): AdviceResealTally {
  return { asked: 0, done: 0, current: 0, absent: 0, unreadable: 0 };
}

export interface AdviceResealOptions {
  readonly connection: Redis;
  readonly keys: KeySpace;
  /** The data keys in use now (they change on SIGHUP). */
  readonly refs: () => AccountRefs;
  /** Advices re-sealed per second at most (ledger.rotationAccountsPerSecondMax, as for accounts). */
  readonly perSecondMax: number;
  /** Asked between steps: true ends the walk there (false is returned). */
  readonly interrupted: () => boolean;
  readonly log: Logger;
}

/**
 * The re-seal job's part for store-and-forward advices (docs/security.md
 * "Rotation"): every queued advice of every issuer's stream (found by SCAN,
 * so a removed institution's too) whose PAN a data key other than the
 * current one seals gets its PAN sealed under the current key in the
 * stream's hash of re-sealed PANs (a stream entry cannot be rewritten, and
 * the queue's order must not change), which the delivery prefers. Written
 * compare-and-set (advice-seals.ts): an advice delivered and deleted
 * meanwhile is not brought back. Idempotent: an advice already under the
 * current key costs a read, nothing written, so a job stopped or killed
 * midway walks the streams again from their start. Resolves true once every
 * stream is walked, false when interrupted.
 */
export async function resealAdvices(o: AdviceResealOptions, tally: AdviceResealTally): Promise<boolean> {
  const count = Math.max(1, Math.min(PAGE_MAX, o.perSecondMax));
  for (const issuer of await adviceIssuers(o.connection, o.keys)) {
    for (;;) {
      const walked = await walkStream(o, issuer, count, tally);
      if (walked === 'interrupted') return false;
      // Another writer changed some seals while this walk ran: walked again, they read as current now.
      if (walked === 0) break;
      o.log.warn('key rotation job: advices to re-seal again', { issuer, retries: walked });
    }
  }
  return true;
}

/** One pass over `issuer`'s stream: the number of advices to walk again, or 'interrupted'. */
async function walkStream(
  o: AdviceResealOptions,
  issuer: string,
  count: number,
  tally: AdviceResealTally,
): Promise<number | 'interrupted'> {
  let after: string | undefined;
  let retries = 0;
  for (;;) {
    if (o.interrupted()) return 'interrupted';
    const stepStartedMs = performance.now();
    const page = await readAdvices(o.connection, o.keys, issuer, after, count);
    if (page.length === 0) return retries;
    const refs = o.refs();
    const writes: ResealWrite[] = [];
    for (const queued of page) {
      tally.asked++;
      const { advice } = queued;
      if (advice === undefined) {
        tally.unreadable++;
        o.log.error('advice cannot be re-sealed: it cannot be read', {
          issuer,
          streamId: queued.streamId,
          error: queued.error,
        });
        continue;
      }
      const sealed = sealOf(queued)!;
      if (sealKeyIdOf(sealed) === refs.currentDataKeyId) {
        tally.current++;
        continue;
      }
      try {
        writes.push({
          queued: { ...queued, advice },
          sealed: refs.sealPan(refs.openPan(sealed, advice.id), advice.id),
        });
      } catch (error) {
        tally.unreadable++;
        o.log.error('advice PAN cannot be re-sealed; it stays under its old key', {
          issuer,
          id: advice.id,
          pan: advice.panMasked,
          error,
        });
      }
    }
    for (const outcome of await storeResealed(o.connection, o.keys, issuer, writes)) {
      if (outcome === 'retry') {
        tally.asked--;
        retries++;
      } else tally[outcome]++;
    }
    after = page.at(-1)!.streamId;
    // Paced by what was written: a page already current costs only its reads.
    await paceStep(stepStartedMs, writes.length, o.perSecondMax);
  }
}
