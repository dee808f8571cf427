import type { Redis } from 'ioredis';
import { decodeJournalEntry, type JournalEntry } from '../runtime/storage/state-codec.js';
import { type KeySpace, LOG_PARTITION_COUNT } from '../store/keys.js';
import { type JournalRange, streamBounds } from './journal-range.js';
import { type JournalStreamEntry, PartitionPages } from './partition-pages.js';

/** One journal stream entry of a range: one commit's records for one partition, in decision order. */
export interface RangeEntry {
  /** The stream entry's id (the store's clock when it was committed). */
  readonly id: string;
  readonly partition: number;
  readonly records: readonly JournalEntry[];
}

/** One journal record of a range, with where it is in journal order. */
export interface RangeRecord {
  /** Its stream entry's id (the store's clock when it was committed). */
  readonly id: string;
  readonly partition: number;
  readonly record: JournalEntry;
}

export interface JournalReadOptions {
  /** The log partitions to read (default: every one, 0 to LOG_PARTITION_COUNT - 1). */
  readonly partitions?: readonly number[];
  /**
   * Stream entries per XRANGE of one partition: bounds memory (two pages per
   * partition) and the time Redis spends on one reply.
   */
  readonly entriesPerPage?: number;
}

/**
 * Entries per page by default: 256 entries of ~30 records (a 64-message
 * frame's effects for one partition) is ~1 MB of reply; 16 partitions with one
 * page prefetched each keep ~30 MB in flight at most.
 */
export const JOURNAL_ENTRIES_PER_PAGE = 256;

export function allLogPartitions(): number[] {
  return Array.from({ length: LOG_PARTITION_COUNT }, (_, partition) => partition);
}

/**
 * Every journal record in `range`, over the partitions, in journal order:
 * (entry id, partition), and within an entry the order its records were
 * decided (readJournalEntries, one record at a time).
 */
export async function* readJournalRange(
  redis: Redis,
  keys: KeySpace,
  range: JournalRange,
  options: JournalReadOptions = {},
): AsyncGenerator<RangeRecord> {
  for await (const { id, partition, records } of readJournalEntries(redis, keys, range, options)) {
    for (const record of records) yield { id, partition, record };
  }
}

/**
 * Every journal stream entry in `range`, over the partitions, in journal
 * order: by entry id, then partition. A k-way merge of the partitions'
 * pages. Its records flattened are readJournalRange's; a pipeline that
 * handles an entry's records together saves an await per record (a
 * million-item cycle spent a second on them). An entry that cannot be
 * decoded throws: clearing must not pass over money it cannot read.
 */
export async function* readJournalEntries(
  redis: Redis,
  keys: KeySpace,
  range: JournalRange,
  options: JournalReadOptions = {},
): AsyncGenerator<RangeEntry> {
  const { start, end } = streamBounds(range);
  const perPage = options.entriesPerPage ?? JOURNAL_ENTRIES_PER_PAGE;
  const partitions = [...new Set(options.partitions ?? allLogPartitions())].sort((a, b) => a - b);
  for (const partition of partitions) {
    if (!Number.isInteger(partition) || partition < 0 || partition >= LOG_PARTITION_COUNT)
      throw new Error(`journal range: no log partition ${partition} (0 to ${LOG_PARTITION_COUNT - 1})`);
  }
  const readers = partitions.map(
    (partition) => new PartitionPages(redis, keys.journal(partition), partition, start, end, perPage),
  );
  const loaded = await Promise.all(readers.map((reader) => reader.load()));
  const live = readers.filter((_, i) => loaded[i]);
  while (live.length > 0) {
    const at = earliest(live);
    const reader = live[at]!;
    const entry = reader.head!;
    yield { id: entry.id, partition: reader.partition, records: recordsOf(entry, reader) };
    reader.advance();
    if (reader.head === undefined && !(await reader.load())) live.splice(at, 1);
  }
}

/**
 * The index of the reader whose head comes first. A scan, not a heap: there
 * are 16 partitions at most, and an entry carries many records, so the scan
 * costs little per record. `live` is in partition order, so on equal ids the
 * lower partition wins.
 */
function earliest(live: readonly PartitionPages[]): number {
  let best = 0;
  let head = live[0]!.head!;
  for (let i = 1; i < live.length; i++) {
    const other = live[i]!.head!;
    if (other.ms < head.ms || (other.ms === head.ms && other.seq < head.seq)) {
      best = i;
      head = other;
    }
  }
  return best;
}

function recordsOf(entry: JournalStreamEntry, reader: PartitionPages): JournalEntry[] {
  try {
    return decodeJournalEntry(entry.data);
  } catch (error) {
    throw new Error(
      `journal entry ${entry.id} of log partition ${reader.partition} cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
