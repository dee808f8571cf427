import type { Logger } from '../../observability/log.js';
import type { AccountRefs } from '../../security/account-refs.js';
import type { KeySpace } from '../../store/keys.js';
import { maskPan } from '../../util/pan.js';
import type { AccountState } from '../account.js';
import type { RotationOutcome, WorkItem } from '../worker/worker-protocol.js';
import type { Actor } from './actor.js';
import type { ActorCache } from './actor-cache.js';
import type { ActorLoader } from './actor-loader.js';
import type { OpenBatch } from './open-batch.js';

export interface KeyTurnsOptions {
  /** The data keys' refs in use now (LedgerCore.setRefs replaces them). */
  readonly refs: () => AccountRefs;
  readonly keys: KeySpace;
  readonly cache: ActorCache;
  readonly loader: ActorLoader;
  /** The owner's open batch (made when first asked for). */
  readonly openBatch: () => OpenBatch;
  readonly log: Logger;
}

/**
 * What an actor does with the data keys (docs/security.md): seal a new
 * account's PAN, re-seal one an older data key sealed, and the rotation
 * jobs' turns (re-seal, re-key). Apart from LedgerCore's control flow,
 * which only routes these items here.
 */
export class KeyTurns {
  private readonly refs: () => AccountRefs;

  constructor(private readonly o: KeyTurnsOptions) {
    this.refs = o.refs;
  }

  /** What a new account stores of its PAN: sealed under the current data key, and masked. */
  identityOf(actor: Actor, pan: string): Pick<AccountState, 'panSealed' | 'panMasked'> {
    actor.identityDirty = true;
    return { panSealed: this.refs().sealPan(pan, actor.ref), panMasked: maskPan(pan) };
  }

  /**
   * The re-key job's turn (docs/security.md "Rotation"): an account whose
   * ref an older token key made moves to its ref under the current one. Its
   * PAN (sealed, the old ref as record id) gives the new ref; the account
   * key is renamed, a new identity sealed for the new ref, and an alias left
   * at the old ref, all in this batch's commit (commit-script.ts moves). The
   * new key is checked absent first (a read, the actor waiting): a second
   * account of the same PAN is left alone ('conflict', logged), never
   * overwritten. Until the commit is released the actor waits (its work
   * queues), so nothing reads its log by a key the move has not made yet.
   */
  rekey(
    actor: Actor,
    item: Extract<WorkItem, { k: 'rekey' }>,
    batch: OpenBatch,
  ): RotationOutcome | undefined {
    const checked = actor.moveTarget;
    actor.moveTarget = undefined;
    const account = actor.account;
    if (account === undefined) return 'absent';
    const refs = this.refs();
    if (refs.isCurrentRef(actor.ref)) return 'current';
    let pan: string;
    try {
      pan = actor.pan ?? refs.openPan(account.panSealed, actor.ref);
    } catch (error) {
      this.o.log.error('account cannot be re-keyed: its sealed PAN does not open', {
        shard: actor.shard,
        pan: account.panMasked,
        error,
      });
      return 'unreadable';
    }
    if (refs.shardOf(pan) !== actor.shard) {
      // Its sealed PAN belongs to another shard: not this account's (a damaged store), never moved.
      this.o.log.error('account cannot be re-keyed: its sealed PAN is of another shard', {
        shard: actor.shard,
        pan: account.panMasked,
      });
      return 'unreadable';
    }
    const ref = refs.refOf(pan);
    const key = this.o.keys.account(actor.shard, ref);
    const holder = this.o.cache.holderOf(ref);
    if (holder === undefined && checked?.key !== key) {
      this.o.loader.probe(actor, item, key);
      return undefined;
    }
    if ((holder !== undefined && holder !== actor) || checked?.taken === true) {
      this.o.log.error('account cannot be re-keyed: another account is at its new ref', {
        shard: actor.shard,
        pan: account.panMasked,
      });
      return 'conflict';
    }
    const from = actor.ref;
    actor.moveFrom = { key: this.o.keys.account(actor.shard, from), ref: from };
    this.o.cache.rebind(actor, ref);
    account.panSealed = refs.sealPan(pan, ref);
    actor.identityDirty = true;
    batch.join(actor);
    actor.moveBatch = batch.id;
    actor.status = 'loading';
    return 'done';
  }

  /**
   * The re-seal job's turn: the account's sealed PAN under the current data
   * key. Activation re-seals already (resealIfOld), so an account the job
   * brought in is current by now, its re-seal in this batch or one before:
   * the answer leaves after this batch's commit, so either way it is durable.
   */
  reseal(actor: Actor): RotationOutcome {
    const account = actor.account;
    if (account === undefined) return 'absent';
    if (this.refs().isCurrentSeal(account.panSealed)) return 'current';
    return this.resealIfOld(actor, account) ? 'done' : 'unreadable';
  }

  /**
   * An account whose PAN an older data key sealed is sealed again under the
   * current one, and written with the next commit: data-key rotation needs
   * nothing more of an account than to be activated (the re-seal job does
   * that for the idle ones). A seal that does not open (its key is gone from
   * the key file) is left as it is, and logged: false.
   */
  resealIfOld(actor: Actor, account: AccountState): boolean {
    const refs = this.refs();
    if (refs.isCurrentSeal(account.panSealed)) return true;
    try {
      account.panSealed = refs.sealPan(refs.openPan(account.panSealed, actor.ref), actor.ref);
      actor.identityDirty = true;
      this.o.openBatch().join(actor);
      return true;
    } catch (error) {
      this.o.log.error('account PAN cannot be re-sealed; it stays under its old key', {
        shard: actor.shard,
        pan: account.panMasked,
        error,
      });
      return false;
    }
  }
}
