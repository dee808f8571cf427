import type { Redis } from 'ioredis';
import { RC } from '../../protocol/rc.js';
import { CommitBatch } from '../../store/commit-batch.js';
import {
  COMMIT_ALREADY_APPLIED,
  COMMIT_APPLIED,
  COMMIT_FENCED,
  COMMIT_SCRIPT,
} from '../../store/commit-script.js';
import type { KeySpace } from '../../store/keys.js';
import { shardOf } from '../../store/keys.js';
import type { Logger } from '../../util/log.js';
import { type DecideContext, decide } from '../decide.js';
import { decodeAccount, decodeRecord, encodeAccount, encodeJournal, encodeRecord } from '../state-codec.js';
import type { WorkItem, WorkResult } from '../worker-protocol.js';
import { Actor } from './actor.js';
import { ADJUST_KEY_PREFIX, runAdjust, runExpire, runGet, runPut } from './admin-ops.js';
import { OpenBatch } from './open-batch.js';

/** A commit guard outlives any resend of its batch by a wide margin. */
const COMMIT_GUARD_TTL_MS = 3_600_000;
/** Fewer records than this are never pruned (pruning is O(records)). */
const PRUNE_FLOOR = 64;

export interface LedgerCoreOptions {
  readonly workerId: number;
  readonly epoch: number;
  readonly holdTtlMs: number;
  readonly dedupeWindowMs: number;
  readonly actorsMax: number;
  readonly commitTimeoutMs: number;
  readonly keys: KeySpace;
  /** Commits (one in flight). */
  readonly writer: Redis;
  /** Actor activation reads. */
  readonly reader: Redis;
  readonly nextRrn: () => string;
  readonly nextAuthCode: () => string;
  readonly post: (results: WorkResult[]) => void;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

export interface LedgerCoreStats {
  actorsActive: number;
  mailboxDepth: number;
  batchSizes: number[];
  commitSeconds: number[];
}

/**
 * A ledger worker's brain, free of worker_threads so it can be tested with a
 * real Redis in-process: actors by PAN, activation from Redis, decisions in
 * memory, and group commit with exactly one commit in flight. Results leave
 * only after their batch's commit returned (nothing is approved that is not
 * durable); when a commit fails, its batch and the batch decided on top of it
 * are answered 96 and their actors dropped, to be reloaded from Redis.
 */
export class LedgerCore {
  private readonly actors = new Map<string, Actor>();
  private loadQueue: Actor[] = [];
  private loadScheduled = false;
  private open: OpenBatch | undefined;
  private committing: OpenBatch | undefined;
  private batchSeq = 0;
  private commitScheduled = false;
  private mailboxDepth = 0;
  private stats: LedgerCoreStats = { actorsActive: 0, mailboxDepth: 0, batchSizes: [], commitSeconds: [] };
  private readonly now: () => number;
  private readonly decideCtx: { -readonly [K in keyof DecideContext]: DecideContext[K] };
  private commitSha: string | undefined;

  constructor(private readonly o: LedgerCoreOptions) {
    this.now = o.nowMs ?? Date.now;
    this.decideCtx = {
      nowMs: 0,
      holdTtlMs: o.holdTtlMs,
      institution: '',
      nextRrn: o.nextRrn,
      nextAuthCode: o.nextAuthCode,
    };
  }

  async init(): Promise<void> {
    this.commitSha = (await this.o.writer.script('LOAD', COMMIT_SCRIPT)) as string;
  }

  /** Takes a batch of work from the main thread. */
  handle(items: readonly WorkItem[]): void {
    for (let i = 0; i < items.length; i++) this.dispatch(items[i]!);
    this.scheduleCommit();
  }

  takeStats(): LedgerCoreStats {
    const stats = this.stats;
    stats.actorsActive = this.actors.size;
    stats.mailboxDepth = this.mailboxDepth;
    this.stats = { actorsActive: 0, mailboxDepth: 0, batchSizes: [], commitSeconds: [] };
    return stats;
  }

  get activeActors(): number {
    return this.actors.size;
  }

  private dispatch(item: WorkItem): void {
    const pan = item.k === 'txn' ? item.req.pan : item.pan;
    let actor = this.actors.get(pan);
    if (actor === undefined) {
      actor = new Actor(pan, shardOf(pan));
      this.actors.set(pan, actor);
      this.scheduleLoad(actor);
    } else {
      // Map order is recency order: re-insert on use (LRU passivation).
      this.actors.delete(pan);
      this.actors.set(pan, actor);
    }
    if (actor.status === 'loading') {
      actor.mailbox.push(item);
      this.mailboxDepth++;
      return;
    }
    this.run(actor, item);
  }

  private batch(): OpenBatch {
    this.open ??= new OpenBatch(++this.batchSeq);
    return this.open;
  }

  /** One turn of one actor: synchronous from start to end. */
  private run(actor: Actor, item: WorkItem): void {
    const batch = this.batch();
    const nowMs = this.now();
    switch (item.k) {
      case 'txn': {
        const account = actor.account;
        if (account === undefined) {
          // No such account at this switch: 14, decided before duplicate handling, not recorded.
          batch.results.push({
            seq: item.seq,
            k: 'txn',
            response: { rc: RC.invalidCard, rrn: this.o.nextRrn() },
          });
          return;
        }
        this.maybePrune(actor, nowMs, batch);
        const ctx = this.decideCtx;
        ctx.nowMs = nowMs;
        ctx.institution = item.institution;
        const decision = decide(account, actor.records, item.req, ctx);
        if (decision.records.length > 0 || decision.accountChanged) {
          batch.join(actor);
          for (const record of decision.records) batch.addRecord(actor, record);
          for (const effect of decision.effects) {
            effect.rrn = decision.response.rrn;
            batch.addEffect(actor, effect);
          }
        }
        batch.results.push({ seq: item.seq, k: 'txn', response: decision.response });
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
          released: runExpire(actor, item.recordKey, batch, nowMs),
        });
        return;
    }
  }

  /** Forgets records past the dedupe window (open holds and adjustments excepted) once the map has doubled. */
  private maybePrune(actor: Actor, nowMs: number, batch: OpenBatch | undefined): void {
    const size = actor.records.size;
    if (size < PRUNE_FLOOR || size < actor.prunedAtSize * 2) return;
    const cutoffMs = nowMs - this.o.dedupeWindowMs;
    for (const [key, record] of actor.records) {
      if (record.atMs >= cutoffMs || record.state === 'open' || key.startsWith(ADJUST_KEY_PREFIX)) continue;
      actor.records.delete(key);
      actor.prunedKeys.push(key);
    }
    actor.prunedAtSize = actor.records.size;
    if (actor.prunedKeys.length > 0 && batch !== undefined && actor.account !== undefined) batch.join(actor);
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
    for (const actor of actors) {
      pipeline.hgetallBuffer(keys.account(actor.shard, actor.pan));
      pipeline.hgetallBuffer(keys.records(actor.shard, actor.pan));
    }
    pipeline.exec().then(
      (replies) => {
        const nowMs = this.now();
        actors.forEach((actor, i) => {
          const accountReply = replies?.[i * 2];
          const recordsReply = replies?.[i * 2 + 1];
          if (
            accountReply === undefined ||
            recordsReply === undefined ||
            accountReply[0] !== null ||
            recordsReply[0] !== null
          ) {
            this.failLoad(actor);
            return;
          }
          try {
            this.activate(
              actor,
              accountReply[1] as Record<string, Buffer>,
              recordsReply[1] as Record<string, Buffer>,
              nowMs,
            );
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

  private activate(
    actor: Actor,
    accountHash: Record<string, Buffer>,
    recordHash: Record<string, Buffer>,
    nowMs: number,
  ): void {
    if (this.actors.get(actor.pan) !== actor) return;
    const data = accountHash.d;
    if (data === undefined) {
      actor.status = 'absent';
      actor.version = 0;
    } else {
      actor.account = decodeAccount(data);
      actor.version = Number(accountHash.v?.toString() ?? '0');
      if (actor.account.version !== actor.version)
        throw new Error('invariant: account version field and blob disagree');
      for (const field of Object.keys(recordHash)) actor.records.set(field, decodeRecord(recordHash[field]!));
      actor.status = 'ready';
      assertHeldMatchesOpenHolds(actor);
    }
    actor.prunedAtSize = 0;
    this.maybePrune(actor, nowMs, undefined);
    let item = actor.mailbox.shift();
    while (item !== undefined) {
      this.mailboxDepth--;
      this.run(actor, item);
      item = actor.mailbox.shift();
    }
    this.passivateIdle();
  }

  private failLoad(actor: Actor): void {
    if (this.actors.get(actor.pan) === actor) this.actors.delete(actor.pan);
    const batch = this.batch();
    for (const item of actor.mailbox.clear()) {
      this.mailboxDepth--;
      batch.results.push(this.failedResult(item));
    }
  }

  /** Drops idle actors beyond actorsMax, least recently used first. Their state is in Redis. */
  private passivateIdle(): void {
    let excess = this.actors.size - this.o.actorsMax;
    if (excess <= 0) return;
    const busy = new Set<number>([this.open?.id ?? -1, this.committing?.id ?? -1]);
    for (const [pan, actor] of this.actors) {
      if (excess <= 0) break;
      if (actor.status === 'loading' || busy.has(actor.batchId)) continue;
      this.actors.delete(pan);
      excess--;
    }
  }

  // --- commit -----------------------------------------------------------

  private scheduleCommit(): void {
    if (this.commitScheduled || this.committing !== undefined || this.open === undefined) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commit();
    });
  }

  private commit(): void {
    const batch = this.open;
    if (batch === undefined || this.committing !== undefined) return;
    this.open = undefined;
    if (!batch.hasWrites) {
      // Nothing to persist (replays, reads, unrecorded declines): release now,
      // which is after every earlier commit returned.
      this.o.post(batch.results);
      this.passivateIdle();
      return;
    }
    this.committing = batch;
    const started = performance.now();
    this.send(batch).then(
      (reply) => {
        this.committing = undefined;
        if (reply === COMMIT_APPLIED || reply === COMMIT_ALREADY_APPLIED) {
          this.stats.batchSizes.push(batch.results.length);
          this.stats.commitSeconds.push((performance.now() - started) / 1000);
          this.o.post(batch.results);
        } else {
          if (reply === COMMIT_FENCED)
            this.o.log.error('commit refused: shard epoch moved on (another owner?)', {
              workerId: this.o.workerId,
            });
          else
            this.o.log.warn('commit refused: version conflict; reloading accounts', {
              workerId: this.o.workerId,
              reply,
            });
          this.failCommitted(batch);
        }
        this.passivateIdle();
        this.scheduleCommit();
      },
      (error: unknown) => {
        this.committing = undefined;
        this.o.log.warn('commit failed; answering 96 and reloading accounts', {
          workerId: this.o.workerId,
          error,
        });
        this.failCommitted(batch);
        this.scheduleCommit();
      },
    );
  }

  private send(batch: OpenBatch): Promise<unknown> {
    const { keys, epoch } = this.o;
    const cb = new CommitBatch(epoch, COMMIT_GUARD_TTL_MS);
    const first = batch.actors[0]!;
    cb.guard(keys.commitGuard(first.shard, `${epoch}.${this.o.workerId}.${batch.id}`));
    batch.actors.forEach((actor, i) => {
      cb.epoch(actor.shard, keys.epoch(actor.shard));
      cb.expectVersion(keys.account(actor.shard, actor.pan), batch.expectedVersions[i]!);
    });
    for (const actor of batch.actors) {
      const accountKey = keys.account(actor.shard, actor.pan);
      if (actor.account !== undefined)
        cb.setAccount(accountKey, actor.account.version, encodeAccount(actor.account));
      const recordsKey = keys.records(actor.shard, actor.pan);
      for (const key of actor.prunedKeys) cb.hdel(recordsKey, key);
      actor.prunedKeys = [];
    }
    for (const { actor, record } of batch.records) {
      cb.hset(keys.records(actor.shard, actor.pan), record.key, encodeRecord(record));
      if (record.holdExpiresAtMs > 0) {
        const member = `${actor.pan}#${record.key}`;
        if (record.state === 'open' && record.reversedRc === undefined)
          cb.zadd(keys.holds(actor.shard), record.holdExpiresAtMs, member);
        else cb.zrem(keys.holds(actor.shard), member);
      }
    }
    for (const { actor, effect } of batch.effects)
      cb.xadd(keys.journal(actor.shard), encodeJournal(actor.pan, effect));
    const { writer } = this.o;
    const call = writer
      .evalsha(this.commitSha!, cb.keys.length, ...cb.keys, ...cb.args)
      .catch(async (error: unknown) => {
        // A restarted Redis has forgotten the script: load it again and retry once.
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        this.commitSha = (await writer.script('LOAD', COMMIT_SCRIPT)) as string;
        return writer.evalsha(this.commitSha, cb.keys.length, ...cb.keys, ...cb.args);
      });
    return withTimeout(call, this.o.commitTimeoutMs);
  }

  /**
   * The commit failed or its outcome is unknown: answer 96 for it and for the
   * batch decided on top of it, and drop every actor either touched. The
   * per-account version check makes a late-applied commit and any later one
   * mutually exclusive, so reloading from Redis is always safe.
   */
  private failCommitted(batch: OpenBatch): void {
    const next = this.open;
    this.open = undefined;
    for (const b of next === undefined ? [batch] : [batch, next]) {
      for (const actor of b.actors) if (this.actors.get(actor.pan) === actor) this.actors.delete(actor.pan);
      this.o.post(b.results.map((r) => this.failedResultFor(r)));
    }
  }

  private failedResultFor(result: WorkResult): WorkResult {
    switch (result.k) {
      case 'txn':
        return { seq: result.seq, k: 'txn', response: { rc: RC.systemMalfunction, rrn: this.o.nextRrn() } };
      case 'admin':
        return { seq: result.seq, k: 'admin', outcome: storeUnavailable() };
      case 'expire':
        return { seq: result.seq, k: 'expire', released: false };
    }
  }

  private failedResult(item: WorkItem): WorkResult {
    if (item.k === 'txn')
      return { seq: item.seq, k: 'txn', response: { rc: RC.systemMalfunction, rrn: this.o.nextRrn() } };
    if (item.k === 'expire') return { seq: item.seq, k: 'expire', released: false };
    return { seq: item.seq, k: 'admin', outcome: storeUnavailable() };
  }
}

function storeUnavailable(): { ok: false; status: number; code: string; message: string } {
  return {
    ok: false,
    status: 503,
    code: 'store_unavailable',
    message: 'the store did not confirm the change; retry',
  };
}

function assertHeldMatchesOpenHolds(actor: Actor): void {
  let open = 0;
  for (const record of actor.records.values())
    if (record.state === 'open' && record.reversedRc === undefined && !record.tombstone)
      open += record.approvedAmount;
  if (open !== actor.account!.held)
    throw new Error(`invariant: held ${actor.account!.held} != open holds ${open}`);
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`commit not confirmed within ${timeoutMs} ms`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
