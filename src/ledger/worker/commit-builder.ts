import { CommitBatch } from '../../store/commit-batch.js';
import type { KeySpace } from '../../store/keys.js';
import { encodeAccount, encodeJournal, encodeRecord } from '../state-codec.js';
import type { OpenBatch } from './open-batch.js';

export interface BuiltCommit {
  /** KEYS[1] of the commit script. */
  readonly guardKey: string;
  /** ARGV[3] of the commit script. */
  readonly blob: Buffer;
}

/**
 * Turns a closed batch into the commit script's input: the shards' epoch
 * checks, one HSET per account (state and changed records), pruned records,
 * hold index changes grouped per shard, one journal entry per effect. Takes
 * the actors' dirty records and pruned keys (they belong to this commit now).
 */
export function buildCommit(batch: OpenBatch, keys: KeySpace, epoch: number, workerId: number): BuiltCommit {
  const cb = new CommitBatch();
  const first = batch.actors[0]!;
  const guardKey = keys.commitGuard(first.shard, `${epoch}.${workerId}.${batch.id}`);
  for (const actor of batch.actors) cb.epoch(keys.epoch(actor.shard));
  const holdsAdded = new Map<number, (string | number)[]>();
  const holdsRemoved = new Map<number, string[]>();
  for (const actor of batch.actors) {
    const accountKey = keys.account(actor.shard, actor.pan);
    const fields: (string | Buffer)[] = [];
    if (actor.account !== undefined) fields.push('d', encodeAccount(actor.account));
    for (const record of actor.dirtyRecords) {
      fields.push(record.key, encodeRecord(record));
      if (record.holdExpiresAtMs > 0) {
        const member = `${actor.pan}#${record.key}`;
        if (record.state === 'open' && record.reversedRc === undefined) {
          push(holdsAdded, actor.shard, record.holdExpiresAtMs, member);
        } else push(holdsRemoved, actor.shard, member);
      }
    }
    actor.dirtyRecords.clear();
    if (fields.length > 0) cb.hset(accountKey, fields);
    if (actor.prunedKeys.length > 0) {
      cb.hdel(accountKey, actor.prunedKeys);
      actor.prunedKeys = [];
    }
  }
  for (const [shard, pairs] of holdsAdded) cb.zadd(keys.holds(shard), pairs);
  for (const [shard, members] of holdsRemoved) cb.zrem(keys.holds(shard), members);
  for (const { actor, effect } of batch.effects)
    cb.xadd(keys.journal(actor.shard), encodeJournal(actor.pan, effect));
  return { guardKey, blob: cb.pack() };
}

function push<T>(map: Map<number, T[]>, key: number, ...values: T[]): void {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  list.push(...values);
}
