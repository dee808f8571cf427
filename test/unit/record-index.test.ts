import { describe, expect, it } from 'vitest';
import { RecordIndex } from '../../src/ledger/record-index.js';
import { StoredResponse } from '../../src/ledger/stored-response.js';
import { keyOf, parseKey, recordKey, sideRecord, type TxnRecord } from '../../src/ledger/txn-record.js';
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
    expect([...index.values()]).toEqual([a, b2, c, adj]);

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
        // Drop every other record while iterating, as eviction and pruning do.
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
