import { ScheduledJob, type ScheduledJobBase } from '../jobs/scheduled-job.js';
import { type KeySpace, LOG_PARTITION_COUNT } from '../store/keys.js';
import { storeNowMs } from '../store/store-clock.js';
import { CycleStore } from './cycle-store.js';

export const JOURNAL_TRIM_QUEUE = 'switchyard-journal-trim';
/** Entries one XTRIM call may drop: a trim of millions is many short steps, never one long one. */
const ENTRIES_PER_TRIM_MAX = 10_000;
/** XTRIM calls per partition per pass: the rest waits for the next pass. */
const TRIMS_PER_PARTITION_MAX = 100;

export interface JournalTrimOptions extends ScheduledJobBase {
  readonly keys: KeySpace;
  readonly cycleMs: number;
  /** clearing.journalRetentionMs: entries younger than this stay, whatever else is done with them. */
  readonly retentionMs: number;
  /** Told after every pass that ran to its end (metrics). */
  readonly onPass?: (pass: TrimPass) => void;
}

/** What one pass did, per partition: the id below which it trimmed (none: nothing could go), and how many went. */
export interface TrimPass {
  readonly floorMs: number;
  readonly trimmed: number;
}

/**
 * The journal's trim (docs/clearing.md "Trimming the journal"): each log
 * partition's stream loses the entries below the lowest of
 * - its hold-expiry cursor (hold expiry finds holds in the journal: what it
 *   has not read yet, holdTtlMs and a pass at least, stays; the key usage
 *   counts of a token key rotation read from that cursor on too),
 * - the start of the oldest cycle not cleared yet (the open one, or one
 *   still `closing`): a cycle is trimmed only once its files are written,
 * - now minus clearing.journalRetentionMs on the store's clock.
 * A partition hold expiry has never read is not trimmed. Before trimming
 * anything, the pass records the point below which the journal may be
 * gone (`trimmedBelowMs`), so reconciling a cycle that starts before it
 * says so.
 */
export class JournalTrim {
  private readonly job: ScheduledJob;
  private readonly cycles: CycleStore;

  constructor(private readonly o: JournalTrimOptions) {
    const names = { queueName: JOURNAL_TRIM_QUEUE, schedulerId: 'journal-trim', jobName: 'trim-journal' };
    this.job = new ScheduledJob(o, names, async () => {
      const pass = await this.runOnce();
      o.onPass?.(pass);
      return pass;
    });
    this.cycles = new CycleStore(o.connection, o.keys, o.cycleMs);
  }

  start(): Promise<void> {
    return this.job.start();
  }

  close(): Promise<void> {
    return this.job.close();
  }

  async runOnce(): Promise<TrimPass> {
    const redis = this.o.connection;
    const floorMs = Math.min(
      (await storeNowMs(redis)) - this.o.retentionMs,
      await this.cycles.oldestUnclearedStartMs(),
    );
    if (floorMs <= 0) return { floorMs, trimmed: 0 };
    const cursors = await redis.mget(
      Array.from({ length: LOG_PARTITION_COUNT }, (_, p) => this.o.keys.holdExpiryCursor(p)),
    );
    // Partitions with something below their bound: hold expiry has read up to and including its cursor.
    const due: Array<{ partition: number; minId: string }> = [];
    for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
      const cursor = cursors[partition];
      if (cursor === null || cursor === undefined) continue;
      const minId = lowerId(idAfter(cursor), `${floorMs}-0`);
      const below = await redis.xrange(this.o.keys.journal(partition), '-', `(${minId}`, 'COUNT', 1);
      if (below.length > 0) due.push({ partition, minId });
    }
    if (due.length === 0) return { floorMs, trimmed: 0 };
    // Noted before anything goes (a crash in between over-reports, never hides, a trim).
    await this.cycles.noteTrimmedBelow(Math.max(...due.map((d) => msAbove(d.minId))));
    let trimmed = 0;
    for (const { partition, minId } of due) trimmed += await this.trimPartition(partition, minId);
    return { floorMs, trimmed };
  }

  /**
   * Drops the partition's entries below `minId`: whole stream nodes in
   * bounded steps (`~` with LIMIT), then, once those are gone, exactly
   * (what is left below `minId` is part of one node: a short step).
   */
  private async trimPartition(partition: number, minId: string): Promise<number> {
    const stream = this.o.keys.journal(partition);
    const redis = this.o.connection;
    let trimmed = 0;
    for (let step = 0; step < TRIMS_PER_PARTITION_MAX; step++) {
      const dropped = await redis.xtrim(stream, 'MINID', '~', minId, 'LIMIT', ENTRIES_PER_TRIM_MAX);
      trimmed += dropped;
      if (dropped === 0) return trimmed + (await redis.xtrim(stream, 'MINID', '=', minId));
    }
    return trimmed;
  }
}

/** The stream id right after `id` (`ms-seq`): XTRIM MINID keeps entries at or above the id it is given. */
function idAfter(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}

/** The first whole ms at or above a stream id: every entry below the id is below it. */
function msAbove(id: string): number {
  const [ms, seq] = id.split('-');
  return Number(ms) + (seq === '0' ? 0 : 1);
}

/** The lower of two stream ids (`ms-seq`). */
function lowerId(a: string, b: string): string {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number];
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number];
  return aMs < bMs || (aMs === bMs && aSeq <= bSeq) ? a : b;
}
