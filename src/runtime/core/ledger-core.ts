import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import { RC } from '../../protocol/rc.js';
import { runAdjust, runExpire, runGet, runPut } from '../../rules/onus/admin-ops.js';
import { type DecideContext, type DecisionSink, decideInto } from '../../rules/onus/decide.js';
import { type KeySpace, SHARD_COUNT, shardOf } from '../../store/keys.js';
import { type CodeSource, codeString } from '../../util/code-source.js';
import { maskPan } from '../../util/pan.js';
import { withTimeout } from '../../util/with-timeout.js';
import type { AccountState } from '../account.js';
import type { LedgerEffect } from '../effects.js';
import { EvictedKeys, type EvictedKeysBudget } from '../records/evicted-keys.js';
import { LiveRecords } from '../records/live-records.js';
import type { Evictor } from '../records/record-index.js';
import {
  ADJUST_KEY_PREFIX,
  keyOf,
  outlivesWindow,
  parseKey,
  recordKey,
  type TxnRecord,
} from '../records/txn-record.js';
import { type AccountLog, compactionDue, readAccountLog } from '../storage/account-log.js';
import { buildCommit } from '../storage/commit-builder.js';
import {
  COMMIT_ALREADY_APPLIED,
  COMMIT_APPLIED,
  COMMIT_FENCED,
  COMMIT_PREDECESSOR_MISSING,
  COMMIT_SCRIPT,
} from '../storage/commit-script.js';
import { findRecordsInLog } from '../storage/log-scan.js';
import type { AdminOutcome, WorkItem, WorkResult } from '../worker/worker-protocol.js';
import { Actor } from './actor.js';
import { OpenBatch } from './open-batch.js';

/** An owner's applied sequence outlives any resend, and a quiet day, by a wide margin. */
const APPLIED_SEQ_TTL_MS = 86_400_000;
/**
 * Commits with writes a worker keeps at Redis at once. Two let the next
 * batch travel while Redis runs the previous one; the commit script chains
 * each to its predecessor, so a later one never applies alone.
 */
export const COMMITS_IN_FLIGHT_MAX = 2;

interface InFlight {
  readonly batch: OpenBatch;
  /** The batch's number as committed; undefined for a batch with nothing to write. */
  readonly seq: number | undefined;
  /** Redis confirmed it (always true for a batch with nothing to write). */
  ok: boolean;
  readonly startedMs: number;
}

/** Work waiting for one account while it loads; beyond this it is answered 96. */
export const MAILBOX_MAX = 10_000;
/** Fewer records than this are never pruned (pruning is O(records)). */
const PRUNE_FLOOR = 64;

export interface LedgerCoreOptions {
  readonly workerId: number;
  /**
   * This incarnation's owner id (keys.ownerCounter: fresh for every start, a
   * restart of the same worker included). Its commits are numbered from 1
   * under it, so a restarted worker holding the same epoch never has its
   * commits taken for its predecessor's.
   */
  readonly owner: number;
  /** Workers in all: this one owns the shards with shard % workerCount === workerId. */
  readonly workerCount: number;
  readonly epoch: number;
  readonly holdTtlMs: number;
  readonly dedupeWindowMs: number;
  readonly actorsMax: number;
  /**
   * Transaction records an actor keeps in memory; older ones (once durable)
   * are evicted and fetched from the account log when a key needs them.
   */
  readonly recordsPerActorMax: number;
  /** Evicted keys this owner files for all its actors (EvictedKeys); past it they go blind. */
  readonly evictedKeysMax: number;
  readonly commitTimeoutMs: number;
  readonly keys: KeySpace;
  /** Commits (at most COMMITS_IN_FLIGHT_MAX in flight, chained). */
  readonly writer: Redis;
  /** Reads: actor activation, and evicted records a key needs. */
  readonly reader: Redis;
  /** This owner's rrn and authCode generators (an RrnSource with its leased source id, an AuthCodeSource). */
  readonly rrns: CodeSource;
  readonly authCodes: CodeSource;
  readonly post: (results: WorkResult[]) => void;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

export interface LedgerCoreStats {
  actorsActive: number;
  mailboxDepth: number;
  /** Keys of evicted records filed now (against evictedKeysMax). */
  evictedKeys: number;
  /** Records read back from Redis since the last stats (evicted, or looked up blind). */
  recordReads: number;
  batchSizes: number[];
  commitSeconds: number[];
}

function emptyStats(): LedgerCoreStats {
  return {
    actorsActive: 0,
    mailboxDepth: 0,
    evictedKeys: 0,
    recordReads: 0,
    batchSizes: [],
    commitSeconds: [],
  };
}

/**
 * A ledger worker's brain, free of worker_threads so it can be tested with a
 * real Redis in-process: actors by PAN, activation from Redis, decisions in
 * memory, and group commit with at most two chained commits in flight. Results leave
 * only after their batch's commit returned (nothing is approved that is not
 * durable); when a commit fails, its batch and the batch decided on top of it
 * are answered 96 and their actors dropped, to be reloaded from Redis.
 */
export class LedgerCore {
  private readonly actors = new Map<string, Actor>();
  private loadQueue: Actor[] = [];
  private loadScheduled = false;
  private open: OpenBatch | undefined;
  /** Commits sent and not yet released, oldest first (at most COMMITS_IN_FLIGHT_MAX with writes). */
  private inflight: InFlight[] = [];
  private batchSeq = 0;
  private commitScheduled = false;
  private mailboxDepth = 0;
  private stats: LedgerCoreStats = emptyStats();
  private readonly now: () => number;
  private readonly decideCtx: { -readonly [K in keyof DecideContext]: DecideContext[K] };
  private commitSha: string | undefined;
  /** Routes a decision's records and effects into the open batch for the actor being run. */
  private readonly sink = new BatchSink();
  /** The fencing epoch this worker's commits carry; renewed after a commit whose outcome is unknown. */
  private epoch: number;
  /** While re-fencing, nothing is loaded or committed; work waits here. */
  private refencing: Promise<void> | undefined;
  private held: WorkItem[] = [];
  /** Another owner took our shards: every request is answered 96 until the process is restarted. */
  private fenced = false;
  /** stop() was called: the owner is gone. */
  private stopped = false;
  /** Every batch up to this id is released: its records are durable in Redis (or gone with a failure). */
  private confirmedUpTo = 0;
  /** One for every eviction (set per call): no closure per decision. */
  private readonly evictor = new DurableEvictor();
  /** For every prune (set per call). */
  private readonly pruner = new WindowPruner();
  /** Actor uses so far; an actor's touchedAt is this count when it last moved to the LRU's back. */
  private touches = 0;
  /** How stale an actor's LRU position may get (actorsMax / 8 uses) before a use moves it. */
  private readonly recencySlack: number;
  /** KEYS[1] of every commit: this incarnation's applied sequence. */
  private readonly appliedKey: string;

  /** Actors brought into memory by a record sweep only: dropped once it is durable (passivateSwept). */
  private swept: Actor[] = [];

  /** Evicted keys filed by this owner's actors (returned when an actor leaves memory). */
  private readonly evictedBudget: EvictedKeysBudget;
  /** The records this owner's open and committing batches decided, not yet sealed (RecordIndex). */
  private readonly live = new LiveRecords();

  constructor(private readonly o: LedgerCoreOptions) {
    this.evictedBudget = { used: 0, max: o.evictedKeysMax };
    this.recencySlack = Math.floor(o.actorsMax / 8);
    this.appliedKey = o.keys.appliedSeq(o.owner);
    this.epoch = o.epoch;
    this.now = o.nowMs ?? Date.now;
    this.decideCtx = {
      nowMs: 0,
      holdTtlMs: o.holdTtlMs,
      institution: '',
      rrns: o.rrns,
      authCodes: o.authCodes,
    };
  }

  async init(): Promise<void> {
    this.commitSha = (await this.o.writer.script('LOAD', COMMIT_SCRIPT)) as string;
  }

  /**
   * Stops for good (its owner is shutting down or was killed): nothing more
   * is taken or retried. A worker thread simply ends; an inline owner shares
   * the main thread, so its re-fence loop must not outlive it.
   */
  stop(): void {
    this.stopped = true;
  }

  /** Takes a batch of work from the main thread. */
  handle(items: readonly WorkItem[]): void {
    if (this.stopped) return;
    if (this.refencing !== undefined) {
      for (const item of items) this.held.push(item);
      return;
    }
    if (this.fenced) {
      this.o.post(items.map((item) => this.failedResult(item)));
      return;
    }
    // One clock reading for the whole hand-off: its items arrived together (a read per item
    // was ~2% of a worker).
    const nowMs = this.now();
    for (let i = 0; i < items.length; i++) this.dispatch(items[i]!, nowMs);
    this.scheduleCommit();
  }

  takeStats(): LedgerCoreStats {
    const stats = this.stats;
    stats.actorsActive = this.actors.size;
    stats.mailboxDepth = this.mailboxDepth;
    stats.evictedKeys = this.evictedBudget.used;
    this.stats = emptyStats();
    return stats;
  }

  get activeActors(): number {
    return this.actors.size;
  }

  /** Records decided and not yet sealed: none once every batch is built (a leak check for tests). */
  get liveRecords(): number {
    return this.live.size;
  }

  private dispatch(item: WorkItem, nowMs: number): void {
    const pan = item.k === 'txn' ? item.req.pan : item.pan;
    let actor = this.actors.get(pan);
    if (actor === undefined) {
      actor = new Actor(
        pan,
        shardOf(pan),
        new EvictedKeys(this.o.dedupeWindowMs, this.evictedBudget),
        this.live,
      );
      actor.touchedAt = this.touches;
      this.actors.set(pan, actor);
      if (item.k === 'sweep') {
        actor.sweepOnly = true;
        this.swept.push(actor);
      }
      this.scheduleLoad(actor);
    } else if (this.touches - actor.touchedAt > this.recencySlack) {
      // Map order is recency order: re-insert on use (LRU passivation). Only when the actor
      // was not moved to the back within the last recencySlack uses: a hot account does not
      // pay a Map delete + insert per message, and the order is off by at most that many uses.
      this.actors.delete(pan);
      this.actors.set(pan, actor);
      actor.touchedAt = this.touches;
    }
    this.touches++;
    if (item.k !== 'sweep') actor.sweepOnly = false;
    if (actor.status === 'loading') {
      if (actor.mailbox.length >= MAILBOX_MAX) {
        // Bounded: past the cap the work is answered 96 (retry) instead of queued without limit.
        this.batch().results.push(this.failedResult(item));
        return;
      }
      actor.mailbox.push(item);
      this.mailboxDepth++;
      return;
    }
    this.run(actor, item, nowMs);
  }

  private batch(): OpenBatch {
    this.open ??= new OpenBatch(++this.batchSeq);
    return this.open;
  }

  /** One turn of one actor: synchronous from start to end, at the caller's clock reading. */
  private run(actor: Actor, item: WorkItem, nowMs: number): void {
    if (actor.evicted.active && actor.fetchedFor !== item) {
      const missing = this.missingKeys(actor, item, nowMs);
      if (missing.length > 0) {
        this.stats.recordReads += missing.length;
        this.fetchRecords(actor, item, missing);
        return;
      }
    }
    actor.fetchedFor = undefined;
    const batch = this.batch();
    switch (item.k) {
      case 'txn': {
        const account = actor.account;
        if (account === undefined) {
          // No such account at this switch: 14, decided before duplicate handling, not recorded.
          batch.results.push({
            seq: item.seq,
            k: 'txn',
            response: { rc: RC.invalidCard, rrn: this.nextRrn() },
          });
          return;
        }
        this.maybePrune(actor, nowMs);
        this.expireEvicted(actor, nowMs);
        // Keys pruned here, at activation or from the evicted generations: this batch deletes them.
        if (actor.prunedKeys.length > 0) batch.join(actor);
        const ctx = this.decideCtx;
        ctx.nowMs = nowMs;
        ctx.institution = item.institution;
        const sink = this.sink;
        sink.actor = actor;
        sink.batch = batch;
        const effectsBefore = batch.effects.length;
        const response = decideInto(account, actor.records, item.req, ctx, sink);
        assertAccountInvariants(account);
        // Journal entries carry the rrn of the response that caused them.
        for (let i = effectsBefore; i < batch.effects.length; i++) {
          const effect = batch.effects[i]!;
          effect.rrnHead = response.rrnHead;
          effect.rrnTail = response.rrnTail;
        }
        batch.results.push({ seq: item.seq, k: 'txn', response });
        return;
      }
      case 'get':
        batch.results.push({ seq: item.seq, k: 'admin', outcome: runGet(actor) });
        return;
      case 'put':
        batch.results.push({ seq: item.seq, k: 'admin', outcome: runPut(actor, item, batch, nowMs) });
        return;
      case 'adjust':
        batch.results.push({ seq: item.seq, k: 'admin', outcome: runAdjust(actor, item, batch, nowMs) });
        return;
      case 'expire':
        batch.results.push({
          seq: item.seq,
          k: 'expire',
          outcome: runExpire(actor, item.recordKey, batch, nowMs),
        });
        return;
      case 'sweep':
        batch.results.push({ seq: item.seq, k: 'sweep', outcome: this.sweep(actor, batch, nowMs) });
        return;
    }
  }

  /**
   * The record sweep's turn: what a transaction's turn prunes (the records
   * past the window, the evicted generations past it), however few the
   * records; the activation that brought an idle account in pruned already.
   * This batch deletes them, so the answer (after the commit) is durable.
   */
  private sweep(actor: Actor, batch: OpenBatch, nowMs: number): number {
    if (actor.account !== undefined) {
      this.prune(actor, nowMs);
      this.expireEvicted(actor, nowMs);
    }
    const pruned = actor.prunedKeys.length + actor.expiredByCompaction;
    actor.expiredByCompaction = 0;
    if (pruned > 0) {
      // Whatever the log's size: an idle account's log is otherwise left with its dead states and drops.
      actor.compactAnySize = true;
      batch.join(actor);
    }
    return pruned;
  }

  /** Prunes once the record map has doubled since the last prune (pruning is O(records)). */
  private maybePrune(actor: Actor, nowMs: number): void {
    const size = actor.records.size;
    if (size < PRUNE_FLOOR || size < actor.prunedAtSize * 2) return;
    this.prune(actor, nowMs);
  }

  /**
   * Forgets the records in memory past the dedupe window (open holds and
   * adjustments excepted); the actor's next commit deletes them from Redis.
   */
  private prune(actor: Actor, nowMs: number): void {
    const pruner = this.pruner;
    pruner.actor = actor;
    pruner.cutoffMs = nowMs - this.o.dedupeWindowMs;
    actor.records.removeWhere(pruner);
    actor.prunedAtSize = actor.records.size;
  }

  /** Forgets evicted keys past the dedupe window; the actor's next commit deletes their records from Redis. */
  private expireEvicted(actor: Actor, nowMs: number): void {
    const cutoffMs = nowMs - this.o.dedupeWindowMs;
    if (!actor.evicted.due(cutoffMs)) return;
    for (const key of actor.evicted.expire(cutoffMs, nowMs, (k) => actor.records.includesParts(k)))
      actor.prunedKeys.push(key);
  }

  // --- activation -----------------------------------------------------

  private scheduleLoad(actor: Actor): void {
    this.loadQueue.push(actor);
    if (!this.loadScheduled) {
      this.loadScheduled = true;
      setImmediate(() => this.flushLoads());
    }
  }

  private flushLoads(): void {
    this.loadScheduled = false;
    const actors = this.loadQueue;
    this.loadQueue = [];
    const { keys, reader } = this.o;
    const pipeline = reader.pipeline();
    for (const actor of actors) pipeline.getBuffer(keys.account(actor.shard, actor.pan));
    pipeline.exec().then(
      (replies) => {
        const nowMs = this.now();
        actors.forEach((actor, i) => {
          const reply = replies?.[i];
          if (reply === undefined || reply[0] !== null) {
            this.failLoad(actor);
            return;
          }
          try {
            this.activate(actor, reply[1] as Buffer | null, nowMs);
          } catch (error) {
            this.o.log.error('actor state unreadable', { shard: actor.shard, error });
            this.failLoad(actor);
          }
        });
        this.scheduleCommit();
      },
      () => {
        for (const actor of actors) this.failLoad(actor);
        this.scheduleCommit();
      },
    );
  }

  private activate(actor: Actor, data: Buffer | null, nowMs: number): void {
    if (this.actors.get(actor.pan) !== actor) return;
    const log = data === null ? undefined : readAccountLog(data, nowMs - this.o.dedupeWindowMs);
    if (log?.account === undefined) {
      actor.status = 'absent';
    } else {
      actor.account = log.account;
      for (const record of log.records) actor.records.setDurable(record);
      actor.status = 'ready';
      assertHeldMatchesOpenHolds(actor);
    }
    // Every activation prunes, however few the records: otherwise an account used now and then
    // would keep up to PRUNE_FLOOR records in Redis for good, past any window.
    this.prune(actor, nowMs);
    if (log !== undefined) this.activateLog(actor, log);
    // Loaded from Redis, so all durable: keep the newest recordsPerActorMax in memory.
    this.evict(actor, nowMs);
    this.drain(actor, nowMs);
    this.passivateIdle();
  }

  /**
   * Takes over the log as read: its length, and how much of it is dead
   * (records past the window included). When half of it is, whatever its
   * size, the actor's next commit compacts it from this read, which drops
   * what the prune above dropped from memory (the same records: the same
   * cutoff and rule).
   */
  private activateLog(actor: Actor, log: AccountLog): void {
    actor.logBytes = log.bytes;
    actor.deadBytes = log.bytes - log.liveBytes;
    // Any size: activation is rare, and an idle account's log would keep its dead bytes otherwise.
    if (!compactionDue(log.bytes, actor.deadBytes, true)) {
      // The prune's drops will count the expired records dead again: not twice.
      actor.deadBytes -= log.expiredBytes;
      return;
    }
    actor.compaction = { prefixBytes: log.bytes, data: log.compacted() };
    actor.compacting = true;
    actor.expiredByCompaction = log.expiredRecords;
    actor.prunedKeys.length = 0;
    this.batch().join(actor);
  }

  /**
   * Reads the actor's log to compact it (its dead bytes reached half): the
   * actor goes on deciding meanwhile, and the commit after the read carries
   * the compaction, which keeps whatever was appended since the read.
   */
  private readForCompaction(actor: Actor): void {
    actor.compacting = true;
    actor.accountKey ??= this.o.keys.account(actor.shard, actor.pan);
    this.o.reader.getBuffer(actor.accountKey).then(
      (data) => {
        if (this.actors.get(actor.pan) !== actor) return;
        if (data === null) {
          actor.compacting = false;
          return;
        }
        let log: AccountLog;
        try {
          log = readAccountLog(data, this.now() - this.o.dedupeWindowMs);
        } catch (error) {
          // Left as it is (and not tried again by this actor): a log it cannot read is not rewritten.
          this.o.log.error('account log unreadable; not compacted', { shard: actor.shard, error });
          return;
        }
        actor.compaction = { prefixBytes: log.bytes, data: log.compacted() };
        this.batch().join(actor);
        this.scheduleCommit();
      },
      (error: unknown) => {
        // Nothing changed: the log stays as it is, and a later commit tries again.
        actor.compacting = false;
        this.o.log.warn('account log compaction read failed', { shard: actor.shard, error });
      },
    );
  }

  /** Runs the actor's waiting work (the fetched item first) until it waits on Redis again. */
  private drain(actor: Actor, nowMs: number): void {
    while (actor.status !== 'loading') {
      let item = actor.head;
      if (item !== undefined) actor.head = undefined;
      else {
        item = actor.mailbox.shift();
        if (item === undefined) return;
        this.mailboxDepth--;
      }
      this.run(actor, item, nowMs);
    }
  }

  // --- bounded record maps ----------------------------------------------

  /** Record keys `item` reads that were evicted from memory (so are in Redis, or a fingerprint collision). */
  private missingKeys(actor: Actor, item: WorkItem, nowMs: number): string[] {
    const keys: string[] = [];
    const need = (key: string): void => {
      const parts = parseKey(key);
      if (!actor.records.includesParts(parts) && actor.evicted.mayHave(parts, nowMs)) keys.push(key);
    };
    // A transaction's keys are looked up by parts: the string is made only for one not in memory.
    const needTxn = (institution: string, stan: number, time: number): void => {
      // Nothing evicted (the usual case): nothing to look for, and no key string to make.
      if (!actor.evicted.active || actor.records.includes(institution, stan, time)) return;
      if (actor.evicted.mayHaveTxn(institution, stan, time, nowMs))
        keys.push(recordKey(institution, stan, time));
    };
    switch (item.k) {
      case 'txn': {
        const { req } = item;
        needTxn(item.institution, req.stan, req.time);
        if (req.txnClass === '0220' || req.txnClass === '0400')
          needTxn(item.institution, req.origStan, req.origTime);
        break;
      }
      case 'adjust':
        need(`${ADJUST_KEY_PREFIX}${item.reference}`);
        break;
      case 'expire':
        need(item.recordKey);
        break;
      default:
        break;
    }
    return keys;
  }

  /**
   * Reads the records `item` needs from the account log (the whole log: a
   * record has no address of its own in it; only the wanted entries are
   * decoded, log-scan.ts), then runs it and whatever queued behind it, in
   * order (the actor waits as during activation).
   */
  private fetchRecords(actor: Actor, item: WorkItem, missing: string[]): void {
    actor.status = 'loading';
    actor.head = item;
    actor.accountKey ??= this.o.keys.account(actor.shard, actor.pan);
    this.o.reader.getBuffer(actor.accountKey).then(
      (data) => {
        if (this.actors.get(actor.pan) !== actor) {
          // Dropped meanwhile (a failed commit): nothing of it was decided; 96, retry.
          this.failLoad(actor);
          this.scheduleCommit();
          return;
        }
        // The log is read whole, so the work queued behind finds its records in the same read
        // (nothing was evicted while the actor waited: evict() skips a loading actor).
        const wanted = new Set(missing);
        const nowMs = this.now();
        for (let i = 0; i < actor.mailbox.length; i++) {
          for (const key of this.missingKeys(actor, actor.mailbox.at(i)!, nowMs)) {
            if (wanted.has(key)) continue;
            wanted.add(key);
            this.stats.recordReads++;
          }
        }
        let found: Map<string, TxnRecord>;
        try {
          found = data === null ? new Map() : findRecordsInLog(data, wanted);
        } catch (error) {
          // As a failed read: the waiting work gets 96, the actor stays.
          this.o.log.error('account log unreadable', { shard: actor.shard, error });
          actor.status = 'ready';
          this.answerWaiting(actor);
          this.scheduleCommit();
          return;
        }
        this.bringBack(actor, found, wanted);
        actor.status = 'ready';
        actor.fetchedFor = item;
        this.drain(actor, this.now());
        this.scheduleCommit();
      },
      () => {
        // The read failed: the item and those behind it get 96 (retry). The actor stays: it
        // may have decisions in a batch not yet committed, which a fresh actor loaded from
        // Redis would not see.
        actor.status = 'ready';
        this.answerWaiting(actor);
        this.scheduleCommit();
      },
    );
  }

  /** Puts the records under `keys` found in a read of the log back in memory. */
  private bringBack(actor: Actor, found: ReadonlyMap<string, TxnRecord>, keys: Iterable<string>): void {
    for (const key of keys) {
      const record = found.get(key);
      if (record !== undefined && !actor.records.has(key)) {
        actor.records.setDurable(record);
        if (outlivesWindow(record)) actor.evicted.returnedKept(key);
      }
    }
  }

  /** Answers 96 to the item taken out of turn and everything in the mailbox. */
  private answerWaiting(actor: Actor): void {
    const batch = this.batch();
    if (actor.head !== undefined) {
      batch.results.push(this.failedResult(actor.head));
      actor.head = undefined;
    }
    for (const item of actor.mailbox.clear()) {
      this.mailboxDepth--;
      batch.results.push(this.failedResult(item));
    }
  }

  /**
   * Keeps an actor's record map at recordsPerActorMax: drops the oldest
   * records whose last write is durable (its batch released, not in the open
   * batch). They stay in the account log; a key that needs one fetches it.
   */
  private evict(actor: Actor, nowMs: number): void {
    const records = actor.records;
    // Not while it waits on a fetch: the waiting item was checked against what is in memory
    // now, and must find it there when it runs.
    if (actor.status === 'loading' || records.size <= this.o.recordsPerActorMax) return;
    const evictor = this.evictor;
    evictor.actor = actor;
    evictor.confirmedUpTo = this.confirmedUpTo;
    evictor.nowMs = nowMs;
    records.evict(this.o.recordsPerActorMax, evictor);
  }

  private failLoad(actor: Actor): void {
    this.drop(actor);
    this.answerWaiting(actor);
  }

  /** An actor leaves memory (its state is in Redis); its evicted keys go back to the budget. */
  private drop(actor: Actor): void {
    if (this.actors.get(actor.pan) !== actor) return;
    this.actors.delete(actor.pan);
    actor.evicted.release();
    actor.records.release();
  }

  /** Drops idle actors beyond actorsMax, least recently used first. Their state is in Redis. */
  private passivateIdle(): void {
    let excess = this.actors.size - this.o.actorsMax;
    if (excess <= 0) return;
    const busy = this.busyBatches();
    for (const actor of this.actors.values()) {
      if (excess <= 0) break;
      if (actor.status === 'loading' || busy.has(actor.batchId)) continue;
      this.drop(actor);
      excess--;
    }
  }

  /**
   * Drops the actors the record sweep brought into memory, once their sweep
   * is durable (called as batches are released), unless other work used
   * them meanwhile: a sweep over idle accounts must not push the busy ones
   * out of memory.
   */
  private passivateSwept(): void {
    const busy = this.busyBatches();
    this.swept = this.swept.filter((actor) => {
      if (!actor.sweepOnly || this.actors.get(actor.pan) !== actor) return false;
      if (actor.status === 'loading' || busy.has(actor.batchId)) return true;
      this.drop(actor);
      return false;
    });
  }

  /** Ids of the batches not yet released: the open one and those at Redis. */
  private busyBatches(): Set<number> {
    return new Set<number>([this.open?.id ?? -1, ...this.inflight.map((e) => e.batch.id)]);
  }

  // --- commit -----------------------------------------------------------

  private scheduleCommit(): void {
    if (this.commitScheduled || this.open === undefined || !this.canSend()) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commit();
    });
  }

  private canSend(): boolean {
    if (this.refencing !== undefined) return false;
    let writing = 0;
    for (const entry of this.inflight) if (entry.seq !== undefined) writing++;
    return writing < COMMITS_IN_FLIGHT_MAX;
  }

  private commit(): void {
    const batch = this.open;
    if (batch === undefined || !this.canSend()) return;
    this.open = undefined;
    if (!batch.hasWrites) {
      // Nothing to persist (replays, reads, unrecorded declines): released in
      // order, after every commit sent before it returned.
      this.inflight.push({ batch, seq: undefined, ok: true, startedMs: 0 });
      this.release();
      return;
    }
    let previousSeq: number | undefined;
    for (let i = this.inflight.length - 1; i >= 0 && previousSeq === undefined; i--)
      previousSeq = this.inflight[i]!.seq;
    const epoch = this.epoch;
    const blob = buildCommit(batch, this.o.keys);
    const entry: InFlight = { batch, seq: batch.id, ok: false, startedMs: performance.now() };
    this.inflight.push(entry);
    this.send(batch.id, previousSeq ?? 0, epoch, blob).then(
      (reply) => this.onReply(entry, reply),
      (error: unknown) => {
        if (!this.inflight.includes(entry)) return;
        this.o.log.warn('commit failed or unconfirmed; answering 96, re-fencing and reloading', {
          workerId: this.o.workerId,
          error,
        });
        this.failAll(true);
      },
    );
    // Room for a second commit: the next batch goes out while this one is at Redis.
    this.scheduleCommit();
  }

  private onReply(entry: InFlight, reply: unknown): void {
    if (!this.inflight.includes(entry)) return; // already answered 96 by a failure before it
    if (reply === COMMIT_APPLIED || reply === COMMIT_ALREADY_APPLIED) {
      entry.ok = true;
      this.stats.batchSizes.push(entry.batch.results.length);
      this.stats.commitSeconds.push((performance.now() - entry.startedMs) / 1000);
      this.release();
      this.scheduleCommit();
      return;
    }
    if (reply === COMMIT_FENCED) {
      // Only another owner moves our epochs on: stop writing rather than fight over the shards.
      this.o.log.error('commit refused: shard epoch moved on; this worker stops serving', {
        workerId: this.o.workerId,
      });
      this.fenced = true;
      this.failAll(false);
      return;
    }
    if (reply !== COMMIT_PREDECESSOR_MISSING)
      this.o.log.error('commit: unexpected reply', { workerId: this.o.workerId, reply: String(reply) });
    this.failAll(true);
  }

  /** Posts the results of the oldest commits that returned, in the order they were decided. */
  private release(): void {
    while (this.inflight[0]?.ok === true) {
      const { batch } = this.inflight.shift()!;
      this.confirmedUpTo = batch.id;
      const nowMs = this.now();
      for (const actor of batch.actors) {
        if (actor.compacting && actor.compactionBatch === batch.id) actor.compacting = false;
        // Read once this batch's appends are in the log, so the compaction takes them in too.
        if (!actor.compacting && compactionDue(actor.logBytes, actor.deadBytes, actor.compactAnySize))
          this.readForCompaction(actor);
        actor.compactAnySize = false;
        this.evict(actor, nowMs);
      }
      this.o.post(batch.results);
    }
    this.passivateIdle();
    // Here, not at every activation: a pass brings in thousands of actors at once.
    if (this.swept.length > 0) this.passivateSwept();
  }

  private send(seq: number, previousSeq: number, epoch: number, blob: Buffer): Promise<unknown> {
    const { writer } = this.o;
    const appliedKey = this.appliedKey;
    const call = writer
      .evalsha(this.commitSha!, 1, appliedKey, epoch, APPLIED_SEQ_TTL_MS, blob, seq, previousSeq)
      .catch(async (error: unknown) => {
        // A restarted Redis has forgotten the script: load it again and retry once.
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        this.commitSha = (await writer.script('LOAD', COMMIT_SCRIPT)) as string;
        return writer.evalsha(
          this.commitSha,
          1,
          appliedKey,
          epoch,
          APPLIED_SEQ_TTL_MS,
          blob,
          seq,
          previousSeq,
        );
      });
    return withTimeout(call, this.o.commitTimeoutMs, 'commit');
  }

  /**
   * A commit failed, was refused, or its outcome is unknown (it may still
   * apply later, e.g. after a Redis stall). Every batch not yet released (in
   * flight or open, all decided on top of it) is answered 96 and its actors
   * dropped: 96 means "retry", and a retry learns the true outcome by key.
   * Then, unless fenced, the worker takes a new epoch for its shards before
   * any account is read again. The re-fence goes over the same connection as
   * the commits, so every commit sent before it has executed (or never will);
   * a late apply after it carries a stale epoch and is refused.
   */
  private failAll(refence: boolean): void {
    const batches = this.inflight.map((e) => e.batch);
    if (this.open !== undefined) batches.push(this.open);
    this.inflight = [];
    this.open = undefined;
    for (const b of batches) {
      for (const actor of b.actors) this.drop(actor);
      this.o.post(b.results.map((r) => this.failedResultFor(r)));
    }
    if (!refence) return;
    this.refencing = this.refence().then(() => {
      this.refencing = undefined;
      const held = this.held;
      this.held = [];
      this.handle(held);
    });
  }

  private async refence(): Promise<void> {
    const { keys, writer, workerId, workerCount } = this.o;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return;
      try {
        const epoch = await writer.incr(keys.epochCounter());
        const args: string[] = [];
        for (let shard = workerId; shard < SHARD_COUNT; shard += workerCount)
          args.push(keys.epoch(shard), String(epoch));
        await writer.mset(...args);
        this.epoch = epoch;
        this.o.log.info('re-fenced shards after a failed commit', { workerId, epoch });
        return;
      } catch {
        // Redis is away: keep trying, bounded back-off. Work waits (and the main thread's callers time out on their own terms).
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * (attempt + 1))));
      }
    }
  }

  /** An rrn as a string, for the answers decided outside decide() (14, 96). */
  private nextRrn(): string {
    const { rrns } = this.o;
    rrns.next(this.now());
    return codeString(rrns.head, rrns.tail);
  }

  private failedResultFor(result: WorkResult): WorkResult {
    switch (result.k) {
      case 'txn':
        return { seq: result.seq, k: 'txn', response: { rc: RC.systemMalfunction, rrn: this.nextRrn() } };
      case 'admin':
        return { seq: result.seq, k: 'admin', outcome: storeUnavailable() };
      case 'expire':
      case 'sweep':
        return { seq: result.seq, k: result.k, outcome: 'retry' };
    }
  }

  private failedResult(item: WorkItem): WorkResult {
    if (item.k === 'txn')
      return { seq: item.seq, k: 'txn', response: { rc: RC.systemMalfunction, rrn: this.nextRrn() } };
    if (item.k === 'expire' || item.k === 'sweep') return { seq: item.seq, k: item.k, outcome: 'retry' };
    return { seq: item.seq, k: 'admin', outcome: storeUnavailable() };
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

class BatchSink implements DecisionSink {
  actor!: Actor;
  batch!: OpenBatch;

  record(record: TxnRecord): void {
    this.batch.addRecord(this.actor, record);
  }

  effect(effect: LedgerEffect): void {
    this.batch.addEffect(this.actor, effect);
  }
}

function storeUnavailable(): AdminOutcome {
  return {
    ok: false,
    code: 'store_unavailable',
    message: 'the store did not confirm the change; retry',
  };
}

/**
 * Checked after every decision. A broken invariant is a bug: throwing here
 * crashes the worker, whose in-flight work is answered 96 and whose accounts
 * reload from Redis (where nothing of the broken batch was written).
 */
function assertAccountInvariants(account: AccountState): void {
  if (account.held < 0 || account.balance - account.held < 0 || !Number.isSafeInteger(account.balance)) {
    throw new Error(
      `invariant: account ${maskPan(account.pan)} balance ${account.balance} held ${account.held}`,
    );
  }
}

function assertHeldMatchesOpenHolds(actor: Actor): void {
  let open = 0;
  for (const record of actor.records.values())
    if (record.state === 'open' && record.reversedRc === undefined && !record.tombstone)
      open += record.approvedAmount;
  if (open !== actor.account!.held)
    throw new Error(`invariant: held ${actor.account!.held} != open holds ${open}`);
}
