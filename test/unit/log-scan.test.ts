import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import type { AccountState } from '../../src/runtime/account.js';
import { StoredResponse } from '../../src/runtime/records/stored-response.js';
import { keyOf, parseKey, sideRecord, type TxnRecord } from '../../src/runtime/records/txn-record.js';
import { readAccountLog } from '../../src/runtime/storage/account-log.js';
import { findRecordsInLog } from '../../src/runtime/storage/log-scan.js';
import {
  ACCOUNT_FORMAT,
  encodeAccount,
  encodeRecord,
  writeDrop,
  writeIdentity,
} from '../../src/runtime/storage/state-codec.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';
import { identityOf } from '../helpers/test-keys.js';

const T0 = 1_764_115_200_000;

function state(rng: SeededRng): AccountState {
  return {
    ...identityOf('4111111111111111'),
    currency: 'EUR',
    // Beyond 32 bits at times: float64 in the log, which the scan must step over.
    balance: rng.int(0, 1) === 0 ? rng.int(0, 1_000_000) : 2 ** 40 + rng.int(0, 1_000),
    held: rng.int(0, 70_000),
    status: rng.int(0, 5) === 0 ? 'blocked' : 'active',
    limits: rng.int(0, 2) === 0 ? { perTxnMax: rng.int(1, 300), dailyCountMax: 2 ** 31 } : {},
    day: 20_417,
    dayAmount: rng.int(0, 2 ** 20),
    dayCount: rng.int(0, 300),
  };
}

function record(rng: SeededRng, key: string, version: number): TxnRecord {
  const response = StoredResponse.of({
    rc: ['00', '51', '10'][rng.int(0, 2)]!,
    rrn: `00000000${String(version).padStart(4, '0')}`,
    ...(rng.int(0, 1) === 0
      ? { authCode: 'A1B2C3', amount: rng.int(0, 70_000), balance: -rng.int(0, 2 ** 34) }
      : {}),
    ...(rng.int(0, 4) === 0 ? { error: 'x'.repeat(rng.int(0, 300)) } : {}),
  });
  return {
    ...sideRecord({
      key: parseKey(key),
      tombstone: rng.int(0, 9) === 0,
      amount: rng.int(0, 2 ** 33),
      currency: 'EUR',
      response,
      atMs: T0 + version,
    }),
    state: (['open', 'completed', 'expired', 'posted', 'declined'] as const)[rng.int(0, 4)]!,
  };
}

function drop(key: string): Buffer {
  const w = new MsgpackWriter(64);
  writeDrop(w, key);
  return Buffer.from(w.view());
}

// Keys of every form: transaction keys of different lengths, reference keys (one not ASCII).
const KEYS = [
  'acq|1|1',
  'acq|2|1',
  'acq-long-institution.x_Y|999999|1764115200123',
  'acq-long-institution.x_Y|999998|1764115200123',
  '#adj|fee-0001',
  '#adj|réf-€-0002',
];

describe('findRecordsInLog', () => {
  it('finds what a whole read finds for the wanted keys, over random logs (seeded)', () => {
    const seed = seedFromEnv(0x5ca_0001);
    console.log(`log-scan seed ${seed}`);
    const rng = new SeededRng(seed);
    for (let round = 0; round < 300; round++) {
      const parts: Buffer[] = [];
      const entries = rng.int(0, 40);
      for (let i = 0; i < entries; i++) {
        const kind = rng.int(0, 9);
        const key = KEYS[rng.int(0, KEYS.length - 1)]!;
        if (kind < 3) parts.push(encodeAccount(state(rng)));
        else if (kind < 8) parts.push(encodeRecord(record(rng, key, i)));
        else parts.push(drop(key));
      }
      const data = Buffer.concat(parts);
      const whole = new Map(readAccountLog(data, 0).records.map((r) => [keyOf(r), r]));
      const wanted = KEYS.filter(() => rng.int(0, 1) === 0);
      wanted.push('acq|3|1'); // never written
      const found = findRecordsInLog(data, wanted);
      const expected = new Map(wanted.flatMap((key) => (whole.has(key) ? [[key, whole.get(key)!]] : [])));
      expect(found, `seed ${seed} round ${round}`).toEqual(expected);
    }
  });

  it('hands a log with bytes it does not expect to the whole decode, and finds what that finds', () => {
    const rng = new SeededRng(11);
    const kept = record(rng, 'acq|1|1', 1);
    // A state entry carrying a timestamp extension: msgpackr reads it, the scan knows no ext type.
    const withExt = new Packr({ useRecords: false }).pack([
      ACCOUNT_FORMAT,
      'EUR',
      0,
      0,
      'active',
      null,
      null,
      null,
      new Date(T0),
      0,
      0,
    ]);
    const identity = new MsgpackWriter(128);
    writeIdentity(identity, identityOf('4111111111111111'));
    const data = Buffer.concat([
      identity.view(),
      encodeRecord(kept),
      withExt,
      encodeRecord(record(rng, 'acq|2|1', 2)),
      drop('acq|2|1'),
    ]);
    expect(readAccountLog(data, 0).records.map(keyOf)).toEqual(['acq|1|1']);
    expect(findRecordsInLog(data, ['acq|1|1', 'acq|2|1'])).toEqual(
      new Map([['acq|1|1', readAccountLog(data, 0).records[0]]]),
    );
  });

  it('fails on a log it cannot read as a whole read does, and finds nothing in an empty one', () => {
    const rng = new SeededRng(7);
    const good = Buffer.concat([encodeAccount(state(rng)), encodeRecord(record(rng, 'acq|1|1', 1))]);
    // Cut short inside the record, and a byte that is no MessagePack type at all.
    for (const bad of [good.subarray(0, good.length - 3), Buffer.concat([good, Buffer.from([0xc1])])]) {
      expect(() => readAccountLog(bad, 0)).toThrow();
      expect(() => findRecordsInLog(bad, ['acq|1|1'])).toThrow();
    }
    // A format no writer writes: both refuse it.
    const unknown = Buffer.concat([good, Buffer.from([0x92, 0x09, 0xa1, 0x78])]);
    expect(() => readAccountLog(unknown, 0)).toThrow(/unknown entry format 9/);
    expect(() => findRecordsInLog(unknown, ['acq|1|1'])).toThrow(/unknown entry format 9/);
    expect(findRecordsInLog(Buffer.alloc(0), ['acq|1|1'])).toEqual(new Map());
    expect(findRecordsInLog(good, [])).toEqual(new Map());
  });
});
