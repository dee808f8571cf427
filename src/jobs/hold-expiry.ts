import { MsgpackWriter } from '../codec/msgpack-writer.js';
import type { LedgerEffect } from '../runtime/effects.js';
import type { LedgerEngine } from '../runtime/ledger-engine.js';
import { decodeJournalEntry } from '../runtime/storage/state-codec.js';
import type { ExpireOutcome, NotDueYet } from '../runtime/worker/worker-protocol.js';
import {
  holdBucketOf,
  holdMember,
  type KeySpace,
  LOG_PARTITION_COUNT,
  parseHoldMember,
  type StoredAccountRef,
} from '../store/keys.js';
import { ScheduledJob, type ScheduledJobBase } from './scheduled-job.js';

/**
 * Holds asked about per pass: once past it, a pass stops after the read it is in. Bounds one
 * pass's memory and time; the rest waits for the next pass. So the job releases at most this
 * many holds per `ledger.holdExpiryIntervalMs` (3,333/s at the defaults).
 */
export const HOLDS_PER_PASS_MAX = 200_000;
/**
 * Journal entries per XRANGE (each one commit's effects for one log partition, ~30 at 64
 * msgs/frame): bounds one reply, and the main thread's time decoding it (a few ms) between
 * the awaits that let the switch's traffic through.
 */
export const JOURNAL_ENTRIES_PER_READ = 128;
export const HOLD_EXPIRY_QUEUE = 'switchyard-hold-expiry';
const SCHEDULER_ID = 'hold-expiry';

export interface HoldExpiryOptions extends ScheduledJobBase {
  readonly keys: KeySpace;
  readonly ledger: Pick<LedgerEngine, 'expire'>;
  /** docs/protocol.md `holdTtlMs`: how long after its commit a hold is due. */
  readonly holdTtlMs: number;
  /** Holds asked about per pass (default HOLDS_PER_PASS_MAX). */
  readonly holdsPerPassMax?: number;
  /** Told after every pass (the switch's metrics). */
  readonly onPass?: (pass: HoldExpiryPass) => void;
  readonly nowMs?: () => number;
}

/** What one pass did. */
export interface HoldExpiryPass {
  /** Holds asked about (journal and buckets). */
  asked: number;
  released: number;
  /** Holds whose worker could not answer: asked again on a later pass. */
  retries: number;
  /**
   * How far the journal reading is behind when the pass ends: the age past its due time of
   * the oldest hold not yet asked about (the first entry left unread, over all log
   * partitions), 0 when every due entry was read.
   */
  behindMs: number;
}

/** A hold placed, as a journal entry records it. */
interface PlacedHold {
  /** Its journal entry's position in the read. */
  readonly entry: number;
  /** The account, by its stored reference (the job never has a PAN). */
  readonly account: StoredAccountRef;
  readonly key: string;
}

/**
 * The kind 'hold' as writeJournal writes it (a fixstr: 0xa4 'hold'): a journal entry without
 * these bytes places no hold, and is passed over without being decoded (Buffer.indexOf, ~35 ns
 * per journal record against ~400 ns to decode one; most entries of a purchase-heavy switch).
 * Finding them elsewhere (never inside an ASCII string: 0xa4 is not ASCII) only costs a
 * decode, which then looks at each record's kind.
 */
const HOLD_KIND_BYTES = ((): Buffer => {
  const w = new MsgpackWriter(8);
  w.str('hold' satisfies LedgerEffect['kind']);
  return Buffer.from(w.view());
})();

/** When a journal entry was committed: its stream id's milliseconds (the Redis clock). */
function committedAtMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

function isNotDue(outcome: ExpireOutcome): outcome is NotDueYet {
  return typeof outcome === 'object';
}

/**
 * Releases holds older than holdTtlMs (docs/protocol.md section 5) as a BullMQ job
 * scheduler, through each hold's owning actor (never behind its back): the
 * actor decides, still open and due -> released and journaled; closed
 * meanwhile -> nothing to do.
 *
 * The holds are found in the journal, which every commit writes anyway: a
 * hold placed is a `hold` effect in its log partition's stream. So a commit
 * writes no index of its holds (an RPUSH per hold and an SADD per bucket
 * cost ~10% of the durable approval rate; docs/performance-log.md, change 33).
 * Per log partition the job keeps a cursor (the last entry id it read) and
 * reads on from it up to the entries committed holdTtlMs ago by the stream
 * ids' clock: every hold in those is due, unless its record says otherwise
 * (placed with a longer holdTtlMs than today's, or a Redis clock ahead of the
 * switch's). Those few are filed into an expiry bucket by the record's time,
 * which the second half of a pass reads, as it reads the buckets earlier
 * builds filed every hold into.
 *
 * The journal must therefore be kept for at least holdTtlMs plus a pass
 * (nothing trims it today; whatever trims it later must respect the cursors).
 */
export class HoldExpiry {
  private readonly job: ScheduledJob;

  constructor(private readonly o: HoldExpiryOptions) {
    const names = { queueName: HOLD_EXPIRY_QUEUE, schedulerId: SCHEDULER_ID, jobName: 'expire-holds' };
    this.job = new ScheduledJob(o, names, () => this.runOnce());
  }

  start(): Promise<void> {
    return this.job.start();
  }

  /**
   * One pass: each log partition's journal from its cursor up to holdTtlMs
   * ago, then the due expiry buckets. A cursor moves past an entry only when
   * each of its holds was answered (released, closed, or filed for later),
   * and a bucket is deleted only when each of its holds was, so a worker
   * restart mid-pass loses nothing: the next pass asks again, and holds
   * already released answer 'closed'. Returns how many holds were released.
   */
  async runOnce(): Promise<number> {
    const nowMs = (this.o.nowMs ?? Date.now)();
    const tally: HoldExpiryPass = { asked: 0, released: 0, retries: 0, behindMs: 0 };
    const { connection, keys } = this.o;
    const cursors = await connection.mget(
      Array.from({ length: LOG_PARTITION_COUNT }, (_, partition) => keys.holdExpiryCursor(partition)),
    );
    // Every hold committed at or before it is due (the ids are commit times, by the Redis clock).
    const horizonMs = nowMs - this.o.holdTtlMs;
    for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
      const unreadAtMs = await this.readJournal(partition, cursors[partition] ?? undefined, horizonMs, tally);
      if (unreadAtMs !== undefined) tally.behindMs = Math.max(tally.behindMs, horizonMs - unreadAtMs);
    }
    await this.readBuckets(nowMs, tally);
    if (tally.released > 0) this.o.log.info('released expired holds', { released: tally.released });
    this.o.onPass?.(tally);
    return tally.released;
  }

  close(): Promise<void> {
    return this.job.close();
  }

  /**
   * The partition's journal entries after `cursor` and committed at or before `horizonMs`.
   * Returns when the first entry it left unread was committed (epoch ms), or undefined when
   * it read every due entry.
   */
  private async readJournal(
    partition: number,
    cursor: string | undefined,
    horizonMs: number,
    tally: HoldExpiryPass,
  ): Promise<number | undefined> {
    const { connection, keys } = this.o;
    const journalKey = keys.journal(partition);
    const read = (after: string | undefined, count: number) =>
      connection.xrangeBuffer(
        journalKey,
        after === undefined ? '-' : `(${after}`,
        String(horizonMs),
        'COUNT',
        count,
      );
    let after = cursor;
    for (;;) {
      if (tally.asked >= (this.o.holdsPerPassMax ?? HOLDS_PER_PASS_MAX)) {
        const [next] = await read(after, 1);
        return next === undefined ? undefined : committedAtMs(next[0].toString());
      }
      const entries = await read(after, JOURNAL_ENTRIES_PER_READ);
      if (entries.length === 0) return undefined;
      const ids = entries.map(([id]) => id.toString());
      const holds = this.holdsIn(entries, ids, partition);
      const outcomes = await Promise.all(holds.map((hold) => this.o.ledger.expire(hold.account, hold.key)));
      tally.asked += holds.length;
      // The cursor stops before the first entry with a hold the ledger could not answer.
      let answered = entries.length;
      outcomes.forEach((outcome, i) => {
        if (outcome === 'retry') answered = Math.min(answered, holds[i]!.entry);
      });
      const later: { hold: PlacedHold; dueAtMs: number }[] = [];
      outcomes.forEach((outcome, i) => {
        const hold = holds[i]!;
        if (outcome === 'retry') tally.retries++;
        if (hold.entry >= answered) return;
        if (outcome === 'released') tally.released++;
        else if (isNotDue(outcome)) later.push({ hold, dueAtMs: outcome.dueAtMs });
      });
      // Filed before the cursor moves past them: a crash in between files them twice, which is harmless.
      await this.file(partition, later);
      if (answered > 0) {
        after = ids[answered - 1]!;
        await connection.set(keys.holdExpiryCursor(partition), after);
      }
      if (answered < entries.length) return committedAtMs(ids[answered]!);
      if (entries.length < JOURNAL_ENTRIES_PER_READ) return undefined;
    }
  }

  /** The holds placed in `entries`; an entry that cannot be read is logged and passed over. */
  private holdsIn(entries: [Buffer, Buffer[]][], ids: readonly string[], partition: number): PlacedHold[] {
    const holds: PlacedHold[] = [];
    entries.forEach(([, fields], entry) => {
      // XADD key * d <data>: the fields are ['d', data].
      const data = fields[0]?.toString() === 'd' ? fields[1] : undefined;
      try {
        if (data === undefined) throw new Error('no d field');
        if (data.indexOf(HOLD_KIND_BYTES) < 0) return;
        for (const effect of decodeJournalEntry(data)) {
          if (effect.kind === 'hold')
            holds.push({ entry, account: { shard: effect.shard, ref: effect.ref }, key: effect.key });
        }
      } catch (error) {
        this.o.log.warn('journal entry not readable; hold expiry passes over it', {
          partition,
          entry: ids[entry],
          error,
        });
      }
    });
    return holds;
  }

  /** Files holds not due yet into the expiry bucket of their time. */
  private async file(
    partition: number,
    later: readonly { hold: PlacedHold; dueAtMs: number }[],
  ): Promise<void> {
    if (later.length === 0) return;
    const { connection, keys } = this.o;
    const filing = connection.multi();
    for (const { hold, dueAtMs } of later) {
      const bucket = holdBucketOf(dueAtMs);
      filing.rpush(
        keys.holdBucket(partition, bucket),
        holdMember(hold.account.shard, hold.account.ref, hold.key),
      );
      filing.sadd(keys.holdBuckets(partition), String(bucket));
    }
    await filing.exec();
  }

  /** Every log partition's due buckets (entirely in the past), each hold handed to its actor. */
  private async readBuckets(nowMs: number, tally: HoldExpiryPass): Promise<void> {
    const { connection, keys, ledger } = this.o;
    const dueBefore = holdBucketOf(nowMs);
    const listing = connection.pipeline();
    for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++)
      listing.smembers(keys.holdBuckets(partition));
    const sets = (await listing.exec()) ?? [];
    const due: { partition: number; bucket: number }[] = [];
    sets.forEach(([error, members], partition) => {
      if (error !== null) throw error;
      for (const member of members as string[]) {
        const bucket = Number(member);
        if (bucket < dueBefore) due.push({ partition, bucket });
      }
    });
    for (const { partition, bucket } of due) {
      if (tally.asked >= (this.o.holdsPerPassMax ?? HOLDS_PER_PASS_MAX)) return;
      const key = keys.holdBucket(partition, bucket);
      const members = await connection.lrange(key, 0, -1);
      tally.asked += members.length;
      const outcomes = await Promise.all(
        members.map((member) => {
          const hold = parseHoldMember(member);
          // Not a member this build files (say, one of layout 2 the upgrade did not reach): nothing to ask.
          return hold !== undefined
            ? ledger.expire(hold, hold.recordKey)
            : Promise.resolve<ExpireOutcome>('closed');
        }),
      );
      tally.released += outcomes.filter((o) => o === 'released').length;
      tally.retries += outcomes.filter((o) => o === 'retry').length;
      // A hold of a bucket in the past that is not due (a clock behind the job's) keeps its bucket too.
      if (outcomes.every((o) => o === 'released' || o === 'closed')) {
        await connection.multi().del(key).srem(keys.holdBuckets(partition), String(bucket)).exec();
      }
    }
  }
}
