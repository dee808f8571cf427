import type { Logger } from '../observability/log.js';
import { RepeatLog } from '../observability/repeat-log.js';
import { TXN_SAMPLES_MAX, type TxnIds, txnIds } from '../observability/txn-ids.js';
import { responseMtiOf } from '../protocol/mti.js';
import { RC } from '../protocol/rc.js';
import type { OutboundMessage } from '../protocol/request.js';
import { LOCAL_ISSUER, type TransactionEngine, type TxnContext } from '../protocol/txn-context.js';
import type { ShardHash } from '../security/shard-hash.js';
import { SHARD_COUNT, type StoredAccountRef } from '../store/keys.js';
import { SeqMap } from '../util/seq-map.js';
import { AdaptiveOwners, type AdaptivePolicy } from './adaptive-owners.js';
import type { CoreStats } from './core/core-runtime.js';
import type { StoreState } from './core/store-readiness.js';
import type { RrnGenerator } from './rrn.js';
import { type LedgerHost, type RuleSet, startInlineHost, startWorkerHost } from './worker/ledger-host.js';
import type {
  AdminOutcome,
  ExpireOutcome,
  ForwardOrder,
  IssuerOutcome,
  LedgerWorkerData,
  RotationOutcome,
  SweepOutcome,
  WarmRef,
  WorkItem,
  WorkResult,
} from './worker/worker-protocol.js';

/** Restart back-off for a worker that died: doubles from the first to the max. */
const RESTART_DELAY_FIRST_MS = 100;
const RESTART_DELAY_MAX_MS = 5_000;

export interface LedgerEngineOptions {
  readonly workers: number;
  /** Run each shard owner's LedgerCore on the main thread, always (no worker threads). */
  readonly inline?: boolean;
  /**
   * How long a handover (moveSlot) may keep a slot's work waiting for the
   * slot to drain before it gives up and leaves the owner where it was.
   */
  readonly handoverWaitMaxMs?: number;
  /** Move the slots' owners between the worker threads and the main thread with the offered load (adaptive-owners.ts). */
  readonly adaptive?: AdaptivePolicy;
  /** The rules the shard owners run (src/rules/rule-set.ts). */
  readonly ruleSet: RuleSet;
  readonly workerData: Omit<LedgerWorkerData, 'workerId' | 'workerCount'>;
  /** The shard of a PAN (the key file's shard key: the workers hash with the same). */
  readonly shards: ShardHash;
  readonly log: Logger;
  /** rrns for answers the main thread gives itself (96 when a worker is down). */
  readonly rrn: RrnGenerator;
  /** Worker statistics, for metrics. */
  readonly onStats?: (workerId: number, stats: CoreStats) => void;
  /** A worker that died is being started again (metrics). */
  readonly onRestart?: (workerId: number) => void;
  /**
   * A transaction the issuer rules forward (docs/issuers.md): the issuer
   * engine sends it, and reports what became of it with issuerAnswer().
   */
  readonly onForward?: (order: ForwardOrder) => void;
}

type Pending =
  /** `shard`: the PAN's, kept for a forward's answer (the keyed hash of the PAN is ~4% of the main thread). */
  | { readonly k: 'txn'; readonly ctx: TxnContext; readonly shard: number }
  | { readonly k: 'admin'; readonly resolve: (outcome: AdminOutcome) => void }
  | { readonly k: 'expire'; readonly resolve: (outcome: ExpireOutcome) => void }
  | { readonly k: 'sweep'; readonly resolve: (outcome: SweepOutcome) => void }
  | { readonly k: 'rotation'; readonly resolve: (outcome: RotationOutcome) => void }
  | { readonly k: 'barrier'; readonly resolve: (answered: boolean) => void }
  /** Work whose result nobody awaits (an issuer's answer: the transaction's own pending gets the response). */
  | { readonly k: 'none' };

const STARTING: StoreState = { ready: false, reason: 'starting' };

/** The pending of every issuerAnswer item: one object for all, nothing in it to differ. */
const NOBODY_AWAITS: Pending = { k: 'none' };

/** Where a slot's owner runs: its worker thread, or the main thread. */
export type HostKind = 'worker' | 'inline';

/** A handover that drains for longer than this gives up (handoverWaitMaxMs's default). */
const HANDOVER_WAIT_MAX_MS = 2_000;

class WorkerSlot {
  /** Its worker thread (none with `inline`, or while one restarts). */
  worker: LedgerHost | undefined;
  /** Its owner on the main thread: with `inline`, or made on the first handover to the main thread. */
  inline: LedgerHost | undefined;
  /** The host that owns the slot's shards and is sent its work (one writer per account). */
  owner: LedgerHost | undefined;
  /** A handover is holding the outbox (work waits on the main thread). */
  holding = false;
  /** A handover is under way. */
  moving = false;
  /** Transactions forwarded to an issuer whose answer the owner has not yet turned into a response. */
  readonly forwarded = new Set<number>();
  /** Called on each batch of results (a handover waits for the slot to drain). */
  changeWaiters: (() => void)[] = [];
  ready = false;
  outbox: WorkItem[] = [];
  readonly pending = new SeqMap<Pending>();
  restartDelayMs = RESTART_DELAY_FIRST_MS;
  /** Whether its owner can commit now, as it last said (it says so on each change). */
  store: StoreState = STARTING;
  /** It was up once: not ready again means restarting. */
  everReady = false;
  readyWaiters: (() => void)[] = [];
  /**
   * Transactions answered 96 by the worker (a commit failed, the store
   * did not answer) and by the main thread while the worker restarts: a line
   * each would flood the log in an outage, so each is a RepeatLog (the first
   * at once with its transactions, then one line per 10 s with the count).
   */
  readonly answered96: RepeatLog;
  readonly down: RepeatLog;
  constructor(
    readonly id: number,
    log: Logger,
  ) {
    this.answered96 = new RepeatLog(log, 'warn', 'ledger answered 96');
    this.down = new RepeatLog(log, 'warn', 'ledger worker down: answering 96');
  }
}

/**
 * The on-us ledger as seen from the main thread: shards map to K long-lived
 * worker threads (one writer per account), work goes out in one postMessage
 * per worker per event-loop turn and results come back the same way. A worker
 * that dies is restarted; what it had in flight is answered 96 (safe to
 * repeat: exactly-once holds by transaction key).
 */
export class LedgerEngine implements TransactionEngine {
  private readonly slots: WorkerSlot[];
  private readonly slotOfShard: WorkerSlot[];
  private seq = 0;
  private submitted = 0;
  private adaptive: AdaptiveOwners | undefined;
  private flushScheduled = false;
  private stopping = false;
  /** The data keys the owners use, and a restarted one starts with (setKeys replaces them). */
  private dataKeysJson: string;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const slot of this.slots) {
      if (slot.outbox.length === 0 || slot.owner === undefined || !slot.ready || slot.holding) continue;
      const items = slot.outbox;
      slot.outbox = [];
      slot.owner.send(items);
    }
  };

  constructor(private readonly o: LedgerEngineOptions) {
    if (o.workers < 1) throw new RangeError('at least one ledger worker');
    this.dataKeysJson = o.workerData.dataKeysJson;
    this.slots = Array.from({ length: o.workers }, (_, i) => new WorkerSlot(i, o.log));
    // The same rule the workers use to re-fence their own shards: shard % workers.
    this.slotOfShard = Array.from({ length: SHARD_COUNT }, (_, shard) => this.slots[shard % o.workers]!);
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.spawn(slot)));
    if (this.o.adaptive !== undefined && this.o.inline !== true) {
      this.adaptive = new AdaptiveOwners(this, this.o.adaptive, this.o.log);
      this.adaptive.start();
    }
  }

  get slotCount(): number {
    return this.slots.length;
  }

  /** Transactions submitted since the start (the adaptive policy's offered load). */
  get submittedCount(): number {
    return this.submitted;
  }

  /** Accounts the main thread's owners have in memory (the adaptive policy's sign of a warm-up). */
  get actorsOnMainThread(): number {
    let actors = 0;
    for (const slot of this.slots)
      if (slot.owner !== undefined && slot.owner === slot.inline) actors += slot.owner.actorsInMemory() ?? 0;
    return actors;
  }

  isReady(): boolean {
    return !this.stopping && this.slots.every((s) => s.ready);
  }

  /** Readiness `ledger`: why owners are not up (none: all are), as "worker 1: restarting". */
  ownersNotUp(): string[] {
    if (this.stopping) return ['stopping'];
    return this.slots
      .filter((slot) => !slot.ready)
      .map((slot) => `worker ${slot.id}: ${slot.everReady ? 'restarting' : 'starting'}`);
  }

  /**
   * Readiness `ledger_store`: why owners that are up cannot commit now (none:
   * all can), as "worker 1: redis writer reconnecting". From what each said
   * on its last change: nothing is asked of them here.
   */
  ownersUnableToCommit(): string[] {
    return this.slots
      .filter((slot) => slot.ready && !slot.store.ready)
      .map((slot) => `worker ${slot.id}: ${slot.store.reason ?? 'not ready'}`);
  }

  /** A transaction for an account of this switch (the router sends only `local` routes here). */
  submit(ctx: TxnContext): void {
    this.submitted++;
    const seq = ++this.seq;
    const item: Extract<WorkItem, { k: 'txn' }> =
      ctx.issuer === LOCAL_ISSUER
        ? { k: 'txn', seq, institution: ctx.institution, req: ctx.request }
        : { k: 'txn', seq, institution: ctx.institution, req: ctx.request, issuer: ctx.issuer };
    const shard = this.o.shards.shardOf(ctx.request.pan);
    this.enqueue(shard, item, { k: 'txn', ctx, shard });
  }

  /**
   * What became of a forward (the issuer's checked answer, no answer in
   * time, no connection to send it on), to the actor of its PAN, which
   * answers the transaction and every copy waiting for it once that is
   * durable.
   */
  issuerAnswer(order: ForwardOrder, outcome: IssuerOutcome): void {
    const { req } = order;
    const seq = ++this.seq;
    this.enqueue(
      order.shard,
      {
        k: 'issuerAnswer',
        seq,
        pan: req.pan,
        institution: order.institution,
        stan: req.stan,
        time: req.time,
        outcome,
      },
      NOBODY_AWAITS,
    );
  }

  /** Runs an account call of the admin API through the owning actor. */
  admin(
    item: Extract<WorkItem, { k: 'get' | 'put' | 'adjust' }> extends infer T
      ? DistributiveOmit<T, 'seq'>
      : never,
  ): Promise<AdminOutcome> {
    return new Promise((resolve) => {
      const seq = ++this.seq;
      this.enqueue(this.o.shards.shardOf(item.pan), { ...item, seq } as WorkItem, { k: 'admin', resolve });
    });
  }

  /** Asks the owning actor (by the account's stored reference) to release an expired hold. */
  expire(account: StoredAccountRef, recordKey: string): Promise<ExpireOutcome> {
    return new Promise((resolve) => {
      const seq = ++this.seq;
      const { shard, ref } = account;
      this.enqueue(shard, { k: 'expire', seq, shard, ref, recordKey }, { k: 'expire', resolve });
    });
  }

  /** Asks the owning actor to delete the account's records past the dedupe window from Redis. */
  sweep(account: StoredAccountRef): Promise<SweepOutcome> {
    return new Promise((resolve) => {
      const seq = ++this.seq;
      const { shard, ref } = account;
      this.enqueue(shard, { k: 'sweep', seq, shard, ref }, { k: 'sweep', resolve });
    });
  }

  /** Asks the owning actor to re-seal the account's PAN if an older data key sealed it (the re-seal job). */
  reseal(account: StoredAccountRef): Promise<RotationOutcome> {
    return new Promise((resolve) => {
      const seq = ++this.seq;
      const { shard, ref } = account;
      this.enqueue(shard, { k: 'reseal', seq, shard, ref }, { k: 'rotation', resolve });
    });
  }

  /**
   * Asks the owning actor to move the account to its ref under the current
   * token key if an older one made its ref (the re-key job).
   */
  rekey(account: StoredAccountRef): Promise<RotationOutcome> {
    return new Promise((resolve) => {
      const seq = ++this.seq;
      const { shard, ref } = account;
      this.enqueue(shard, { k: 'rekey', seq, shard, ref }, { k: 'rotation', resolve });
    });
  }

  /**
   * Resolves once every owner released every batch it decided before this
   * call (durable, or answered 96): true when each owner answered, false
   * when one was down (its batches died with it, which settles them too,
   * but the caller may want to know). Work sent after setKeys() arrives
   * after the keys, so a job that waits on this after a reload knows that
   * nothing decided under the old keys is still on its way to Redis.
   */
  async settled(): Promise<boolean> {
    const answers = await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<boolean>((resolve) => {
            const seq = ++this.seq;
            // Shard slot.id belongs to slot slot.id (shard % workers).
            this.enqueue(slot.id, { k: 'barrier', seq }, { k: 'barrier', resolve });
          }),
      ),
    );
    return answers.every(Boolean);
  }

  /**
   * New data keys for every owner (SIGHUP), as the key file's JSON; the
   * caller has checked that the shard key is the same.
   */
  setKeys(dataKeysJson: string): void {
    this.dataKeysJson = dataKeysJson;
    for (const slot of this.slots) {
      slot.worker?.setKeys(dataKeysJson);
      slot.inline?.setKeys(dataKeysJson);
    }
  }

  /** Fault injection for tests and chaos runs: terminates worker `index` as a crash would (with `inline`, its owner). */
  async crashWorker(index: number): Promise<void> {
    const slot = this.slots[index];
    await (slot?.worker ?? slot?.inline)?.kill();
  }

  /** Where slot `index`'s owner runs now. */
  ownerKind(index: number): HostKind | undefined {
    const slot = this.slots[index];
    if (slot?.owner === undefined) return undefined;
    return slot.owner === slot.inline ? 'inline' : 'worker';
  }

  /**
   * Hands slot `index` over to its host of kind `to` (the adaptive policy,
   * and tests): true once `to` owns it, false when the handover gave up
   * (the slot did not drain within handoverWaitMaxMs, a forward was out, a
   * host was down or another handover under way) and the owner stayed.
   *
   * One writer per account throughout: no new work reaches the old owner
   * once the outbox is held, the handover waits until it answered all it
   * was sent, the old owner then drops every actor and record and closes
   * its connections (release), and the new one takes the shards with a new
   * epoch (acquire), so a late commit of the old one would be refused.
   */
  async moveSlot(index: number, to: HostKind): Promise<boolean> {
    const slot = this.slots[index];
    if (slot === undefined || slot.moving || this.stopping || !slot.ready || this.o.inline === true)
      return false;
    if (this.ownerKind(index) === to) return true;
    const from = slot.owner;
    if (from === undefined) return false;
    slot.moving = true;
    try {
      if (to === 'inline') slot.inline ??= await this.startHost(slot, 'inline', true);
      const target = to === 'inline' ? slot.inline : slot.worker;
      if (target === undefined || slot.owner !== from || !slot.ready) return false;
      const waitMaxMs = this.o.handoverWaitMaxMs ?? HANDOVER_WAIT_MAX_MS;
      // (a) Not while a forward is out: its answer could be issuerTimeoutMs away, and the slot's work would wait for it.
      if (!(await this.until(slot, () => slot.forwarded.size === 0, performance.now() + waitMaxMs)))
        return false;
      const heldAtMs = performance.now();
      slot.holding = true;
      // (b, c) New work queues here; what the owner was sent is answered first (a forward appearing meanwhile: give up).
      const drained = await this.until(
        slot,
        () => slot.forwarded.size > 0 || slot.owner !== from || slot.pending.size === slot.outbox.length,
        heldAtMs + waitMaxMs,
      );
      if (!drained || slot.forwarded.size > 0 || slot.owner !== from) {
        this.resume(slot);
        return false;
      }
      // (d) The old owner forgets everything; (e) the new one takes the shards under a new epoch,
      // then loads the accounts the old one had in memory, in the background.
      let warm: WarmRef[];
      try {
        warm = await from.release();
      } catch {
        // It died releasing: its exit answered what it had (nothing) and restarts it as the owner.
        this.resume(slot);
        return false;
      }
      slot.owner = target;
      slot.store = STARTING;
      try {
        await target.acquire(warm);
      } catch (error) {
        this.o.log.error(
          'ledger handover failed: the new owner could not take the shards; taking them back',
          {
            worker: slot.id,
            to,
            error,
          },
        );
        slot.owner = from;
        try {
          await from.acquire();
        } catch {
          // Neither host can own it: the restart path (answers what waits 96, starts the worker again).
          slot.owner = slot.worker;
          await slot.worker?.kill();
        }
        this.resume(slot);
        return false;
      }
      // (f) What waited goes to the new owner.
      this.resume(slot);
      this.o.log.info('ledger slot handed over', {
        worker: slot.id,
        from: to === 'inline' ? 'worker' : 'inline',
        to,
        waitedMs: Math.round((performance.now() - heldAtMs) * 1000) / 1000,
      });
      return true;
    } finally {
      slot.moving = false;
    }
  }

  /** Resolves once every worker is up (after a restart). */
  async whenReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isReady()) {
      if (Date.now() > deadline) return false;
      await delay(20);
    }
    return true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.adaptive?.stop();
    // Everything submitted is answered before the workers go.
    await Promise.all(this.slots.map((slot) => this.drained(slot)));
    await Promise.all(
      this.slots.map(async (slot) => {
        const hosts = [slot.worker, slot.inline];
        slot.worker = undefined;
        slot.inline = undefined;
        slot.owner = undefined;
        await Promise.all(hosts.map((host) => host?.stop()));
      }),
    );
  }

  /** Ends a handover's hold: what queued meanwhile goes to the owner. */
  private resume(slot: WorkerSlot): void {
    slot.holding = false;
    if (slot.outbox.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Resolves true once `done()` holds (checked on each batch of the slot's results), false at `deadlineMs`. */
  private async until(slot: WorkerSlot, done: () => boolean, deadlineMs: number): Promise<boolean> {
    while (!done()) {
      const leftMs = deadlineMs - performance.now();
      if (leftMs <= 0 || this.stopping) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, leftMs);
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        slot.changeWaiters.push(wake);
      });
    }
    return true;
  }

  private enqueue(shard: number, item: WorkItem, pending: Pending): void {
    const slot = this.slotOfShard[shard]!;
    if (!slot.ready) {
      const rrn = this.answerFailed(pending);
      if (pending.k === 'txn' && !this.stopping)
        slot.down.note({ worker: slot.id, ...txnIds(pending.ctx.institution, pending.ctx.request, rrn) });
      return;
    }
    slot.pending.set(item.seq, pending);
    slot.outbox.push(item);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private onResults(slot: WorkerSlot, items: readonly WorkResult[]): void {
    // The ledger answers 96 only when it could not decide or make a decision durable: which ones, for the log.
    let failed = 0;
    let failedIds: TxnIds[] | undefined;
    for (const result of items) {
      if (result.k === 'forward') {
        // Not an answer: the transaction's pending stays until its issuerAnswer's turn answers it.
        const pending = slot.pending.get(result.seq);
        // None: the transaction was answered already (its worker died), so nobody awaits the issuer's answer.
        if (pending?.k === 'txn') {
          slot.forwarded.add(result.seq);
          const { ctx } = pending;
          this.o.onForward?.({
            shard: pending.shard,
            issuer: ctx.issuer,
            institution: ctx.institution,
            req: ctx.request,
            rrn: result.rrn,
          });
        }
        continue;
      }
      const pending = slot.pending.get(result.seq);
      if (pending === undefined) continue;
      slot.pending.delete(result.seq);
      if (result.k === 'txn') slot.forwarded.delete(result.seq);
      if (result.k === 'txn' && pending.k === 'txn') {
        const { ctx } = pending;
        const r = result.response;
        const response: OutboundMessage = {
          mti: responseMtiOf(ctx.request.txnClass),
          id: ctx.request.id,
          stan: ctx.request.stan,
          rc: r.rc,
          rrn: r.rrn,
        };
        if (r.authCode !== undefined) response.authCode = r.authCode;
        if (r.amount !== undefined) response.amount = r.amount;
        if (r.balance !== undefined) response.balance = r.balance;
        if (r.error !== undefined) response.error = r.error;
        ctx.replyTo.deliver(response, ctx.receivedAtMs);
        if (r.rc === RC.systemMalfunction) {
          failedIds ??= [];
          if (failed++ < TXN_SAMPLES_MAX) failedIds.push(txnIds(ctx.institution, ctx.request, r.rrn));
        }
      } else if (result.k === 'admin' && pending.k === 'admin') pending.resolve(result.outcome);
      else if (result.k === 'expire' && pending.k === 'expire') pending.resolve(result.outcome);
      else if (result.k === 'sweep' && pending.k === 'sweep') pending.resolve(result.outcome);
      else if (result.k === 'rotation' && pending.k === 'rotation') pending.resolve(result.outcome);
      else if (result.k === 'barrier' && pending.k === 'barrier') pending.resolve(true);
    }
    // The cause is the worker's own line just before (a commit failed or unconfirmed, say).
    if (failed > 0)
      slot.answered96.note({ worker: slot.id, answered: failed, transactions: failedIds }, failed);
    if (slot.pending.size === 0) for (const wake of slot.readyWaiters.splice(0)) wake();
    for (const wake of slot.changeWaiters.splice(0)) wake();
  }

  /** Answers `pending` as failed (96, retry): the rrn of a transaction's 96, for the log. */
  private answerFailed(pending: Pending): string | undefined {
    if (pending.k === 'txn') {
      const { ctx } = pending;
      // Every 0110/0210/0230/0410 but 30 and 63 carries an rrn: a main-thread one here.
      const rrn = this.o.rrn();
      const response: OutboundMessage = {
        mti: responseMtiOf(ctx.request.txnClass),
        id: ctx.request.id,
        stan: ctx.request.stan,
        rc: RC.systemMalfunction,
        rrn,
      };
      ctx.replyTo.deliver(response, ctx.receivedAtMs);
      return rrn;
    }
    if (pending.k === 'admin') {
      pending.resolve({
        ok: false,
        code: 'worker_unavailable',
        message: 'the ledger worker for this account is restarting; retry',
      });
    } else if (pending.k === 'barrier') pending.resolve(false);
    else if (pending.k !== 'none') pending.resolve('retry');
    return undefined;
  }

  /**
   * Starts the slot's primary host (its worker thread; with `inline`, its
   * main-thread owner): the owner, unless another host owns the slot (a
   * worker restarting after it crashed while the main thread owned), then
   * idle until a handover.
   */
  private async spawn(slot: WorkerSlot): Promise<void> {
    const idle = slot.owner !== undefined;
    if (!idle) slot.store = STARTING;
    await this.startHost(slot, this.o.inline === true ? 'inline' : 'worker', idle);
  }

  /** Starts a host of `kind` for the slot; resolves once it is ready (owning the shards unless `idle`). */
  private startHost(slot: WorkerSlot, kind: HostKind, idle: boolean): Promise<LedgerHost> {
    const data: LedgerWorkerData = {
      ...this.o.workerData,
      dataKeysJson: this.dataKeysJson,
      workerId: slot.id,
      workerCount: this.slots.length,
      idle,
    };
    return new Promise((resolve, reject) => {
      let started = false;
      const start = kind === 'inline' ? startInlineHost : startWorkerHost;
      const host: LedgerHost = start(data, this.o.ruleSet, this.o.log, {
        ready: () => {
          started = true;
          if (idle) {
            this.o.log.info('ledger worker ready, idle', { worker: slot.id, inline: kind === 'inline' });
            resolve(host);
            return;
          }
          slot.owner = host;
          slot.ready = true;
          slot.everReady = true;
          slot.restartDelayMs = RESTART_DELAY_FIRST_MS;
          this.o.log.info('ledger worker ready', { worker: slot.id, inline: kind === 'inline' });
          slot.down.ended('ledger worker back: no longer answering 96', { worker: slot.id });
          resolve(host);
        },
        results: (items) => this.onResults(slot, items),
        // The slot's worker label carries whichever host owns it; the idle one has nothing to say.
        stats: (stats) => {
          if (slot.owner === host) this.o.onStats?.(slot.id, stats);
        },
        // Its first state comes before `ready`: a host starting as the owner says it then.
        store: (state) => {
          if (slot.owner === host || (!idle && !started)) slot.store = state;
        },
        fatal: (message) =>
          this.o.log.error('ledger worker failed to start', { worker: slot.id, reason: message }),
        exit: (code) => this.onExit(slot, host, code, { started, idle }, reject),
      });
      if (kind === 'inline') slot.inline = host;
      else slot.worker = host;
    });
  }

  private onExit(
    slot: WorkerSlot,
    host: LedgerHost,
    code: number,
    how: { readonly started: boolean; readonly idle: boolean },
    reject: (error: Error) => void,
  ): void {
    const { started, idle } = how;
    const wasWorker = slot.worker === host;
    if (wasWorker) slot.worker = undefined;
    else if (slot.inline === host) slot.inline = undefined;
    else return;
    if (!started) reject(new Error(`ledger worker ${slot.id} exited before it was ready (code ${code})`));
    // A host that was to own the slot and died starting counts as its owner: it is started again.
    if (slot.owner !== host && (idle || started)) {
      // An idle host: nothing of the slot's was with it. A worker thread comes back, idle.
      if (this.stopping || !wasWorker || slot.owner === undefined) return;
      this.o.log.error('idle ledger worker exited; restarting', { worker: slot.id, code });
      this.restartLater(slot);
      return;
    }
    slot.owner = undefined;
    slot.ready = false;
    slot.holding = false;
    slot.forwarded.clear();
    // What it had in flight is answered 96: its outcome is in Redis or nowhere, and a repeat finds out which.
    const failed = slot.pending.valuesArray();
    slot.pending.clear();
    slot.outbox = [];
    let answered96 = 0;
    const transactions: TxnIds[] = [];
    for (const pending of failed) {
      const rrn = this.answerFailed(pending);
      if (pending.k !== 'txn') continue;
      if (answered96++ < TXN_SAMPLES_MAX)
        transactions.push(txnIds(pending.ctx.institution, pending.ctx.request, rrn));
    }
    for (const wake of slot.readyWaiters.splice(0)) wake();
    for (const wake of slot.changeWaiters.splice(0)) wake();
    if (this.stopping) return;
    this.o.log.error('ledger worker exited; restarting', {
      worker: slot.id,
      code,
      inFlight: failed.length,
      answered96,
      transactions,
      restartInMs: slot.restartDelayMs,
    });
    // The main thread's owner of a worker slot (an adaptive handover's) goes; the worker thread, if up, takes over.
    const idleWorker = slot.worker;
    if (idleWorker !== undefined && this.o.inline !== true) {
      slot.owner = idleWorker;
      slot.store = STARTING;
      idleWorker.acquire().then(
        () => {
          slot.ready = true;
          slot.down.ended('ledger worker back: no longer answering 96', { worker: slot.id });
        },
        () => void idleWorker.kill(),
      );
      return;
    }
    this.restartLater(slot);
  }

  private restartLater(slot: WorkerSlot): void {
    const wait = slot.restartDelayMs;
    slot.restartDelayMs = Math.min(RESTART_DELAY_MAX_MS, slot.restartDelayMs * 2);
    setTimeout(() => {
      if (this.stopping) return;
      this.o.onRestart?.(slot.id);
      this.spawn(slot).catch(() => {});
    }, wait).unref();
  }

  private drained(slot: WorkerSlot): Promise<void> {
    if (slot.pending.size === 0 || slot.owner === undefined) return Promise.resolve();
    return new Promise((resolve) => slot.readyWaiters.push(resolve));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
