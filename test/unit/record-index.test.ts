import { describe, expect, it } from 'vitest';
import { LiveRecords } from '../../src/runtime/records/live-records.js';
import { RecordIndex } from '../../src/runtime/records/record-index.js';
import { StoredResponse } from '../../src/runtime/records/stored-response.js';
import {
  keyOf,
  parseKey,
  recordKey,
  sideRecord,
  type TxnRecord,
} from '../../src/runtime/records/txn-record.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';

function txn(institution: string, stan: number, time: number, amount = 0): TxnRecord {
  return sideRecord({
    key: { institution, stan, time, refKey: undefined },
    tombstone: false,
    amount,
    currency: 'EUR',
    response: StoredResponse.of({ rc: '00', rrn: '' }),
    atMs: 0,
  });
}

function adjustment(refKey: string, amount = 0): TxnRecord {
  return sideRecord({
    key: { institution: '', stan: 0, time: 0, refKey },
    tombstone: false,
    amount,
    currency: 'EUR',
    response: StoredResponse.of({ rc: '00', rrn: '' }),
    atMs: 0,
  });
}

describe('parseKey', () => {
  it('splits a transaction key into its parts, and keyOf joins them back', () => {
    const parts = parseKey('acq-1.x_Y|999999|1764115200123');
    expect(parts).toEqual({
      institution: 'acq-1.x_Y',
      stan: 999_999,
      time: 1_764_115_200_123,
      refKey: undefined,
    });
    expect(keyOf(parts)).toBe('acq-1.x_Y|999999|1764115200123');
  });

  it.each([
    '#adj|ref-1',
    '#adj|a|1|2',
    '#open',
    'acq|01|5',
    'acq|1|-5',
    'acq|1|',
    '|1|2',
    'acq|1|99999999999999999',
    'acq|x|2',
  ])('takes %s as a reference key, whole', (key) => {
    expect(parseKey(key)).toEqual({ institution: '', stan: 0, time: 0, refKey: key });
  });
});

describe('RecordIndex', () => {
  it('finds records by parts and by key string; a same key replaces, in place', () => {
    const index = new RecordIndex();
    const a = txn('acq', 7, 1000);
    const b = txn('acq', 7, 2000);
    const c = txn('other', 7, 1000);
    const adj = adjustment('#adj|r1');
    for (const r of [a, b, c, adj]) index.set(r);
    expect(index.size).toBe(4);
    expect(index.find('acq', 7, 1000)).toBe(a);
    expect(index.find('acq', 7, 2000)).toBe(b);
    expect(index.find('other', 7, 1000)).toBe(c);
    expect(index.find('acq', 8, 1000)).toBeUndefined();
    expect(index.get(recordKey('acq', 7, 2000))).toBe(b);
    expect(index.get('#adj|r1')).toBe(adj);
    expect(index.has('#adj|r2')).toBe(false);

    const b2 = txn('acq', 7, 2000, 5);
    index.set(b2);
    expect(index.size).toBe(4);
    expect(index.find('acq', 7, 2000)).toBe(b2);
    // Within a stan, order is not kept (live records go before sealed ones); across stans it is.
    expect(new Set(index.values())).toEqual(new Set([a, b2, c, adj]));

    expect(index.delete(b)).toBe(false); // replaced: no longer here
    expect(index.delete(a)).toBe(true);
    expect(index.find('acq', 7, 1000)).toBeUndefined();
    expect(index.find('other', 7, 1000)).toBe(c);
    expect(index.size).toBe(3);
  });

  it('agrees with a Map by key string over random sets and deletes, deletes during iteration included', () => {
    const seed = seedFromEnv(0x1dec_0001);
    console.log(`record-index seed ${seed}`);
    const rng = new SeededRng(seed);
    const pick = (n: number): number => rng.int(0, n - 1);
    const index = new RecordIndex();
    const model = new Map<string, TxnRecord>();
    for (let step = 0; step < 20_000; step++) {
      const op = pick(10);
      // Few stans, institutions and times: chains are long and keys repeat.
      const record =
        pick(8) === 0
          ? adjustment(`#adj|${pick(5)}`, step)
          : txn(['a', 'b', 'c'][pick(3)]!, 1 + pick(4), 1_000 + pick(3), step);
      const key = keyOf(record);
      if (op < 5) {
        index.set(record);
        model.set(key, record);
      } else if (op < 8) {
        const present = model.get(key);
        if (present !== undefined) {
          expect(index.delete(present), `seed ${seed} step ${step}`).toBe(true);
          model.delete(key);
        } else expect(index.delete(record)).toBe(false);
      } else {
        // Drop every other record while iterating (values() allows it).
        let i = 0;
        for (const r of index.values()) {
          if (i++ % 2 === 0) {
            index.delete(r);
            model.delete(keyOf(r));
          }
        }
      }
      expect(index.size, `seed ${seed} step ${step}`).toBe(model.size);
      expect(index.get(key), `seed ${seed} step ${step}`).toBe(model.get(key));
    }
    expect(new Set(index.values())).toEqual(new Set(model.values()));
  });
});

describe('RecordIndex live records in a shared pool', () => {
  it('keeps each index to its own records, in order, and gives positions back on seal, delete and release', () => {
    const pool = new LiveRecords();
    const one = new RecordIndex(pool);
    const two = new RecordIndex(pool);
    const a = [txn('acq', 1, 1000), txn('acq', 2, 1000), txn('acq', 3, 1000), txn('acq', 4, 1000)];
    const b = [txn('acq', 1, 1000, 9), txn('acq', 5, 1000)];
    for (let i = 0; i < a.length; i++) {
      one.setNew(a[i]!);
      if (i < b.length) two.setNew(b[i]!);
    }
    expect(pool.size).toBe(6);
    // The same key in both: each finds its own.
    expect(one.find('acq', 1, 1000)).toBe(a[0]);
    expect(two.find('acq', 1, 1000)).toBe(b[0]);
    expect(two.find('acq', 2, 1000)).toBeUndefined();

    // Out of the middle, then the first: the rest keep their order.
    one.seal(a[2]!);
    expect(one.delete(a[0]!)).toBe(true);
    expect(pool.size).toBe(4);
    expect([...one.values()]).toEqual([a[2], a[1], a[3]]);
    const replaced = txn('acq', 4, 1000, 7);
    one.set(replaced);
    expect(one.find('acq', 4, 1000)).toBe(replaced);
    expect(pool.size).toBe(4);

    one.release();
    expect(pool.size).toBe(2);
    // Released positions are reused without disturbing the other index.
    const c = txn('acq', 6, 1000);
    one.setNew(c);
    expect(one.find('acq', 6, 1000)).toBe(c);
    expect(two.find('acq', 5, 1000)).toBe(b[1]);
    expect([...two.values()]).toEqual(b);
    expect(pool.size).toBe(3);
  });
});

/** A record with every field set away from its default (sealing must keep each). */
function full(institution: string, stan: number, time: number, variant: number): TxnRecord {
  const odd = variant % 2 === 1;
  return {
    institution,
    stan,
    time,
    refKey: undefined,
    tombstone: variant % 5 === 0,
    txnClass: odd ? '0100' : '0200',
    amount: odd ? Number.MAX_SAFE_INTEGER : 1_250 + variant,
    currency: odd ? 'EUR' : 'USD',
    proc: odd ? '00' : '',
    rc: odd ? '00' : '51',
    rrnHead: `1IK7NI07${String(variant % 100).padStart(2, '0')}`,
    rrnTail: odd ? -1 : variant % 1296,
    authHead: odd ? '0ABC' : undefined,
    authTail: odd ? variant % 1296 : -1,
    respAmount: odd ? variant : undefined,
    respBalance: odd ? 2 ** 52 + variant : undefined,
    error: odd ? undefined : 'not valid for this account or original',
    state: odd ? 'open' : 'declined',
    approvedAmount: odd ? 1_250 : 0,
    postedAmount: variant,
    reversedRc: variant % 3 === 0 ? '00' : undefined,
    countedDay: odd ? 20_417 : 0,
    countedAmount: odd ? 1_250 : 0,
    atMs: 1_764_115_200_500 + variant,
    holdExpiresAtMs: odd ? 1_764_720_000_500 : 0,
    batch: variant % 4 === 0 ? undefined : variant,
  };
}

/** A record's fields without the index's chain bookkeeping. */
function fields(r: Readonly<TxnRecord>): TxnRecord {
  return {
    institution: r.institution,
    stan: r.stan,
    time: r.time,
    refKey: r.refKey,
    tombstone: r.tombstone,
    txnClass: r.txnClass,
    amount: r.amount,
    currency: r.currency,
    proc: r.proc,
    rc: r.rc,
    rrnHead: r.rrnHead,
    rrnTail: r.rrnTail,
    authHead: r.authHead,
    authTail: r.authTail,
    respAmount: r.respAmount,
    respBalance: r.respBalance,
    error: r.error,
    state: r.state,
    approvedAmount: r.approvedAmount,
    postedAmount: r.postedAmount,
    reversedRc: r.reversedRc,
    countedDay: r.countedDay,
    countedAmount: r.countedAmount,
    atMs: r.atMs,
    holdExpiresAtMs: r.holdExpiresAtMs,
    batch: r.batch,
  };
}

describe('RecordIndex sealing', () => {
  it('keeps every field of a sealed record, undefined ones and 2^53 - 1 included', () => {
    const index = new RecordIndex();
    const originals = Array.from({ length: 12 }, (_, v) => full('acq', 100 + v, 5_000 + v, v));
    for (const r of originals) index.set(r);
    for (const r of originals) index.seal(r);
    expect(index.size).toBe(12);
    for (const r of originals) {
      const copy = index.find('acq', r.stan, r.time);
      expect(copy).not.toBe(r);
      expect(copy && fields(copy)).toStrictEqual(fields(r));
      expect(index.includes('acq', r.stan, r.time)).toBe(true);
      expect(index.has(keyOf(r))).toBe(true);
    }
    expect(index.includes('acq', 100, 5_001)).toBe(false);
    expect(index.find('other', 100, 5_000)).toBeUndefined();
  });

  it("keeps rrn and authCode heads of any form: the generators' as numbers, others as strings", () => {
    const index = new RecordIndex();
    const heads: [string, string | undefined][] = [
      ['1IK7NI0700', '0ABC'], // the generators' widths (10 and 4 base-36 digits)
      ['0000000000', '0000'], // leading zeros survive
      ['ZZZZZZZZZZ', 'ZZZZ'], // the largest values
      ['R00000000001', 'AB'], // a test generator's whole rrn; a short authCode
      ['1ik7ni0700', 'abcd'], // lower case is not the generators' form
      ['', undefined], // empty head, no authCode
      ['1IK7NI07-0', '0AB!'],
    ];
    const originals = heads.map(([rrnHead, authHead], i) => ({
      ...full('acq', 500 + i, 9_000, 2 * i + 1),
      rrnHead,
      authHead,
    }));
    for (const r of originals) index.set(r);
    for (const r of originals) index.seal(r);
    for (const r of originals) {
      const copy = index.find('acq', r.stan, r.time)!;
      expect({ rrnHead: copy.rrnHead, authHead: copy.authHead }).toEqual({
        rrnHead: r.rrnHead,
        authHead: r.authHead,
      });
    }
    // Through eviction's view as well.
    const seen: [string, string | undefined][] = [];
    index.evict(0, { evictable: () => true, evicted: (r) => seen.push([r.rrnHead, r.authHead]) });
    expect(seen).toEqual(heads);
  });

  it('changes a sealed record only when its changed copy is set back (live again), then sealed anew', () => {
    const index = new RecordIndex();
    const hold = full('acq', 7, 1_000, 1);
    index.set(hold);
    index.seal(hold);
    const copy = index.find('acq', 7, 1_000)!;
    copy.state = 'completed';
    copy.postedAmount = 900;
    expect(index.find('acq', 7, 1_000)?.state).toBe('open');
    index.set(copy);
    expect(index.size).toBe(1);
    expect(index.find('acq', 7, 1_000)).toBe(copy);
    index.seal(copy);
    const again = index.find('acq', 7, 1_000)!;
    expect(again).not.toBe(copy);
    expect(fields(again)).toStrictEqual(fields(copy));
    // A stale object is neither sealed nor deleted in place of the record under its key now.
    index.set(again);
    index.seal(copy);
    expect(index.find('acq', 7, 1_000)).toBe(again);
    expect(index.delete(copy)).toBe(false);
    expect(index.delete(again)).toBe(true);
    expect(index.size).toBe(0);
  });

  it('evicts oldest first, what the evictor allows, and shows sealed ones as views valid during the call', () => {
    const index = new RecordIndex();
    const records = Array.from({ length: 6 }, (_, v) => full('acq', 10 + v, 2_000, v + 1));
    for (const r of records) index.set(r);
    for (const r of records.slice(0, 4)) index.seal(r);
    const seen: { key: string; batch: number | undefined; state: string }[] = [];
    index.evict(3, {
      // Not the second record (its batch, 2, is "not durable").
      evictable: (r) => r.batch !== 2,
      evicted: (r) => seen.push({ key: keyOf(r), batch: r.batch, state: r.state }),
    });
    expect(seen).toEqual([
      { key: 'acq|10|2000', batch: 1, state: 'open' },
      { key: 'acq|12|2000', batch: 3, state: 'open' },
      { key: 'acq|13|2000', batch: undefined, state: 'declined' },
    ]);
    expect(index.size).toBe(3);
    expect(index.includes('acq', 11, 2_000)).toBe(true);
    expect(index.includes('acq', 12, 2_000)).toBe(false);
    // Live ones go too when allowed, and freed slots are reused.
    index.evict(1, { evictable: () => true, evicted: () => {} });
    expect(index.size).toBe(1);
    expect([...index.values()].map((r) => r.stan)).toEqual([15]);
    for (const r of records.slice(0, 3)) {
      index.set(r);
      index.seal(r);
    }
    expect(new Set([...index.values()].map((r) => r.stan))).toEqual(new Set([10, 11, 12, 15]));
  });

  it('removes every record the test selects, sealed, live and reference-keyed alike, telling of each', () => {
    const index = new RecordIndex();
    const records = Array.from({ length: 6 }, (_, v) => full('acq', 10 + v, 2_000, v + 1));
    for (const r of records) index.set(r);
    for (const r of records.slice(0, 3)) index.seal(r);
    index.set(adjustment('adj:1', 5));
    index.set(adjustment('adj:2', 6));
    const seen: string[] = [];
    // Odd stans (sealed 11, live 13 and 15) and the adjustment of amount 5.
    index.removeWhere({
      evictable: (r) => (r.refKey === undefined ? r.stan % 2 === 1 : r.amount === 5),
      evicted: (r) => seen.push(keyOf(r)),
    });
    expect(seen).toEqual(['acq|11|2000', 'acq|13|2000', 'acq|15|2000', 'adj:1']);
    expect(index.size).toBe(4);
    expect([...index.values()].map(keyOf)).toEqual(['acq|10|2000', 'acq|12|2000', 'acq|14|2000', 'adj:2']);
    // Nothing selected: nothing goes.
    index.removeWhere({ evictable: () => false, evicted: () => expect.unreachable() });
    expect(index.size).toBe(4);
  });

  it('agrees with a Map by key over random sets, seals, copies set back, deletes and evictions', () => {
    const seed = seedFromEnv(0x5ea1_0001);
    console.log(`record-index sealing seed ${seed}`);
    const rng = new SeededRng(seed);
    const index = new RecordIndex();
    const model = new Map<string, TxnRecord>();
    for (let step = 0; step < 20_000; step++) {
      const at = `seed ${seed} step ${step}`;
      const institution = rng.pick(['a', 'b']);
      const stan = rng.int(1, 5);
      const time = rng.int(1_000, 1_002);
      const key = recordKey(institution, stan, time);
      const op = rng.int(0, 9);
      if (op < 3) {
        const record = full(institution, stan, time, step);
        index.set(record);
        model.set(key, fields(record));
        if (rng.chance(0.7)) index.seal(record);
      } else if (op < 5) {
        // A decision changing an original: the copy found, changed, set back, sealed at commit.
        const found = index.find(institution, stan, time);
        if (found !== undefined) {
          found.postedAmount = step;
          found.state = rng.pick(['completed', 'expired', 'posted'] as const);
          index.set(found);
          model.set(key, fields(found));
          if (rng.chance(0.5)) index.seal(found);
        }
      } else if (op < 7) {
        const found = index.find(institution, stan, time);
        expect(found === undefined ? false : index.delete(found), at).toBe(model.delete(key));
      } else if (op < 8) {
        const sizeMax = rng.int(0, model.size);
        const evictable = (r: { readonly postedAmount: number }): boolean => r.postedAmount % 3 !== 0;
        index.evict(sizeMax, {
          evictable,
          evicted: (r) => {
            expect(evictable(r), at).toBe(true);
            expect(fields(r), at).toStrictEqual(model.get(keyOf(r)));
            model.delete(keyOf(r));
          },
        });
        const left = [...model.values()].filter((r) => evictable(r)).length;
        expect(model.size <= sizeMax || left === 0, at).toBe(true);
      } else if (op < 9) {
        // Pruning: every record the test selects goes, whatever its size.
        const pruned = (r: { readonly postedAmount: number }): boolean => r.postedAmount % 4 === 1;
        index.removeWhere({
          evictable: pruned,
          evicted: (r) => {
            expect(pruned(r), at).toBe(true);
            expect(fields(r), at).toStrictEqual(model.get(keyOf(r)));
            model.delete(keyOf(r));
          },
        });
        expect([...model.values()].filter(pruned), at).toEqual([]);
      } else {
        // Drop every other record while iterating.
        let i = 0;
        for (const r of index.values()) {
          if (i++ % 2 === 0) {
            expect(index.delete(r), at).toBe(true);
            model.delete(keyOf(r));
          }
        }
      }
      expect(index.size, at).toBe(model.size);
      const found = index.find(institution, stan, time);
      expect(found && fields(found), at).toStrictEqual(model.get(key));
      expect(index.includes(institution, stan, time), at).toBe(model.has(key));
    }
    const all = new Map([...index.values()].map((r) => [keyOf(r), fields(r)]));
    expect(all).toEqual(model);
  });
});
