import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import { type KeySpace, SHARD_COUNT } from '../../store/keys.js';
import { withTimeout } from '../../util/with-timeout.js';
import { buildCommit } from '../storage/commit-builder.js';
import {
  COMMIT_ALREADY_APPLIED,
  COMMIT_APPLIED,
  COMMIT_FENCED,
  COMMIT_MOVE_REFUSED,
  COMMIT_PREDECESSOR_MISSING,
  COMMIT_SCRIPT,
} from '../storage/commit-script.js';
import type { OpenBatch } from './open-batch.js';

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

export interface CommitPipelineOptions {
  readonly workerId: number;
  /** Workers in all: this one owns the shards with shard % workerCount === workerId. */
  readonly workerCount: number;
  readonly epoch: number;
  readonly commitTimeoutMs: number;
  readonly keys: KeySpace;
  /** Commits and re-fences share this connection, so a re-fence runs after every commit sent before it. */
  readonly writer: Redis;
  /** KEYS[1] of every commit: this incarnation's applied sequence (keys.appliedSeq(owner)). */
  readonly appliedKey: string;
  readonly log: Logger;
}

/**
 * Whether the owner can commit: open; re-fencing after a failed commit
 * (work waits, or is answered 96 past commitTimeoutMs); or fenced out for
 * good (another owner took the shards: everything is answered 96).
 */
export type CommitState = 'open' | 'refencing' | 'fenced';

/** What the pipeline tells the core that owns the batches. */
export interface CommitEvents {
  /** `batch` is durable (or had nothing to write): its results may leave. Called in decision order. */
  released(batch: OpenBatch): void;
  /** After each run of releases. */
  releasedRun(): void;
  /** A commit is confirmed: for stats. */
  committed(batch: OpenBatch, seconds: number): void;
  /** Room for another commit may have opened. */
  maySend(): void;
  /**
   * These batches (oldest first) will never be confirmed: a commit failed,
   * was refused, or its outcome is unknown, and each was decided on top of
   * the one before. Answer them 96 and drop their actors.
   */
  failed(batches: OpenBatch[]): void;
  /** A re-fence finished: work held meanwhile may run. */
  refenced(): void;
  /** The commit state changed (readiness: docs/protocol.md section 6, `ledger_store`). */
  stateChanged(state: CommitState): void;
}

/**
 * Group commit for one shard owner: each batch goes to Redis as one call of
 * the commit script, at most COMMITS_IN_FLIGHT_MAX with writes at once and
 * each chained to its predecessor, and batches are released strictly in the
 * order they were decided, only once Redis confirmed them. A failure or an
 * unknown outcome fails every batch not yet released and re-fences the
 * owner's shards with a new epoch before anything else is written; a
 * refusal for a stale epoch means another owner took the shards, and the
 * owner stops writing for good.
 */
export class CommitPipeline {
  /** Commits sent and not yet released, oldest first (at most COMMITS_IN_FLIGHT_MAX with writes). */
  private inflight: InFlight[] = [];
  private commitSha: string | undefined;
  /** The fencing epoch the commits carry; renewed after a commit whose outcome is unknown. */
  private epoch: number;
  private refencing: Promise<void> | undefined;
  /**
   * Commits that met NOSCRIPT (a restarted Redis) and have not yet sent
   * themselves again. Nothing new is sent meanwhile: chained to one of
   * them, it would run after the script's load and before that retry, find
   * its predecessor missing, and fail both (96s, just as Redis came back).
   */
  private scriptReloads = 0;
  private fencedForGood = false;
  private stopped = false;
  /** Every batch up to this id is released: its records are durable in Redis (or gone with a failure). */
  private confirmed = 0;

  constructor(
    private readonly o: CommitPipelineOptions,
    private readonly events: CommitEvents,
  ) {
    this.epoch = o.epoch;
  }

  async init(): Promise<void> {
    this.commitSha = (await this.o.writer.script('LOAD', COMMIT_SCRIPT)) as string;
  }

  /** Nothing more is sent or re-fenced (the owner is gone). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Takes this owner's shards with a new epoch before its first commit: at
   * every start, and when the shards are handed over to it from another
   * host (ledger-engine.ts), so a late commit of any earlier owner of these
   * shards is refused by the commit script.
   */
  async takeShards(): Promise<void> {
    await this.refence(true);
  }

  /** Resolves once no re-fence is under way (a stopped owner's last one must land before another takes the shards). */
  async quiesced(): Promise<void> {
    await this.refencing;
  }

  /** Another owner took the shards: nothing is written again by this incarnation. */
  get fenced(): boolean {
    return this.fencedForGood;
  }

  /** A re-fence is under way: nothing may be loaded or committed until it ends. */
  get isRefencing(): boolean {
    return this.refencing !== undefined;
  }

  get confirmedUpTo(): number {
    return this.confirmed;
  }

  /** Adds the ids of the batches sent and not yet released. */
  addBusyBatches(into: Set<number>): void {
    for (const entry of this.inflight) into.add(entry.batch.id);
  }

  canSend(): boolean {
    if (this.refencing !== undefined || this.scriptReloads > 0) return false;
    let writing = 0;
    for (const entry of this.inflight) if (entry.seq !== undefined) writing++;
    return writing < COMMITS_IN_FLIGHT_MAX;
  }

  /** Sends `batch` (the caller checked canSend()). */
  send(batch: OpenBatch): void {
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
    const blob = buildCommit(batch, this.o.keys);
    const entry: InFlight = { batch, seq: batch.id, ok: false, startedMs: performance.now() };
    this.inflight.push(entry);
    this.call(batch.id, previousSeq ?? 0, this.epoch, blob).then(
      (reply) => this.onReply(entry, reply),
      (error: unknown) => {
        if (!this.inflight.includes(entry)) return;
        // The main thread's "ledger answered 96" line that follows names the transactions.
        this.o.log.warn('commit failed or unconfirmed; answering 96, re-fencing and reloading', {
          workerId: this.o.workerId,
          batches: this.inflight.length,
          error,
        });
        this.failAll(true);
      },
    );
    // Room for a second commit: the next batch goes out while this one is at Redis.
    this.events.maySend();
  }

  private onReply(entry: InFlight, reply: unknown): void {
    if (!this.inflight.includes(entry)) return; // already answered 96 by a failure before it
    if (reply === COMMIT_APPLIED || reply === COMMIT_ALREADY_APPLIED) {
      entry.ok = true;
      this.events.committed(entry.batch, (performance.now() - entry.startedMs) / 1000);
      this.release();
      this.events.maySend();
      return;
    }
    if (reply === COMMIT_FENCED) {
      // Only another owner moves our epochs on: stop writing rather than fight over the shards.
      this.o.log.error('commit refused: shard epoch moved on; this worker stops serving', {
        workerId: this.o.workerId,
      });
      this.fencedForGood = true;
      this.failAll(false);
      this.events.stateChanged('fenced');
      return;
    }
    if (reply === COMMIT_MOVE_REFUSED)
      this.o.log.error('commit refused: an account move found its target taken or its source gone', {
        workerId: this.o.workerId,
      });
    else if (reply === COMMIT_PREDECESSOR_MISSING)
      // The commit before it never landed (its failure is logged, or Redis restarted between them).
      this.o.log.warn(
        'commit refused: its predecessor never landed; answering 96, re-fencing and reloading',
        {
          workerId: this.o.workerId,
          batches: this.inflight.length,
        },
      );
    else this.o.log.error('commit: unexpected reply', { workerId: this.o.workerId, reply: String(reply) });
    this.failAll(true);
  }

  /** Releases the oldest commits that returned, in the order they were decided. */
  private release(): void {
    while (this.inflight[0]?.ok === true) {
      const { batch } = this.inflight.shift()!;
      this.confirmed = batch.id;
      this.events.released(batch);
    }
    this.events.releasedRun();
  }

  private call(seq: number, previousSeq: number, epoch: number, blob: Buffer): Promise<unknown> {
    const { writer, appliedKey } = this.o;
    const call = writer
      .evalsha(this.commitSha!, 1, appliedKey, epoch, APPLIED_SEQ_TTL_MS, blob, seq, previousSeq)
      .catch(async (error: unknown) => {
        // A restarted Redis has forgotten the script: load it again and retry once.
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        this.scriptReloads++;
        try {
          this.commitSha = (await writer.script('LOAD', COMMIT_SCRIPT)) as string;
          // Sent before the finally below lets the next commit go: on one connection, in order.
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
        } finally {
          this.scriptReloads--;
          this.events.maySend();
        }
      });
    return withTimeout(call, this.o.commitTimeoutMs, 'commit');
  }

  /**
   * A commit failed, was refused, or its outcome is unknown (it may still
   * apply later, e.g. after a Redis stall). Every batch not yet released is
   * failed (the core adds its open one: all were decided on top of it).
   * Then, unless fenced, the owner takes a new epoch for its shards before
   * any account is read again. The re-fence goes over the same connection as
   * the commits, so every commit sent before it has executed (or never will);
   * a late apply after it carries a stale epoch and is refused.
   */
  private failAll(refence: boolean): void {
    const batches = this.inflight.map((e) => e.batch);
    this.inflight = [];
    this.events.failed(batches);
    if (!refence) return;
    this.refencing = this.refence().then(() => {
      this.refencing = undefined;
      this.events.stateChanged('open');
      this.events.refenced();
    });
    this.events.stateChanged('refencing');
  }

  /** `taking`: at a start or a handover, not after a failed commit (the log line says which). */
  private async refence(taking = false): Promise<void> {
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
        if (taking) this.o.log.info('took shards with a new epoch', { workerId, epoch });
        else this.o.log.info('re-fenced shards after a failed commit', { workerId, epoch });
        return;
      } catch {
        // Redis is away: keep trying, bounded back-off. Work waits (and the main thread's callers time out on their own terms).
        await this.writerReadyOr(Math.min(1_000, 50 * (attempt + 1)));
      }
    }
  }

  /**
   * Resolves after `ms`, or as soon as the writer is (again) connected:
   * the next try then goes at once, not up to a back-off step after Redis
   * came back, which held the owner not ready (answering 96) for as long.
   */
  private writerReadyOr(ms: number): Promise<void> {
    const { writer } = this.o;
    return new Promise((resolve) => {
      const go = (): void => {
        clearTimeout(timer);
        writer.off('ready', go);
        resolve();
      };
      const timer = setTimeout(go, ms);
      writer.once('ready', go);
    });
  }
}
