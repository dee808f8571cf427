import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import { type KeySpace, LOG_PARTITION_COUNT, logPartitionOf, SHARD_COUNT } from '../../store/keys.js';
import type { Actor } from '../core/actor.js';
import type { OpenBatch } from '../core/open-batch.js';
import type { TxnRecord } from '../records/txn-record.js';
import { CommitBatch } from './commit-batch.js';
import {
  writeAccount,
  writeDrop,
  writeIdentity,
  writeJournal,
  writeRecord,
  writeStandIn,
} from './state-codec.js';

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
 * checks, per account its log compaction (if one is ready) and one APPEND
 * to its log (state, changed records, pruned keys: account-log.ts), and per
 * log partition touched one journal entry carrying its effects (one journal
 * record per effect), and the move of every account a re-key moved. Values
 * are encoded straight into the blob. Takes the
 * actors' dirty records, pruned keys and ready compactions (they belong to
 * this commit now), and counts what the appends made dead. Holds placed
 * need no index of their own: hold expiry finds them in the journal
 * (hold-expiry.ts), which a commit writes anyway.
 */
export function buildCommit(batch: OpenBatch, keys: KeySpace): Buffer {
  cb.reset();
  const epochKeyOf = epochKeys(keys);
  for (const actor of batch.actors) cb.epoch(actor.shard, epochKeyOf[actor.shard]!);
  for (const actor of batch.actors) {
    actor.accountKey ??= keys.account(actor.shard, actor.ref);
    const move = actor.moveFrom;
    if (move !== undefined) {
      // A re-key (ledger-core.ts): the log goes to the new ref's key before this batch writes it.
      cb.move(move.key, actor.accountKey, keys.accountAlias(actor.shard, move.ref), actor.ref);
      actor.moveFrom = undefined;
    }
    const compaction = actor.compaction;
    if (compaction !== undefined) {
      cb.compact(actor.accountKey, compaction.prefixBytes, compaction.data);
      actor.logBytes += compaction.data.length - compaction.prefixBytes;
      actor.deadBytes = Math.max(0, actor.deadBytes - (compaction.prefixBytes - compaction.data.length));
      actor.compaction = undefined;
      actor.compactionBatch = batch.id;
    }
    writeAppend(actor, actor.accountKey, batch.records);
    // Written into this commit: nothing changes them now but a later decision, so they are packed.
    for (const at of actor.dirtyAt) actor.records.seal(batch.records[at]!);
    // Emptied in place: a Set's clear() allocated a new table per actor per commit.
    actor.dirtyAt.length = 0;
  }
  // One journal entry per log partition touched: the partition's records in decision order.
  for (const journal of journals) journal.reset();
  batch.effects.forEach((effect, i) => {
    const actor = batch.effectActors[i]!;
    writeJournal(journals[logPartitionOf(actor.shard)]!, actor, effect);
  });
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    const journal = journals[partition]!;
    if (journal.length > 0) cb.xadd(keys.journal(partition), journal.view());
  }
  // In the answer's commit: an advice exists exactly when the answer it belongs to does.
  for (const advice of batch.advices) cb.xadd(keys.advices(advice.issuer), advice.data);
  return cb.pack();
}

/** A record's last written size, the estimate for one that a drop makes dead (its size is not kept). */
let recordBytesSeen = 160;

/**
 * APPENDs the account's state, its dirty records and drops for its pruned
 * keys to its log, and counts the bytes that made dead: the state before
 * this one, the older versions of records written again, the records dropped.
 */
function writeAppend(actor: Actor, accountKey: string, records: readonly TxnRecord[]): void {
  if (actor.account === undefined && actor.dirtyAt.length === 0 && actor.prunedKeys.length === 0) return;
  const w = cb.beginAppend(accountKey);
  let dead = 0;
  if (actor.account !== undefined) {
    if (actor.identityDirty) {
      const start = w.length;
      writeIdentity(w, actor.account);
      // A re-seal's: the log's previous identity is dead now.
      if (actor.logBytes > 0) dead += w.length - start;
      actor.identityDirty = false;
    }
    const start = w.length;
    writeAccount(w, actor.account);
    // The log's previous state is dead now (a log that exists always holds one).
    if (actor.logBytes > 0) dead += w.length - start;
  }
  if (actor.standInDirty && actor.standIn !== undefined) {
    const start = w.length;
    writeStandIn(w, actor.standIn);
    // The log's previous one, if it has one, is dead now.
    if (actor.standInWritten) dead += w.length - start;
    actor.standInWritten = true;
    actor.standInDirty = false;
  }
  for (const at of actor.dirtyAt) {
    const start = w.length;
    writeRecord(w, records[at]!);
    recordBytesSeen = w.length - start;
  }
  dead += actor.rewrittenRecords * recordBytesSeen;
  actor.rewrittenRecords = 0;
  for (const key of actor.prunedKeys) {
    const start = w.length;
    writeDrop(w, key);
    dead += w.length - start + recordBytesSeen;
  }
  actor.prunedKeys.length = 0;
  actor.logBytes += cb.endAppend();
  actor.deadBytes += dead;
}
