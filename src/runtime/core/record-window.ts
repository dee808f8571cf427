import type { Evictor } from '../records/record-index.js';
import { keyOf, outlivesWindow, type TxnRecord } from '../records/txn-record.js';
import type { Actor } from './actor.js';

/** Fewer records than this are never pruned (pruning is O(records)). */
const PRUNE_FLOOR = 64;

export interface RecordWindowOptions {
  readonly dedupeWindowMs: number;
  /** Transaction records an actor keeps in memory; older durable ones are evicted to the account log. */
  readonly recordsPerActorMax: number;
}

/**
 * What an actor keeps of its transaction records: pruning forgets those
 * past the dedupe window (open holds and adjustments excepted; the next
 * commit deletes them from Redis), eviction bounds the rest in memory to
 * recordsPerActorMax (the durable oldest stay in the account log and are
 * fetched when a key needs one), and evicted keys past the window are
 * forgotten too.
 */
export class RecordWindow {
  /** One for every eviction (set per call): no closure per decision. */
  private readonly evictor = new DurableEvictor();
  /** For every prune (set per call). */
  private readonly pruner = new WindowPruner();

  constructor(private readonly o: RecordWindowOptions) {}

  /** Prunes once the record map has doubled since the last prune (pruning is O(records)). */
  maybePrune(actor: Actor, nowMs: number): void {
    const size = actor.records.size;
    if (size < PRUNE_FLOOR || size < actor.prunedAtSize * 2) return;
    this.prune(actor, nowMs);
  }

  /**
   * Forgets the records in memory past the dedupe window (open holds and
   * adjustments excepted); the actor's next commit deletes them from Redis.
   */
  prune(actor: Actor, nowMs: number): void {
    const pruner = this.pruner;
    pruner.actor = actor;
    pruner.cutoffMs = nowMs - this.o.dedupeWindowMs;
    actor.records.removeWhere(pruner);
    actor.prunedAtSize = actor.records.size;
  }

  /** Forgets evicted keys past the dedupe window; the actor's next commit deletes their records from Redis. */
  expireEvicted(actor: Actor, nowMs: number): void {
    const cutoffMs = nowMs - this.o.dedupeWindowMs;
    if (!actor.evicted.due(cutoffMs)) return;
    for (const key of actor.evicted.expire(cutoffMs, nowMs, (k) => actor.records.includesParts(k)))
      actor.prunedKeys.push(key);
  }

  /**
   * Keeps an actor's record map at recordsPerActorMax: drops the oldest
   * records whose last write is durable (its batch released by
   * `confirmedUpTo`, not in the open batch). They stay in the account log;
   * a key that needs one fetches it.
   */
  evict(actor: Actor, nowMs: number, confirmedUpTo: number): void {
    const records = actor.records;
    // Not while it waits on a fetch: the waiting item was checked against what is in memory
    // now, and must find it there when it runs.
    if (actor.status === 'loading' || records.size <= this.o.recordsPerActorMax) return;
    const evictor = this.evictor;
    evictor.actor = actor;
    evictor.confirmedUpTo = confirmedUpTo;
    evictor.nowMs = nowMs;
    records.evict(this.o.recordsPerActorMax, evictor);
  }
}

/** Evicts records whose last write is durable, filing their keys with the actor's evicted keys. */
class DurableEvictor implements Evictor {
  actor!: Actor;
  confirmedUpTo = 0;
  nowMs = 0;

  evictable(record: Readonly<TxnRecord>): boolean {
    // Not durable yet: written by a batch not released (the open one included).
    return (record.batch ?? 0) <= this.confirmedUpTo;
  }

  evicted(record: Readonly<TxnRecord>): void {
    this.actor.evicted.add(record, record.atMs, outlivesWindow(record), this.nowMs);
  }
}

/**
 * Prunes records past the dedupe window (open holds and adjustments
 * excepted), filing their keys for the actor's next commit to delete. Sees
 * sealed records as views: pruning every record of every actor as a copy
 * was 4% of a worker's time while actors filled (each prunes once it
 * reaches PRUNE_FLOOR records).
 */
class WindowPruner implements Evictor {
  actor!: Actor;
  cutoffMs = 0;

  evictable(record: Readonly<TxnRecord>): boolean {
    return record.atMs < this.cutoffMs && !outlivesWindow(record);
  }

  evicted(record: Readonly<TxnRecord>): void {
    this.actor.prunedKeys.push(keyOf(record));
  }
}
