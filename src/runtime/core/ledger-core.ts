import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import { RC } from '../../protocol/rc.js';
import type { AccountRefs } from '../../security/account-refs.js';
import type { KeySpace } from '../../store/keys.js';
import type { CodeSource } from '../../util/code-source.js';
import { type AccountLog, compactionDue } from '../storage/account-log.js';
import type { LedgerWorkerData, WarmRef, WorkItem, WorkResult } from '../worker/worker-protocol.js';
import type { Actor } from './actor.js';
import { ActorCache } from './actor-cache.js';
import { ActorLoader } from './actor-loader.js';
import type { ActorRules, DecideContext } from './actor-rules.js';
import { BatchSink } from './batch-sink.js';
import { CommitPipeline, type CommitState } from './commit-pipeline.js';
import { CommitCounters, type LedgerCoreStats } from './core-stats.js';
import { FailedResults } from './failed-results.js';
import { ForwardTurns } from './forward-turns.js';
import { assertAccountInvariants, assertHeldMatchesOpenHolds } from './invariants.js';
import { KeyTurns } from './key-turns.js';
import { OpenBatch } from './open-batch.js';
import { RecordWindow } from './record-window.js';

/** Work waiting for one account while it loads; beyond this it is answered 96. */
export const MAILBOX_MAX = 10_000;

/** Work of the background passes: an actor only they brought into memory leaves it after their turn. */
function isBackgroundPass(k: WorkItem['k']): boolean {
  return k === 'sweep' || k === 'reseal' || k === 'rekey';
}

/**
 * The owner's settings are the worker's (LedgerWorkerData, documented there)
 * but for how to reach Redis, which arrives as connections and a key space.
 */
export interface LedgerCoreOptions extends Omit<LedgerWorkerData, 'redisUrl' | 'keyPrefix' | 'dataKeysJson'> {
  /** Shards, refs and sealed PANs from the data keys (replaced on reload: setRefs). */
  readonly refs: AccountRefs;
  /** The rule set deciding each item (src/rules/switch-rules.ts: the on-us ledger's and the issuer routes'). */
  readonly rules: ActorRules;
  /**
   * This incarnation's owner id (keys.ownerCounter: fresh for every start, a
   * restart of the same worker included). Its commits are numbered from 1
   * under it, so a restarted worker holding the same epoch never has its
   * commits taken for its predecessor's.
   */
  readonly owner: number;
  readonly keys: KeySpace;
  /** Commits (at most COMMITS_IN_FLIGHT_MAX in flight, chained). */
  readonly writer: Redis;
  /** Reads: actor activation, and evicted records a key needs. */
  readonly reader: Redis;
  /** This owner's rrn and authCode generators (an RrnSource with its leased source id, an AuthCodeSource). */
  readonly rrns: CodeSource;
  readonly authCodes: CodeSource;
  readonly post: (results: WorkResult[]) => void;
  /** Told when the owner starts or stops being able to commit (a re-fence, fenced out): readiness. */
  readonly commitStateChanged?: (state: CommitState) => void;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

/**
 * A ledger worker's brain, free of worker_threads so it can be tested with a
 * real Redis in-process: the control flow of one shard owner. Work arrives
 * in batches; each item runs as one synchronous turn of its account's actor
 * under the rule set (ActorRules), or waits in the actor's mailbox while the
 * actor loads (ActorLoader). What the turns decide collects in the open
 * batch, which the CommitPipeline persists with one script call, at most two
 * chained commits in flight. Results leave only after their batch's commit
 * returned (nothing is approved that is not durable); when a commit fails,
 * every batch not yet released is answered 96 and its actors dropped, to be
 * reloaded from Redis. ActorCache keeps the actors in memory and passivates
 * them; RecordWindow bounds each actor's records.
 */
export class LedgerCore {
  private readonly cache: ActorCache;
  private readonly loader: ActorLoader;
  private readonly pipeline: CommitPipeline;
  private readonly window: RecordWindow;
  private readonly failures: FailedResults;
  private open: OpenBatch | undefined;
  private batchSeq = 0;
  private commitScheduled = false;
  private mailboxDepth = 0;
  private readonly commits = new CommitCounters();
  private readonly now: () => number;
  private readonly decideCtx: { -readonly [K in keyof DecideContext]: DecideContext[K] };
  /** Routes a decision's records and effects into the open batch for the actor being run. */
  private readonly sink = new BatchSink((pan, recordId) => this.refs.sealPan(pan, recordId));
  /**
   * Work that arrived while re-fencing: it runs once the new epoch is in
   * place, or is answered 96 (retry) if that takes longer than
   * commitTimeoutMs, so a store that stays away turns into prompt 96s (and a
   * shutdown that can drain), not answers that never come.
   */
  private held: WorkItem[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
  /** stop() was called: the owner is gone. */
  private stopped = false;
  private refs: AccountRefs;
  private readonly keyTurns: KeyTurns;
  private readonly forwardTurns: ForwardTurns;

  constructor(private readonly o: LedgerCoreOptions) {
    this.now = o.nowMs ?? Date.now;
    this.refs = o.refs;
    this.decideCtx = {
      nowMs: 0,
      holdTtlMs: o.holdTtlMs,
      institution: '',
      rrns: o.rrns,
      authCodes: o.authCodes,
    };
    this.cache = new ActorCache(o);
    this.failures = new FailedResults(o.rrns, this.now);
    this.window = new RecordWindow(o);
    this.loader = new ActorLoader(
      {
        reader: o.reader,
        keys: o.keys,
        dedupeWindowMs: o.dedupeWindowMs,
        readTimeoutMs: o.commitTimeoutMs,
        now: this.now,
        log: o.log,
        workerId: o.workerId,
        isCurrent: (actor) => this.cache.isCurrent(actor),
      },
      {
        activate: (actor, log, nowMs) => this.activate(actor, log, nowMs),
        loadFailed: (actor) => this.failLoad(actor),
        fetched: (actor, item) => {
          actor.status = 'ready';
          actor.fetchedFor = item;
          this.drain(actor, this.now());
          this.scheduleCommit();
        },
        fetchFailed: (actor, dropped) => {
          if (dropped) this.failLoad(actor);
          else {
            actor.status = 'ready';
            this.answerWaiting(actor);
          }
          this.scheduleCommit();
        },
        compactionRead: (actor) => {
          this.batch().join(actor);
          this.scheduleCommit();
        },
        resolved: (actor, foundAt) => this.resolved(actor, foundAt),
        probed: (actor, item, key, exists) => {
          actor.status = 'ready';
          actor.head = undefined;
          // Read by the item's turn, which runs again now, ahead of what queued behind it.
          actor.moveTarget = { key, taken: exists };
          const nowMs = this.now();
          this.run(actor, item, nowMs);
          this.drain(actor, nowMs);
          this.scheduleCommit();
        },
        readsDone: () => this.scheduleCommit(),
      },
    );
    this.forwardTurns = new ForwardTurns({
      rules: o.rules,
      ctx: this.decideCtx,
      sink: this.sink,
      failures: this.failures,
      post: o.post,
      runWaiting: (actor, items, nowMs) => this.runWaiting(actor, items, nowMs),
    });
    this.keyTurns = new KeyTurns({
      refs: () => this.refs,
      keys: o.keys,
      cache: this.cache,
      loader: this.loader,
      openBatch: () => this.batch(),
      log: o.log,
    });
    this.pipeline = new CommitPipeline(
      {
        workerId: o.workerId,
        workerCount: o.workerCount,
        epoch: o.epoch,
        commitTimeoutMs: o.commitTimeoutMs,
        keys: o.keys,
        writer: o.writer,
        appliedKey: o.keys.appliedSeq(o.owner),
        log: o.log,
      },
      {
        released: (batch) => this.released(batch),
        releasedRun: () => {
          this.cache.passivateIdle(this.busyBatches);
          // Here, not at every activation: a pass brings in thousands of actors at once.
          if (this.cache.hasSwept) this.cache.passivateSwept(this.busyBatches());
        },
        committed: (batch, seconds) => this.commits.committed(batch.results.length, seconds),
        maySend: () => this.scheduleCommit(),
        failed: (batches) => this.failed(batches),
        refenced: () => {
          this.clearHeldTimer();
          const held = this.held;
          this.held = [];
          this.handle(held);
        },
        stateChanged: (state) => this.o.commitStateChanged?.(state),
      },
    );
  }

  /** Loads the commit script and takes this owner's shards with a new epoch (CommitPipeline.takeShards). */
  async init(): Promise<void> {
    await this.pipeline.init();
    await this.pipeline.takeShards();
  }

  /** Resolves once a stopped core writes nothing more (its last re-fence, if one was under way, landed). */
  quiesced(): Promise<void> {
    return this.pipeline.quiesced();
  }

  /**
   * Stops for good (its owner is shutting down or was killed): nothing more
   * is taken or retried. A worker thread simply ends; an inline owner shares
   * the main thread, so its re-fence loop must not outlive it.
   */
  stop(): void {
    this.stopped = true;
    this.pipeline.stop();
    this.clearHeldTimer();
  }

  /** Takes a batch of work from the main thread. */
  handle(items: readonly WorkItem[]): void {
    if (this.stopped) return;
    if (this.pipeline.isRefencing) {
      for (const item of items) this.held.push(item);
      if (this.heldTimer === undefined && this.held.length > 0) {
        this.heldTimer = setTimeout(() => this.answerHeld(), this.o.commitTimeoutMs);
        this.heldTimer.unref();
      }
      return;
    }
    if (this.pipeline.fenced) {
      this.o.post(items.map((item) => this.failures.forItem(item)));
      return;
    }
    // One clock reading for the whole hand-off: its items arrived together (a read per item
    // was ~2% of a worker).
    const nowMs = this.now();
    for (let i = 0; i < items.length; i++) this.dispatch(items[i]!, nowMs);
    this.scheduleCommit();
  }

  /** The re-fence outlasted commitTimeoutMs: what waited for it is answered 96; later work waits anew. */
  private answerHeld(): void {
    this.heldTimer = undefined;
    if (this.stopped || this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.o.post(held.map((item) => this.failures.forItem(item)));
  }

  private clearHeldTimer(): void {
    if (this.heldTimer !== undefined) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
  }

  /** What a handover's next owner should load first: the accounts traffic had in memory here, most recently used first. */
  hotRefs(max: number): WarmRef[] {
    return this.cache.hotRefs(max);
  }

  /**
   * Loads these accounts ahead of their traffic (a handover's old owner had
   * them in memory): as actors brought in by traffic, so they stay. Those in
   * memory already, or loading, are left alone. The caller paces the calls.
   */
  warm(refs: readonly WarmRef[]): void {
    if (this.stopped || this.pipeline.fenced || this.pipeline.isRefencing) return;
    for (const { shard, ref } of refs)
      if (this.cache.holderOf(ref) === undefined) this.actorByRef(shard, ref, false);
  }

  takeStats(): LedgerCoreStats {
    return {
      actorsActive: this.cache.size,
      mailboxDepth: this.mailboxDepth,
      evictedKeys: this.cache.evictedKeys,
      recordReads: this.loader.takeRecordReads(),
      ...this.commits.take(),
    };
  }

  get activeActors(): number {
    return this.cache.size;
  }

  /**
   * New data keys (SIGHUP): new refs and seals use them from now on; actors
   * in memory keep their refs (the shard key never changes: the caller checks).
   */
  setRefs(refs: AccountRefs): void {
    this.refs = refs;
  }

  /** The actor in memory for `pan`, if any: for tests and diagnostics, never for decisions. */
  actorOf(pan: string): Readonly<Actor> | undefined {
    return this.cache.peek(pan);
  }

  /** Records decided and not yet sealed: none once every batch is built (a leak check for tests). */
  get liveRecords(): number {
    return this.cache.live.size;
  }

  private dispatch(item: WorkItem, nowMs: number): void {
    if (item.k === 'barrier') {
      // No actor: answered with the open batch, so after every batch decided before it.
      this.batch().results.push({ seq: item.seq, k: 'barrier' });
      return;
    }
    let actor: Actor;
    if (
      item.k === 'txn' ||
      item.k === 'get' ||
      item.k === 'put' ||
      item.k === 'adjust' ||
      item.k === 'issuerAnswer'
    ) {
      const pan = item.k === 'txn' ? item.req.pan : item.pan;
      actor = this.cache.use(pan) ?? this.actorNamed(pan);
    } else {
      actor = this.cache.useRef(item.ref) ?? this.actorByRef(item.shard, item.ref, item.k !== 'expire');
    }
    this.deliver(actor, item, nowMs);
  }

  /** Runs `item` on `actor` now, or queues it while the actor loads (bounded: past it, 96). */
  private deliver(actor: Actor, item: WorkItem, nowMs: number): void {
    if (!isBackgroundPass(item.k)) actor.backgroundOnly = false;
    if (actor.status === 'loading') {
      if (actor.mailbox.length >= MAILBOX_MAX) {
        // Bounded: past the cap the work is answered 96 (retry) instead of queued without limit.
        this.batch().results.push(this.failures.forItem(item));
        return;
      }
      actor.mailbox.push(item);
      this.mailboxDepth++;
      return;
    }
    this.run(actor, item, nowMs);
  }

  /**
   * A PAN's first use since its actor came into memory: its ref (one HMAC),
   * then the actor a job may have brought in by that ref, else a new one.
   * While a token key rotates, the PAN's ref under the previous key names
   * the account too (it may not be re-keyed yet): an actor under it is the
   * one, and a new actor is known by it while it loads (so a job naming it
   * meanwhile finds this actor) and looks there when the current ref holds
   * no account.
   */
  private actorNamed(pan: string): Actor {
    const refs = this.refs;
    const ref = refs.refOf(pan);
    const previous = refs.previousRefOf(pan);
    const found =
      this.cache.useRef(ref) ?? (previous === undefined ? undefined : this.cache.useRef(previous));
    if (found !== undefined) {
      this.cache.nameByPan(found, pan);
      return found;
    }
    const actor = this.cache.create(pan, refs.shardOf(pan), ref, false);
    if (previous !== undefined) {
      actor.fallbackRef = previous;
      this.cache.alsoKnownAs(actor, previous);
    }
    this.loader.load(actor);
    return actor;
  }

  /**
   * An actor a job names by a stored ref (hold expiry, the record sweep, the
   * rotation jobs). A ref under an older token key may name an account a
   * re-key moved: the load then follows the alias the move left.
   */
  private actorByRef(shard: number, ref: string, backgroundOnly: boolean): Actor {
    const actor = this.cache.create(undefined, shard, ref, backgroundOnly);
    actor.followAlias = !this.refs.isCurrentRef(ref);
    this.loader.load(actor);
    return actor;
  }

  /**
   * Where the load of an actor that looked beyond its ref found the account
   * (ActorLoader.resolved): the actor takes that ref (its old one an alias),
   * or, when another actor holds it already, that one takes this one's PAN,
   * refs and waiting work, and this one leaves memory (it decided nothing
   * yet): one actor per account.
   */
  private resolved(actor: Actor, foundAt: string | undefined): boolean {
    const fallback = actor.fallbackRef;
    actor.fallbackRef = undefined;
    actor.followAlias = false;
    if (fallback !== undefined && foundAt !== fallback) this.cache.forget(actor, fallback);
    if (foundAt === undefined || foundAt === actor.ref) return true;
    const holder = this.cache.holderOf(foundAt);
    if (holder === undefined || holder === actor) {
      this.cache.rebind(actor, foundAt);
      return true;
    }
    this.mailboxDepth -= actor.mailbox.length;
    const waiting = this.cache.merge(actor, holder);
    const nowMs = this.now();
    for (const item of waiting) this.deliver(holder, item, nowMs);
    return false;
  }

  private batch(): OpenBatch {
    this.open ??= new OpenBatch(++this.batchSeq);
    return this.open;
  }

  /** One turn of one actor: synchronous from start to end, at the caller's clock reading. */
  private run(actor: Actor, item: WorkItem, nowMs: number): void {
    if (actor.evicted.active && actor.fetchedFor !== item) {
      const missing = this.loader.missingKeys(actor, item, nowMs);
      if (missing.length > 0) {
        this.loader.fetch(actor, item, missing);
        return;
      }
    }
    actor.fetchedFor = undefined;
    const batch = this.batch();
    const { rules } = this.o;
    switch (item.k) {
      case 'txn': {
        const account = actor.account;
        if (account === undefined && item.issuer === undefined) {
          // No such account at this switch: 14, decided before duplicate handling, not recorded.
          batch.results.push({
            seq: item.seq,
            k: 'txn',
            response: { rc: RC.invalidCard, rrn: this.failures.nextRrn() },
          });
          return;
        }
        // An issuer route's PAN keeps records too: the same window bounds them.
        this.window.maybePrune(actor, nowMs);
        this.window.expireEvicted(actor, nowMs);
        // Keys pruned here, at activation or from the evicted generations: this batch deletes them.
        if (actor.prunedKeys.length > 0) batch.join(actor);
        if (item.issuer !== undefined || account === undefined) {
          this.forwardTurns.route(actor, item, batch, nowMs);
          return;
        }
        const ctx = this.decideCtx;
        ctx.nowMs = nowMs;
        ctx.institution = item.institution;
        const sink = this.sink;
        sink.actor = actor;
        sink.batch = batch;
        const effectsBefore = batch.effects.length;
        const response = rules.decide(account, actor.records, item.req, ctx, sink);
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
      case 'issuerAnswer':
        this.forwardTurns.settle(actor, item, batch, nowMs);
        return;
      case 'get':
        batch.results.push({ seq: item.seq, k: 'admin', outcome: rules.get(actor) });
        return;
      case 'put':
        batch.results.push({
          seq: item.seq,
          k: 'admin',
          outcome: rules.put(actor, item, () => this.keyTurns.identityOf(actor, item.pan), batch, nowMs),
        });
        return;
      case 'adjust':
        batch.results.push({ seq: item.seq, k: 'admin', outcome: rules.adjust(actor, item, batch, nowMs) });
        return;
      case 'expire':
        batch.results.push({
          seq: item.seq,
          k: 'expire',
          outcome: rules.expire(actor, item.recordKey, batch, nowMs),
        });
        return;
      case 'sweep':
        batch.results.push({ seq: item.seq, k: 'sweep', outcome: this.sweep(actor, batch, nowMs) });
        return;
      case 'reseal':
        batch.results.push({ seq: item.seq, k: 'rotation', outcome: this.keyTurns.reseal(actor) });
        return;
      case 'rekey': {
        const outcome = this.keyTurns.rekey(actor, item, batch);
        // Undefined: the actor waits on a read first, and runs the item again after it.
        if (outcome !== undefined) batch.results.push({ seq: item.seq, k: 'rotation', outcome });
        return;
      }
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
      this.window.prune(actor, nowMs);
      this.window.expireEvicted(actor, nowMs);
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

  // --- activation -----------------------------------------------------

  private activate(actor: Actor, log: AccountLog | undefined, nowMs: number): void {
    // A PAN of an issuer route has records and no account: its records are loaded all the same.
    if (log !== undefined) for (const record of log.records) actor.records.setDurable(record);
    actor.standIn = log?.standIn;
    actor.standInWritten = log?.standIn !== undefined;
    if (log?.account === undefined) {
      actor.status = 'absent';
    } else {
      actor.account = log.account;
      actor.status = 'ready';
      assertHeldMatchesOpenHolds(actor);
      this.keyTurns.resealIfOld(actor, log.account);
    }
    // Every activation prunes, however few the records: otherwise an account used now and then
    // would keep up to PRUNE_FLOOR records in Redis for good, past any window.
    this.window.prune(actor, nowMs);
    if (log !== undefined) this.activateLog(actor, log);
    // Loaded from Redis, so all durable: keep the newest recordsPerActorMax in memory.
    this.window.evict(actor, nowMs, this.pipeline.confirmedUpTo);
    this.drain(actor, nowMs);
    this.cache.passivateIdle(this.busyBatches);
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
   * Work that waited on the actor for something else (completions and
   * reversals of a forward just settled), in the order it came. One that
   * must fetch evicted records makes the actor wait on Redis: the rest then
   * wait too, at the front of the mailbox, and drain after the fetch (run
   * now, a second fetch would take the actor's one slot for work taken out
   * of turn, and the first item would never be answered).
   */
  private runWaiting(actor: Actor, items: readonly WorkItem[], nowMs: number): void {
    for (let i = 0; i < items.length; i++) {
      if (actor.status === 'loading') {
        for (let j = items.length - 1; j >= i; j--) actor.mailbox.unshift(items[j]!);
        this.mailboxDepth += items.length - i;
        return;
      }
      this.run(actor, items[i]!, nowMs);
    }
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

  /** Answers 96 to the item taken out of turn and everything in the mailbox. */
  private answerWaiting(actor: Actor): void {
    const batch = this.batch();
    if (actor.head !== undefined) {
      batch.results.push(this.failures.forItem(actor.head));
      actor.head = undefined;
    }
    for (const item of actor.mailbox.clear()) {
      this.mailboxDepth--;
      batch.results.push(this.failures.forItem(item));
    }
  }

  private failLoad(actor: Actor): void {
    this.cache.drop(actor);
    this.answerWaiting(actor);
  }

  /** Ids of the batches not yet released: the open one and those at Redis. */
  private readonly busyBatches = (): Set<number> => {
    const busy = new Set<number>([this.open?.id ?? -1]);
    this.pipeline.addBusyBatches(busy);
    return busy;
  };

  // --- commit -----------------------------------------------------------

  private scheduleCommit(): void {
    if (this.commitScheduled || this.open === undefined || !this.pipeline.canSend()) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commit();
    });
  }

  private commit(): void {
    const batch = this.open;
    if (batch === undefined || !this.pipeline.canSend()) return;
    this.open = undefined;
    this.pipeline.send(batch);
  }

  /** A batch is durable: compaction and eviction may go on for its actors, and its results leave. */
  private released(batch: OpenBatch): void {
    if (batch.standInApprovals.length > 0) this.commits.standInsReleased(batch.standInApprovals);
    const nowMs = this.now();
    const confirmedUpTo = this.pipeline.confirmedUpTo;
    let movedActors = false;
    for (const actor of batch.actors) {
      if (actor.moveBatch === batch.id) {
        // Its move is in Redis: the work that waited for it runs now.
        actor.moveBatch = 0;
        actor.status = 'ready';
        this.drain(actor, nowMs);
        movedActors = true;
      }
      if (actor.compacting && actor.compactionBatch === batch.id) actor.compacting = false;
      // Read once this batch's appends are in the log, so the compaction takes them in too.
      if (!actor.compacting && compactionDue(actor.logBytes, actor.deadBytes, actor.compactAnySize))
        this.loader.readForCompaction(actor);
      actor.compactAnySize = false;
      this.window.evict(actor, nowMs, confirmedUpTo);
    }
    this.o.post(batch.results);
    if (movedActors) this.scheduleCommit();
  }

  /**
   * Batches that will never be confirmed, oldest first, and the open one
   * decided on top of them: answered 96 (retry: a retry learns the true
   * outcome by key), their actors dropped to be reloaded from Redis.
   */
  private failed(batches: OpenBatch[]): void {
    // The commits among them (batches with nothing to write were only waiting their turn), before the open one joins.
    let commits = 0;
    for (const b of batches) if (b.hasWrites) commits++;
    this.commits.failed(commits);
    if (this.open !== undefined) batches.push(this.open);
    this.open = undefined;
    for (const b of batches) {
      for (const actor of b.actors) {
        this.cache.drop(actor);
        this.forwardTurns.abandon(actor);
        if (actor.moveBatch !== 0) {
          // Its move never landed: what waited for it is answered 96 too (the next try reloads).
          actor.moveBatch = 0;
          const waiting = actor.mailbox.clear();
          this.mailboxDepth -= waiting.length;
          this.o.post(waiting.map((item) => this.failures.forItem(item)));
        }
      }
      this.o.post(b.results.map((r) => this.failures.forResult(r)));
    }
  }
}
