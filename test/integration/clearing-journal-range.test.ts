/**
 * The journal range reader (src/clearing/journal-reader.ts) on a real Redis: entries
 * written with chosen stream ids into several log partitions come back in journal order,
 * (entry id, partition), within [startMs-0, cutMs-0), page by page, and an entry that
 * cannot be read stops the read rather than being passed over.
 */
import { describe, expect, it } from 'vitest';
import { readJournalEntries, readJournalRange } from '../../src/clearing/journal-reader.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { type JournalEntry, writeJournalRecord } from '../../src/runtime/storage/state-codec.js';
import { type KeySpace, keySpace } from '../../src/store/keys.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';

const redis = useRedisServer();
let prefixCounter = 0;
/** A fresh key space per test: each test writes its own journal. */
const freshKeys = (): KeySpace => keySpace(`jr${++prefixCounter}`);

/** A journal record naming where it was written, so the order read can be checked. */
function recordOf(label: string): JournalEntry {
  return {
    kind: 'debit',
    shard: 0,
    ref: 'k1.ref',
    panMasked: '400000******0002',
    issuer: 'local',
    mti: '0200',
    amount: 1,
    currency: 'EUR',
    proc: '00',
    key: 'acq|1|2',
    origKey: undefined,
    rrn: label,
    atMs: 0,
  };
}

/** XADD of one entry with the explicit id `id` holding records labelled `labels`. */
async function add(keys: KeySpace, partition: number, id: string, labels: readonly string[]): Promise<void> {
  const w = new MsgpackWriter(256);
  for (const label of labels) writeJournalRecord(w, recordOf(label));
  await redis.client.xadd(keys.journal(partition), id, 'd', Buffer.from(w.view()));
}

async function labelsIn(
  keys: KeySpace,
  range: { startMs: number; cutMs: number },
  entriesPerPage?: number,
): Promise<string[]> {
  const labels: string[] = [];
  for await (const { record } of readJournalRange(redis.client, keys, range, { entriesPerPage }))
    labels.push(record.rrn);
  return labels;
}

describe('reading a journal range', () => {
  it('merges the partitions in (entry id, partition) order, records in their entry order', async () => {
    const keys = freshKeys();
    await add(keys, 3, '1000-0', ['p3@1000-0a', 'p3@1000-0b']);
    await add(keys, 3, '1000-1', ['p3@1000-1']);
    await add(keys, 0, '1000-0', ['p0@1000-0']);
    await add(keys, 15, '999-5', ['p15@999-5']);
    await add(keys, 7, '1001-0', ['p7@1001-0']);
    await add(keys, 0, '1000-2', ['p0@1000-2']);
    expect(await labelsIn(keys, { startMs: 0, cutMs: 2000 })).toEqual([
      'p15@999-5',
      'p0@1000-0',
      'p3@1000-0a',
      'p3@1000-0b',
      'p3@1000-1',
      'p0@1000-2',
      'p7@1001-0',
    ]);
  });

  it('takes startMs-0 inclusive and cutMs-0 exclusive, the same bounds in every partition', async () => {
    const keys = freshKeys();
    await add(keys, 1, '1999-9', ['before']);
    await add(keys, 1, '2000-0', ['first']);
    await add(keys, 2, '2000-3', ['second']);
    await add(keys, 2, '2999-99', ['last']);
    await add(keys, 1, '3000-0', ['at the cut']);
    expect(await labelsIn(keys, { startMs: 2000, cutMs: 3000 })).toEqual(['first', 'second', 'last']);
    expect(await labelsIn(keys, { startMs: 3000, cutMs: 3000 })).toEqual([]);
  });

  it('reads page by page to the same result whatever the page size (seeded)', async () => {
    const seed = seedFromEnv(0x5eed);
    console.log(`journal range paging seed ${seed}`);
    const rng = new SeededRng(seed);
    const keys = freshKeys();
    const written: { ms: number; seq: number; partition: number; label: string }[] = [];
    const lastSeq = new Map<string, number>();
    let ms = 10_000;
    for (let i = 0; i < 400; i++) {
      ms += rng.int(0, 2);
      const partition = rng.int(0, 15);
      const seq = (lastSeq.get(`${partition}@${ms}`) ?? -1) + 1;
      lastSeq.set(`${partition}@${ms}`, seq);
      const label = `e${i}`;
      written.push({ ms, seq, partition, label });
      await add(keys, partition, `${ms}-${seq}`, [label]);
    }
    const expected = [...written]
      .sort((a, b) => a.ms - b.ms || a.seq - b.seq || a.partition - b.partition)
      .map((e) => e.label);
    for (const perPage of [1, 3, 64, 1000]) {
      expect(
        await labelsIn(keys, { startMs: 0, cutMs: ms + 1 }, perPage),
        `seed ${seed} page ${perPage}`,
      ).toEqual(expected);
    }
  });

  it('reads only the partitions asked for, and says which entry it cannot read', async () => {
    const keys = freshKeys();
    await add(keys, 4, '100-0', ['four']);
    await add(keys, 5, '100-0', ['five']);
    const entries = [];
    for await (const e of readJournalEntries(
      redis.client,
      keys,
      { startMs: 0, cutMs: 200 },
      { partitions: [5] },
    ))
      entries.push(e);
    expect(entries.map((e) => [e.id, e.partition, e.records.map((r) => r.rrn)])).toEqual([
      ['100-0', 5, ['five']],
    ]);
    await redis.client.xadd(keys.journal(6), '150-0', 'd', Buffer.from([0x93, 0x01, 0x02, 0x03]));
    await expect(labelsIn(keys, { startMs: 0, cutMs: 200 })).rejects.toThrow(
      /journal entry 150-0 of log partition 6 cannot be read/,
    );
  });

  it('refuses bounds that are not whole ms, a cut before the start, a partition that does not exist', async () => {
    const keys = freshKeys();
    await expect(labelsIn(keys, { startMs: 1.5, cutMs: 2 })).rejects.toThrow(/startMs must be a whole ms/);
    await expect(labelsIn(keys, { startMs: 5, cutMs: 2 })).rejects.toThrow(/before startMs/);
    const read = readJournalRange(redis.client, keys, { startMs: 0, cutMs: 1 }, { partitions: [16] });
    await expect(read.next()).rejects.toThrow(/no log partition 16/);
  });
});
