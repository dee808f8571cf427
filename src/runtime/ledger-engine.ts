import type { Logger } from '../observability/log.js';
import { RepeatLog } from '../observability/repeat-log.js';
import { TXN_SAMPLES_MAX, type TxnIds, txnIds } from '../observability/txn-ids.js';
import { responseMtiOf } from '../protocol/mti.js';
import { RC } from '../protocol/rc.js';
import type { OutboundMessage } from '../protocol/request.js';
import { LOCAL_ISSUER, type TransactionEngine, type TxnContext } from '../protocol/txn-context.js';
import type { ShardHash } from '../security/shard-hash.js';
import { SHARD_COUNT, type StoredAccountRef } from '../store/keys.js';
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
  WorkItem,
  WorkResult,
} from './worker/worker-protocol.js';

/** Restart back-off for a worker that died: doubles from the first to the max. */
const RESTART_DELAY_FIRST_MS = 100;
const RESTART_DELAY_MAX_MS = 5_000;

export interface LedgerEngineOptions {
  readonly workers: number;
  /** Run each shard owner's LedgerCore on the main thread instead of a worker thread. */
  readonly inline?: boolean;
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

class WorkerSlot {
  worker: LedgerHost | undefined;
  ready = false;
  outbox: WorkItem[] = [];
  readonly pending = new Map<number, Pending>();
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
  private flushScheduled = false;
  private stopping = false;
  /** The data keys the owners use, and a restarted one starts with (setKeys replaces them). */
  private dataKeysJson: string;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const slot of this.slots) {
      if (slot.outbox.length === 0 || slot.worker === undefined || !slot.ready) continue;
      const items = slot.outbox;
      slot.outbox = [];
      slot.worker.send(items);
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
    for (const slot of this.slots) slot.worker?.setKeys(dataKeysJson);
  }

  /** Fault injection for tests and chaos runs: terminates worker `index` as a crash would. */
  async crashWorker(index: number): Promise<void> {
    await this.slots[index]?.worker?.kill();
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
    // Everything submitted is answered before the workers go.
    await Promise.all(this.slots.map((slot) => this.drained(slot)));
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        slot.worker = undefined;
        await worker?.stop();
      }),
    );
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

  private spawn(slot: WorkerSlot): Promise<void> {
    const data: LedgerWorkerData = {
      ...this.o.workerData,
      dataKeysJson: this.dataKeysJson,
      workerId: slot.id,
      workerCount: this.slots.length,
    };
    return new Promise((resolve, reject) => {
      let started = false;
      const start = this.o.inline === true ? startInlineHost : startWorkerHost;
      const worker: LedgerHost = start(data, this.o.ruleSet, this.o.log, {
        ready: () => {
          slot.ready = true;
          slot.everReady = true;
          slot.restartDelayMs = RESTART_DELAY_FIRST_MS;
          started = true;
          this.o.log.info('ledger worker ready', { worker: slot.id, inline: this.o.inline === true });
          slot.down.ended('ledger worker back: no longer answering 96', { worker: slot.id });
          resolve();
        },
        results: (items) => this.onResults(slot, items),
        stats: (stats) => this.o.onStats?.(slot.id, stats),
        store: (state) => {
          if (slot.worker === worker) slot.store = state;
        },
        fatal: (message) =>
          this.o.log.error('ledger worker failed to start', { worker: slot.id, reason: message }),
        exit: (code) => {
          if (slot.worker !== worker) return;
          slot.worker = undefined;
          slot.ready = false;
          // What it had in flight is answered 96: its outcome is in Redis or nowhere, and a repeat finds out which.
          const failed = [...slot.pending.values()];
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
          if (this.stopping) return;
          this.o.log.error('ledger worker exited; restarting', {
            worker: slot.id,
            code,
            inFlight: failed.length,
            answered96,
            transactions,
            restartInMs: slot.restartDelayMs,
          });
          if (!started)
            reject(new Error(`ledger worker ${slot.id} exited before it was ready (code ${code})`));
          const wait = slot.restartDelayMs;
          slot.restartDelayMs = Math.min(RESTART_DELAY_MAX_MS, slot.restartDelayMs * 2);
          setTimeout(() => {
            if (this.stopping) return;
            this.o.onRestart?.(slot.id);
            this.spawn(slot).catch(() => {});
          }, wait).unref();
        },
      });
      slot.worker = worker;
      slot.ready = false;
      slot.store = STARTING;
    });
  }

  private drained(slot: WorkerSlot): Promise<void> {
    if (slot.pending.size === 0 || slot.worker === undefined) return Promise.resolve();
    return new Promise((resolve) => slot.readyWaiters.push(resolve));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
