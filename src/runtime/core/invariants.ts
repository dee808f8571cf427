import type { AccountState } from '../account.js';
import type { Actor } from './actor.js';

/**
 * Checked after every decision. A broken invariant is a bug: throwing here
 * crashes the worker, whose in-flight work is answered 96 and whose accounts
 * reload from Redis (where nothing of the broken batch was written).
 */
export function assertAccountInvariants(account: AccountState): void {
  if (account.held < 0 || account.balance - account.held < 0 || !Number.isSafeInteger(account.balance)) {
    throw new Error(
      `invariant: account ${account.panMasked} balance ${account.balance} held ${account.held}`,
    );
  }
}

/** Checked at every activation: what an account holds is the sum of its open holds (I2). */
export function assertHeldMatchesOpenHolds(actor: Actor): void {
  let open = 0;
  for (const record of actor.records.values())
    if (record.state === 'open' && record.reversedRc === undefined && !record.tombstone)
      open += record.approvedAmount;
  if (open !== actor.account!.held)
    throw new Error(`invariant: held ${actor.account!.held} != open holds ${open}`);
}
