import { CommitBatch, HSET_PAIRS_MAX } from '../../store/commit-batch.js';
import { COMMIT_OP_VALUES_MAX } from '../../store/commit-script.js';
import {
  holdBucketOf,
  type KeySpace,
  LOG_PARTITION_COUNT,
  logPartitionOf,
  SHARD_COUNT,
} from '../../store/keys.js';
import { MsgpackWriter } from '../../wire/msgpack-writer.js';
import { writeAccount, writeJournal, writeKey, writeRecord } from '../state-codec.js';
import type { TxnRecord } from '../txn-record.js';
import type { Actor } from './actor.js';
import type { OpenBatch } from './open-batch.js';

// Reused by every commit this thread builds (buildCommit is synchronous and
// pack() returns an owned copy), so a commit allocates only its blob.
const cb = new CommitBatch();
const journals = Array.from({ length: LOG_PARTITION_COUNT }, () => new MsgpackWriter(4 * 1024));
/**
 * Holds placed in this commit by bucket * LOG_PARTITION_COUNT + partition
 * (each member `pan#key`, written from the actor's prefix and the record's
 * key parts), and each partition's buckets.
 */
const holdGroups = new Map<number, { readonly prefixes: string[]; readonly records: TxnRecord[] }>();
const bucketsOf = Array.from({ length: LOG_PARTITION_COUNT }, () => new Set<number>());
/** Epoch key strings per shard, per key space (built once, not per commit). */
const epochKeysOf = new WeakMap<KeySpace, string[]>();

function epochKeys(keys: KeySpace): string[] {
  let list = epochKeysOf.get(keys);
  if (list === undefined) {
    list = Array.from({ length: SHARD_COUNT }, (_, shard) => keys.epoch(shard));
    epochKeysOf.set(keys, list);
  }
  return list;
}

/**
 * Turns a closed batch into the commit script's ARGV[3]: the shards' epoch
 * checks, one HSET per account (state and changed records), pruned records,
 * holds placed into their expiry buckets, and per log partition touched one
 * journal entry carrying its effects (one journal record per effect). Values
 * are encoded straight into the blob. Takes the actors' dirty records and
 * pruned keys (they belong to this commit now).
 */
export function buildCommit(batch: OpenBatch, keys: KeySpace): Buffer {
  cb.reset();
  const epochKeyOf = epochKeys(keys);
  for (const actor of batch.actors) cb.epoch(epochKeyOf[actor.shard]!);
  // Holds placed, grouped by (bucket, partition) as a number; each partition's buckets touched.
  holdGroups.clear();
  for (const set of bucketsOf) set.clear();
  for (const actor of batch.actors) {
    actor.accountKey ??= keys.account(actor.shard, actor.pan);
    writeAccountOps(actor, actor.accountKey);
    for (const record of actor.dirtyRecords) {
      // A hold goes into its expiry bucket when it is placed; closing it needs no index change.
      if (record.state === 'open' && record.reversedRc === undefined && record.holdExpiresAtMs > 0) {
        const bucket = holdBucketOf(record.holdExpiresAtMs);
        const partition = logPartitionOf(actor.shard);
        const group = bucket * LOG_PARTITION_COUNT + partition;
        let members = holdGroups.get(group);
        if (members === undefined) {
          members = { prefixes: [], records: [] };
          holdGroups.set(group, members);
        }
        actor.holdMemberPrefix ??= `${actor.pan}#`;
        members.prefixes.push(actor.holdMemberPrefix);
        members.records.push(record);
        bucketsOf[partition]!.add(bucket);
      }
      // Written into this commit: nothing changes it now but a later decision, so it is packed.
      actor.records.seal(record);
    }
    // Emptied in place: a Set's clear() allocated a new table per actor per commit.
    actor.dirtyRecords.length = 0;
  }
  for (const [group, { prefixes, records }] of holdGroups) {
    const partition = group % LOG_PARTITION_COUNT;
    const bucketKey = keys.holdBucket(partition, (group - partition) / LOG_PARTITION_COUNT);
    for (let start = 0; start < records.length; start += COMMIT_OP_VALUES_MAX) {
      const end = Math.min(records.length, start + COMMIT_OP_VALUES_MAX);
      const w = cb.beginRpush(bucketKey, end - start);
      for (let i = start; i < end; i++) writeKey(w, records[i]!, prefixes[i]!);
    }
  }
  bucketsOf.forEach((buckets, partition) => {
    if (buckets.size > 0) cb.sadd(keys.holdBuckets(partition), [...buckets].map(String));
  });
  // One journal entry per log partition touched: the partition's records in decision order.
  for (const journal of journals) journal.reset();
  batch.effects.forEach((effect, i) => {
    const actor = batch.effectActors[i]!;
    writeJournal(journals[logPartitionOf(actor.shard)]!, actor.pan, effect);
  });
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    const journal = journals[partition]!;
    if (journal.length > 0) cb.xadd(keys.journal(partition), journal.view());
  }
  return cb.pack();
}

/** HSET of the account's state and dirty records (chunked), HDEL of its pruned records. */
function writeAccountOps(actor: Actor, accountKey: string): void {
  let remaining = (actor.account !== undefined ? 1 : 0) + actor.dirtyRecords.length;
  let w: MsgpackWriter | undefined;
  let left = 0;
  const next = (): MsgpackWriter => {
    if (w === undefined || left === 0) {
      left = Math.min(remaining, HSET_PAIRS_MAX);
      remaining -= left;
      w = cb.beginHset(accountKey, left);
    }
    left--;
    return w;
  };
  if (actor.account !== undefined) {
    const out = next();
    out.str('d');
    const mark = out.beginStr();
    writeAccount(out, actor.account);
    out.endStr(mark);
  }
  for (const record of actor.dirtyRecords) writeRecordPair(next(), record);
  if (actor.prunedKeys.length > 0) {
    cb.hdel(accountKey, actor.prunedKeys);
    actor.prunedKeys = [];
  }
}

function writeRecordPair(w: MsgpackWriter, record: TxnRecord): void {
  writeKey(w, record);
  const mark = w.beginStr();
  writeRecord(w, record);
  w.endStr(mark);
}
