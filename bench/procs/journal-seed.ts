import { Redis } from 'ioredis';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import type { Proc } from '../../src/protocol/request.js';
import { type JournalEntry, writeJournalRecord } from '../../src/runtime/storage/state-codec.js';
import { type KeySpace, keySpace, LOG_PARTITION_COUNT } from '../../src/store/keys.js';

/**
 * A synthetic journal for the clearing benchmarks, written straight into
 * Redis as commits would leave it: one stream entry per log partition per
 * "commit", `recordsPerEntry` records each, the partitions in turn, a mix of
 * purchases, refunds, completions with their releases, reversals, and holds
 * that clear nothing, from four acquirers to the switch's ledger and two
 * issuers, in two currencies.
 */

const ENTRIES_PER_PIPELINE = 500;
const ACQUIRERS = ['acq-a', 'acq-b', 'acq-c', 'acq-d'];
/** `local`: the switch's own ledger (its file is `<switchId>.csv`). */
const ISSUERS = ['local', 'iss-x', 'iss-y'];

interface Shape {
  readonly kind: JournalEntry['kind'];
  readonly mti: string;
  readonly proc: Proc;
  readonly clears: boolean;
}

/** Out of 20 records: 13 purchases, 2 refunds, 2 completions (each with its release), 1 reversal, 2 holds. */
const MIX: readonly Shape[] = [
  ...Array.from({ length: 13 }, (): Shape => ({ kind: 'debit', mti: '0200', proc: '00', clears: true })),
  { kind: 'credit', mti: '0200', proc: '20', clears: true },
  { kind: 'credit', mti: '0200', proc: '20', clears: true },
  { kind: 'complete', mti: '0220', proc: '00', clears: true },
  { kind: 'complete', mti: '0220', proc: '00', clears: true },
  { kind: 'credit', mti: '0400', proc: '00', clears: true },
  { kind: 'hold', mti: '0100', proc: '00', clears: false },
  { kind: 'release', mti: '0220', proc: '00', clears: false },
];

function recordOf(n: number, atMs: number): { record: JournalEntry; clears: boolean } {
  const shape = MIX[n % MIX.length]!;
  const stan = (n % 999_999) + 1;
  return {
    clears: shape.clears,
    record: {
      kind: shape.kind,
      shard: n % 1024,
      ref: `k1.${n.toString(36).padStart(22, '0')}`,
      panMasked: '411111******1111',
      issuer: ISSUERS[n % ISSUERS.length]!,
      mti: shape.mti,
      amount: 100 + (n % 10_000),
      currency: n % 7 === 0 ? 'EUR' : 'USD',
      proc: shape.proc,
      key: `${ACQUIRERS[n % ACQUIRERS.length]}|${stan}|${atMs - 1000}`,
      origKey: undefined,
      rrn: n.toString(36).toUpperCase().padStart(12, '0'),
      atMs,
    },
  };
}

export interface PlantOptions {
  /** Cleared items to write (records that clear nothing come on top). */
  readonly items: number;
  readonly recordsPerEntry: number;
  /**
   * Stream ids: `{ startMs }` gives each round of partitions the next
   * millisecond from startMs on (an empty stream, a fixed range); `store-clock`
   * lets Redis give them (`XADD *`), as commits get theirs, so the entries
   * land after whatever a running switch has journaled, in its open cycle.
   */
  readonly ids: { readonly startMs: number } | 'store-clock';
  readonly keys?: KeySpace;
}

export interface Planted {
  readonly items: number;
  readonly records: number;
  readonly entries: number;
  /** With `{ startMs }`: one past the last entry's millisecond, the end of a range holding them all. */
  readonly endMs: number | undefined;
  readonly elapsedMs: number;
}

/** Writes journal entries until `items` cleared items are in it. */
export async function plantJournal(redis: Redis, options: PlantOptions): Promise<Planted> {
  const keys = options.keys ?? keySpace();
  const started = performance.now();
  const fixed = options.ids === 'store-clock' ? undefined : options.ids.startMs;
  let cleared = 0;
  let n = 0;
  let entries = 0;
  let ms = fixed ?? Date.now();
  const w = new MsgpackWriter(64 * 1024);
  while (cleared < options.items) {
    const pipeline = redis.pipeline();
    for (let e = 0; e < ENTRIES_PER_PIPELINE && cleared < options.items; e++) {
      const partition = e % LOG_PARTITION_COUNT;
      // Records carry the time a commit would: each round of partitions a millisecond later.
      if (partition === 0) ms++;
      w.reset();
      for (let r = 0; r < options.recordsPerEntry && cleared < options.items; r++) {
        const { record, clears } = recordOf(n++, ms);
        writeJournalRecord(w, record);
        if (clears) cleared++;
      }
      pipeline.xadd(
        keys.journal(partition),
        fixed === undefined ? '*' : `${ms}-*`,
        'd',
        Buffer.from(w.view()),
      );
      entries++;
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed !== undefined) throw failed[0]!;
  }
  return {
    items: cleared,
    records: n,
    entries,
    endMs: fixed === undefined ? undefined : ms + 1,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/**
 * `plantJournal` on a Redis of the bench by URL, with `appendfsync everysec`
 * while it writes (a million items take ~20 s with `always` on this machine,
 * ~3 s without), the Redis's own policy back before it resolves: planting
 * is setup, never measured.
 */
export async function plantJournalAt(url: string, options: PlantOptions): Promise<Planted> {
  const redis = new Redis(url);
  try {
    const [, fsync] = (await redis.config('GET', 'appendfsync')) as [string, string];
    await redis.config('SET', 'appendfsync', 'everysec');
    try {
      return await plantJournal(redis, options);
    } finally {
      await redis.config('SET', 'appendfsync', fsync);
    }
  } finally {
    redis.disconnect();
  }
}
