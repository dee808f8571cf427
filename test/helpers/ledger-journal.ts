/**
 * Reads the on-us ledger's journal streams straight from Redis, for invariant checks after a run
 * (DESIGN.md section 3). Key names come from src/store/keys.ts, the entry format from
 * src/runtime/storage/state-codec.ts: the test reads what the switch wrote, it does not re-implement it.
 */
import { Redis } from 'ioredis';
import { decodeJournalEntry, type JournalEntry } from '../../src/runtime/storage/state-codec.js';
import type { AccountRefs } from '../../src/security/account-refs.js';
import { keySpace, logPartitionOf } from '../../src/store/keys.js';

export interface JournalRow extends JournalEntry {
  /** The stream entry id (Redis clock; one entry holds a commit's records for its partition), for messages. */
  readonly streamId: string;
  /** The PAN whose ref the record names (the test knows it; the journal holds only the ref). */
  readonly pan: string;
}

const PAGE = 1000;

/**
 * Every journal record of the log partitions holding `pans`, in stream order per partition;
 * only those pans, found by their refs under the switch's keys (`refs`).
 */
export async function readJournal(
  redisUrl: string,
  pans: readonly string[],
  refs: AccountRefs,
): Promise<JournalRow[]> {
  const keys = keySpace();
  const panOfRef = new Map(pans.map((pan) => [refs.refOf(pan), pan]));
  const partitions = [...new Set(pans.map((pan) => logPartitionOf(refs.shardOf(pan))))].sort((a, b) => a - b);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  const rows: JournalRow[] = [];
  try {
    await redis.connect();
    for (const partition of partitions) {
      const stream = keys.journal(partition);
      let start = '-';
      for (;;) {
        const page = await redis.xrangeBuffer(stream, start, '+', 'COUNT', PAGE);
        for (const [idBuf, fields] of page) {
          const id = idBuf.toString();
          let data: Buffer | undefined;
          for (let i = 0; i + 1 < fields.length; i += 2) {
            if (fields[i]!.toString() === 'd') data = fields[i + 1];
          }
          if (!data) throw new Error(`journal entry ${stream} ${id} has no field d`);
          for (const record of decodeJournalEntry(data)) {
            const pan = panOfRef.get(record.ref);
            if (pan !== undefined) rows.push({ ...record, streamId: id, pan });
          }
        }
        if (page.length < PAGE) break;
        start = `(${page[page.length - 1]![0].toString()}`;
      }
    }
  } finally {
    redis.disconnect();
  }
  return rows;
}

export interface JournalTotals {
  /** open + credit + adjust - debit - complete. */
  readonly balance: number;
  /** hold - release - expire. */
  readonly held: number;
}

/**
 * Balance and held of one account as its journal says (src/runtime/effects.ts): `open` sets the
 * balance; credit/adjust add, debit/complete subtract; hold adds to held, release/expire subtract
 * (a completion journals its posting as `complete` and its hold release as a separate `release`).
 */
export function journalTotals(rows: readonly JournalRow[]): JournalTotals {
  let balance = 0;
  let held = 0;
  for (const r of rows) {
    switch (r.kind) {
      case 'open':
        balance = r.amount;
        break;
      case 'credit':
      case 'adjust':
        balance += r.amount;
        break;
      case 'debit':
      case 'complete':
        balance -= r.amount;
        break;
      case 'hold':
        held += r.amount;
        break;
      case 'release':
      case 'expire':
        held -= r.amount;
        break;
    }
  }
  return { balance, held };
}
