import { CommitBatch } from '../../store/commit-batch.js';
import { holdBucketOf, type KeySpace, LOG_PARTITION_COUNT, logPartitionOf } from '../../store/keys.js';
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
 * holds placed into their expiry buckets, and per log partition touched one
 * journal entry carrying its effects (one journal record per effect). Takes
 * the actors' dirty records and pruned keys (they belong to this commit now).
 */
export function buildCommit(batch: OpenBatch, keys: KeySpace, epoch: number, workerId: number): BuiltCommit {
  const cb = new CommitBatch();
  const first = batch.actors[0]!;
  const guardKey = keys.commitGuard(first.shard, `${epoch}.${workerId}.${batch.id}`);
  for (const actor of batch.actors) cb.epoch(keys.epoch(actor.shard));
  // Holds placed, by bucket key; and each bucket's shard set entry.
  const holdsPlaced = new Map<string, string[]>();
  const bucketsTouched = new Map<string, Set<string>>();
  for (const actor of batch.actors) {
    const accountKey = keys.account(actor.shard, actor.pan);
    const fields: (string | Buffer)[] = [];
    if (actor.account !== undefined) fields.push('d', encodeAccount(actor.account));
    for (const record of actor.dirtyRecords) {
      fields.push(record.key, encodeRecord(record));
      // A hold goes into its expiry bucket when it is placed; closing it needs no index change.
      if (record.state === 'open' && record.reversedRc === undefined && record.holdExpiresAtMs > 0) {
        const bucket = holdBucketOf(record.holdExpiresAtMs);
        const partition = logPartitionOf(actor.shard);
        push(holdsPlaced, keys.holdBucket(partition, bucket), `${actor.pan}#${record.key}`);
        const setKey = keys.holdBuckets(partition);
        let set = bucketsTouched.get(setKey);
        if (set === undefined) {
          set = new Set();
          bucketsTouched.set(setKey, set);
        }
        set.add(String(bucket));
      }
    }
    actor.dirtyRecords.clear();
    if (fields.length > 0) cb.hset(accountKey, fields);
    if (actor.prunedKeys.length > 0) {
      cb.hdel(accountKey, actor.prunedKeys);
      actor.prunedKeys = [];
    }
  }
  for (const [key, members] of holdsPlaced) cb.rpush(key, members);
  for (const [key, buckets] of bucketsTouched) cb.sadd(key, [...buckets]);
  // One journal entry per log partition touched: the partition's effects in decision order.
  const journal: Buffer[][] = [];
  for (const { actor, effect } of batch.effects) {
    const partition = logPartitionOf(actor.shard);
    let entry = journal[partition];
    if (entry === undefined) {
      entry = [];
      journal[partition] = entry;
    }
    entry.push(encodeJournal(actor.pan, effect));
  }
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    const entry = journal[partition];
    if (entry !== undefined) cb.xadd(keys.journal(partition), Buffer.concat(entry));
  }
  return { guardKey, blob: cb.pack() };
}

function push<K, T>(map: Map<K, T[]>, key: K, ...values: T[]): void {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  list.push(...values);
}
