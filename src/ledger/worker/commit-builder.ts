import { CommitBatch, HSET_PAIRS_MAX } from '../../store/commit-batch.js';
import { type KeySpace, LOG_PARTITION_COUNT, logPartitionOf, SHARD_COUNT } from '../../store/keys.js';
import { MsgpackWriter } from '../../wire/msgpack-writer.js';
import { writeAccount, writeJournal, writeKey, writeRecord } from '../state-codec.js';
import type { TxnRecord } from '../txn-record.js';
import type { Actor } from './actor.js';
import type { OpenBatch } from './open-batch.js';

// Reused by every commit this thread builds (buildCommit is synchronous and
// pack() returns an owned copy), so a commit allocates only its blob.
const cb = new CommitBatch();
const journals = Array.from({ length: LOG_PARTITION_COUNT }, () => new MsgpackWriter(4 * 1024));
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
 * and per log partition touched one journal entry carrying its effects (one
 * journal record per effect). Values are encoded straight into the blob.
 * Takes the actors' dirty records and pruned keys (they belong to this
 * commit now). Holds placed need no index of their own: hold expiry finds
 * them in the journal (hold-expiry.ts), which a commit writes anyway.
 */
export function buildCommit(batch: OpenBatch, keys: KeySpace): Buffer {
  cb.reset();
  const epochKeyOf = epochKeys(keys);
  for (const actor of batch.actors) cb.epoch(epochKeyOf[actor.shard]!);
  for (const actor of batch.actors) {
    actor.accountKey ??= keys.account(actor.shard, actor.pan);
    writeAccountOps(actor, actor.accountKey);
    // Written into this commit: nothing changes them now but a later decision, so they are packed.
    for (const record of actor.dirtyRecords) actor.records.seal(record);
    // Emptied in place: a Set's clear() allocated a new table per actor per commit.
    actor.dirtyRecords.length = 0;
  }
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
