import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import { RepeatLog } from '../../observability/repeat-log.js';
import type { KeySpace } from '../../store/keys.js';
import { withTimeout } from '../../util/with-timeout.js';
import {
  ADJUST_KEY_PREFIX,
  outlivesWindow,
  parseKey,
  recordKey,
  type TxnRecord,
} from '../records/txn-record.js';
import { type AccountLog, readAccountLog } from '../storage/account-log.js';
import { findRecordsInLog } from '../storage/log-scan.js';
import type { WorkItem } from '../worker/worker-protocol.js';
import type { Actor } from './actor.js';

export interface ActorLoaderOptions {
  /** Reads only: activation, evicted records a key needs, and compaction. */
  readonly reader: Redis;
  readonly keys: KeySpace;
  readonly dedupeWindowMs: number;
  /**
   * A read Redis has not answered by then counts as failed (its work gets
   * 96): a stalled store (SIGSTOP, a blocked server) must not leave work
   * waiting for an answer that may never come. The owner's commitTimeoutMs.
   */
  readonly readTimeoutMs: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly workerId: number;
  /** Whether the actor is still the one in memory (a failed commit may have dropped it meanwhile). */
  readonly isCurrent: (actor: Actor) => boolean;
}

/** What the loader hands back to the core; every callback runs on the core's thread, in a later turn. */
export interface LoaderEvents {
  /** The actor's log as read (undefined: no such account). Throwing here counts as a failed load. */
  activate(actor: Actor, log: AccountLog | undefined, nowMs: number): void;
  /** The read failed or the state is unreadable: the actor leaves memory and its work gets 96. */
  loadFailed(actor: Actor): void;
  /** The evicted records `item` (and the work behind it) needs are back in memory. */
  fetched(actor: Actor, item: WorkItem): void;
  /** The fetch failed; `dropped` when the actor left memory meanwhile. */
  fetchFailed(actor: Actor, dropped: boolean): void;
  /** A compaction of the actor's log was read: the next commit carries it. */
  compactionRead(actor: Actor): void;
  /**
   * Where the log of an actor that looked beyond its ref (a fallback ref, an
   * alias) was found (undefined: nowhere), before `activate`. False when the
   * actor left memory meanwhile (another one holds that account): the read
   * is not used.
   */
  resolved(actor: Actor, foundAt: string | undefined): boolean;
  /** Whether a re-key's target `key` exists (probe); `item` is to run again, before the mailbox. */
  probed(actor: Actor, item: WorkItem, key: string, exists: boolean): void;
  /** A round of reads is done: a commit may be due. */
  readsDone(): void;
}

/**
 * The reads of a shard owner's actors from Redis, apart from the decisions:
 * activation (one pipelined GET per turn for every actor waiting to load),
 * evicted records a key needs (the account log read whole, only the wanted
 * entries decoded: log-scan.ts), and the reads that compact a log. While an
 * actor waits on a read its work queues in its mailbox; nothing is decided
 * here.
 */
export class ActorLoader {
  private loadQueue: Actor[] = [];
  private loadScheduled = false;
  /** Records read back from Redis since the last takeRecordReads() (evicted, or looked up blind). */
  private recordReads = 0;
  /** Account reads that failed (Redis away or too slow): their work gets 96; one line per 10 s at most. */
  private readonly readsFailed: RepeatLog;

  constructor(
    private readonly o: ActorLoaderOptions,
    private readonly events: LoaderEvents,
  ) {
    this.readsFailed = new RepeatLog(o.log, 'warn', 'account reads failed; answering their work 96');
  }

  takeRecordReads(): number {
    const reads = this.recordReads;
    this.recordReads = 0;
    return reads;
  }

  /** Reads the actor's state in the next turn, with every other actor queued to load by then. */
  load(actor: Actor): void {
    this.loadQueue.push(actor);
    if (!this.loadScheduled) {
      this.loadScheduled = true;
      setImmediate(() => this.flushLoads());
    }
  }

  /**
   * One pipelined round of GETs for every actor queued: its account key, and
   * while a token key rotates also the PAN's ref under the previous token key
   * (fallbackRef) or, for an actor a job brought in by an old ref, the alias
   * a re-key left there (followAlias), whose new ref a second round reads.
   */
  private flushLoads(): void {
    this.loadScheduled = false;
    const actors = this.loadQueue;
    this.loadQueue = [];
    const { keys, reader } = this.o;
    const pipeline = reader.pipeline();
    for (const actor of actors) {
      pipeline.getBuffer(keys.account(actor.shard, actor.ref));
      if (actor.fallbackRef !== undefined) pipeline.getBuffer(keys.account(actor.shard, actor.fallbackRef));
      if (actor.followAlias) pipeline.get(keys.accountAlias(actor.shard, actor.ref));
    }
    withTimeout(pipeline.exec(), this.o.readTimeoutMs, 'actor load').then(
      (replies) => {
        const nowMs = this.o.now();
        const moved: { actor: Actor; ref: string }[] = [];
        let at = 0;
        const next = (): [Error | null, unknown] | undefined => replies?.[at++];
        for (const actor of actors) {
          const own = next();
          const fallback = actor.fallbackRef === undefined ? undefined : next();
          const alias = actor.followAlias ? next() : undefined;
          if (
            own === undefined ||
            own[0] !== null ||
            (fallback !== undefined && fallback[0] !== null) ||
            (alias !== undefined && alias[0] !== null)
          ) {
            this.events.loadFailed(actor);
            continue;
          }
          if (!this.o.isCurrent(actor)) continue;
          const lookedBeyond = actor.fallbackRef !== undefined || actor.followAlias;
          if (own[1] !== null) {
            if (!lookedBeyond || this.events.resolved(actor, actor.ref))
              this.activateFrom(actor, own[1] as Buffer, nowMs);
          } else if (fallback !== undefined && fallback[1] !== null) {
            const ref = actor.fallbackRef!;
            if (this.events.resolved(actor, ref)) this.activateFrom(actor, fallback[1] as Buffer, nowMs);
          } else if (alias !== undefined && alias[1] !== null) {
            moved.push({ actor, ref: alias[1] as string });
          } else if (!lookedBeyond || this.events.resolved(actor, undefined)) {
            this.activateFrom(actor, null, nowMs);
          }
        }
        if (moved.length === 0) this.events.readsDone();
        else this.loadMoved(moved);
      },
      (error: unknown) => {
        this.readsFailed.note({ workerId: this.o.workerId, accounts: actors.length, error }, actors.length);
        for (const actor of actors) this.events.loadFailed(actor);
        this.events.readsDone();
      },
    );
  }

  /** The second round: the logs of accounts a re-key moved, at the refs their aliases named. */
  private loadMoved(moved: readonly { actor: Actor; ref: string }[]): void {
    const { keys, reader } = this.o;
    const pipeline = reader.pipeline();
    for (const { actor, ref } of moved) pipeline.getBuffer(keys.account(actor.shard, ref));
    withTimeout(pipeline.exec(), this.o.readTimeoutMs, 'moved actor load').then(
      (replies) => {
        const nowMs = this.o.now();
        moved.forEach(({ actor, ref }, i) => {
          const reply = replies?.[i];
          if (reply === undefined || reply[0] !== null) {
            this.events.loadFailed(actor);
            return;
          }
          if (!this.o.isCurrent(actor)) return;
          const data = reply[1] as Buffer | null;
          if (this.events.resolved(actor, data === null ? undefined : ref))
            this.activateFrom(actor, data, nowMs);
        });
        this.events.readsDone();
      },
      (error: unknown) => {
        this.readsFailed.note({ workerId: this.o.workerId, accounts: moved.length, error }, moved.length);
        for (const { actor } of moved) this.events.loadFailed(actor);
        this.events.readsDone();
      },
    );
  }

  private activateFrom(actor: Actor, data: Buffer | null, nowMs: number): void {
    try {
      const log = data === null ? undefined : readAccountLog(data, nowMs - this.o.dedupeWindowMs);
      this.events.activate(actor, log, nowMs);
    } catch (error) {
      this.o.log.error('actor state unreadable', { shard: actor.shard, error });
      this.events.loadFailed(actor);
    }
  }

  /**
   * Whether `key` exists (a re-key's target), read while the actor waits
   * (status loading, `item` taken out of turn as its head, as for a fetch).
   */
  probe(actor: Actor, item: WorkItem, key: string): void {
    actor.status = 'loading';
    actor.head = item;
    withTimeout(this.o.reader.exists(key), this.o.readTimeoutMs, 'move target check').then(
      (count) => {
        if (!this.o.isCurrent(actor)) this.events.fetchFailed(actor, true);
        else this.events.probed(actor, item, key, count > 0);
      },
      () => this.events.fetchFailed(actor, false),
    );
  }

  /**
   * Reads the actor's log to compact it (its dead bytes reached half): the
   * actor goes on deciding meanwhile, and the commit after the read carries
   * the compaction, which keeps whatever was appended since the read.
   */
  readForCompaction(actor: Actor): void {
    actor.compacting = true;
    actor.accountKey ??= this.o.keys.account(actor.shard, actor.ref);
    withTimeout(this.o.reader.getBuffer(actor.accountKey), this.o.readTimeoutMs, 'compaction read').then(
      (data) => {
        if (!this.o.isCurrent(actor)) return;
        if (data === null) {
          actor.compacting = false;
          return;
        }
        let log: AccountLog;
        try {
          log = readAccountLog(data, this.o.now() - this.o.dedupeWindowMs);
        } catch (error) {
          // Left as it is (and not tried again by this actor): a log it cannot read is not rewritten.
          this.o.log.error('account log unreadable; not compacted', { shard: actor.shard, error });
          return;
        }
        actor.compaction = { prefixBytes: log.bytes, data: log.compacted() };
        this.events.compactionRead(actor);
      },
      (error: unknown) => {
        // Nothing changed: the log stays as it is, and a later commit tries again.
        actor.compacting = false;
        this.o.log.warn('account log compaction read failed', { shard: actor.shard, error });
      },
    );
  }

  /**
   * The record keys `item` reads that were evicted from memory (so are in
   * Redis, or a fingerprint collision): empty when the item can run now.
   * Counted as record reads when the caller fetches them.
   */
  missingKeys(actor: Actor, item: WorkItem, nowMs: number): string[] {
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
   * decoded, log-scan.ts), and those of the work queued behind it. The actor
   * waits (status loading, the item taken out of turn as its head) as during
   * activation; `fetched` runs it and what queued behind, in order.
   */
  fetch(actor: Actor, item: WorkItem, missing: string[]): void {
    this.recordReads += missing.length;
    actor.status = 'loading';
    actor.head = item;
    actor.accountKey ??= this.o.keys.account(actor.shard, actor.ref);
    withTimeout(this.o.reader.getBuffer(actor.accountKey), this.o.readTimeoutMs, 'record fetch').then(
      (data) => {
        if (!this.o.isCurrent(actor)) {
          // Dropped meanwhile (a failed commit): nothing of it was decided; 96, retry.
          this.events.fetchFailed(actor, true);
          return;
        }
        // The log is read whole, so the work queued behind finds its records in the same read
        // (nothing was evicted while the actor waited: the core does not evict a loading actor).
        const wanted = new Set(missing);
        const nowMs = this.o.now();
        for (let i = 0; i < actor.mailbox.length; i++) {
          for (const key of this.missingKeys(actor, actor.mailbox.at(i)!, nowMs)) {
            if (wanted.has(key)) continue;
            wanted.add(key);
            this.recordReads++;
          }
        }
        let found: Map<string, TxnRecord>;
        try {
          found = data === null ? new Map() : findRecordsInLog(data, wanted);
        } catch (error) {
          // As a failed read: the waiting work gets 96, the actor stays.
          this.o.log.error('account log unreadable', { shard: actor.shard, error });
          this.events.fetchFailed(actor, false);
          return;
        }
        bringBack(actor, found, wanted);
        this.events.fetched(actor, item);
      },
      // The read failed: the item and those behind it get 96 (retry). The actor stays: it
      // may have decisions in a batch not yet committed, which a fresh actor loaded from
      // Redis would not see.
      () => this.events.fetchFailed(actor, false),
    );
  }
}

/** Puts the records under `keys` found in a read of the log back in memory. */
function bringBack(actor: Actor, found: ReadonlyMap<string, TxnRecord>, keys: Iterable<string>): void {
  for (const key of keys) {
    const record = found.get(key);
    if (record !== undefined && !actor.records.has(key)) {
      actor.records.setDurable(record);
      if (outlivesWindow(record)) actor.evicted.returnedKept(key);
    }
  }
}
