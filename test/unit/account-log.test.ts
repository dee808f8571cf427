import { describe, expect, it } from 'vitest';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import type { AccountState } from '../../src/runtime/account.js';
import { StoredResponse } from '../../src/runtime/records/stored-response.js';
import {
  ADJUST_KEY_PREFIX,
  keyOf,
  parseKey,
  sideRecord,
  type TxnRecord,
} from '../../src/runtime/records/txn-record.js';
import {
  compactionDue,
  LOG_COMPACT_MIN_BYTES,
  readAccountLog,
} from '../../src/runtime/storage/account-log.js';
import { encodeAccount, encodeRecord, writeDrop } from '../../src/runtime/storage/state-codec.js';
import { identityOf } from '../helpers/test-keys.js';

const T0 = 1_764_115_200_000;

function state(balance: number): AccountState {
  return {
    ...identityOf('4111111111111111'),
    currency: 'EUR',
    balance,
    held: 0,
    status: 'active',
    limits: {},
    day: 20_417,
    dayAmount: 0,
    dayCount: 0,
  };
}

function record(key: string, atMs: number, fields: Partial<TxnRecord> = {}): TxnRecord {
  const response = StoredResponse.of({ rc: '00', rrn: '000000000001' });
  const base = sideRecord({
    key: parseKey(key),
    tombstone: false,
    amount: 100,
    currency: 'EUR',
    response,
    atMs,
  });
  return { ...base, ...fields };
}

function drop(key: string): Buffer {
  const w = new MsgpackWriter(64);
  writeDrop(w, key);
  return Buffer.from(w.view());
}

const keysOf = (records: readonly TxnRecord[]): string[] => records.map(keyOf);

describe('account log', () => {
  it('reads the last state, each key’s last version, and no dropped key', () => {
    const log = Buffer.concat([
      encodeAccount(state(1_000)),
      encodeRecord(record('acq|1|1', T0, { state: 'open' })),
      encodeRecord(record('acq|2|2', T0)),
      encodeAccount(state(900)),
      encodeRecord(record('acq|1|1', T0, { state: 'completed' })),
      drop('acq|2|2'),
      encodeRecord(record('acq|3|3', T0)),
      encodeAccount(state(800)),
    ]);
    const read = readAccountLog(log, 0);
    expect(read.account?.balance).toBe(800);
    // Order of last write: acq|1|1 was written again after acq|2|2, which is dropped.
    expect(keysOf(read.records)).toEqual(['acq|1|1', 'acq|3|3']);
    expect(read.records[0]?.state).toBe('completed');
    expect(read.bytes).toBe(log.length);
    expect(read.expiredRecords).toBe(0);
  });

  it('compacts to the last state and the live records, byte for byte as they were written', () => {
    const live1 = encodeRecord(record('acq|1|1', T0 + 10, { state: 'completed' }));
    const live2 = encodeRecord(record('acq|3|3', T0 + 20));
    const last = encodeAccount(state(800));
    const log = Buffer.concat([
      encodeAccount(state(1_000)),
      encodeRecord(record('acq|1|1', T0, { state: 'open' })),
      encodeRecord(record('acq|2|2', T0)),
      live1,
      drop('acq|2|2'),
      live2,
      last,
    ]);
    const read = readAccountLog(log, 0);
    const compacted = read.compacted();
    expect(compacted).toEqual(Buffer.concat([last, live1, live2]));
    expect(read.liveBytes).toBe(compacted.length);
    const again = readAccountLog(compacted, 0);
    expect(again.account).toEqual(read.account);
    expect(again.records).toEqual(read.records);
  });

  it('leaves records past the window out of the compaction, except open holds and adjustments', () => {
    const cutoffMs = T0 + 1_000;
    const openHold = record('acq|1|1', T0, { state: 'open' });
    const reversedHold = record('acq|2|2', T0, { state: 'open', reversedRc: '00' });
    const purchase = record('acq|3|3', T0, { state: 'posted' });
    const adjustment = record(`${ADJUST_KEY_PREFIX}ref-1`, T0);
    const recent = record('acq|4|4', cutoffMs, { state: 'posted' });
    const entries = [openHold, reversedHold, purchase, adjustment, recent].map((r) => encodeRecord(r));
    const log = Buffer.concat([encodeAccount(state(1_000)), ...entries]);
    const read = readAccountLog(log, cutoffMs);
    // Read whole (the actor prunes them itself), but counted dead.
    expect(read.records).toHaveLength(5);
    expect(read.expiredRecords).toBe(2);
    expect(read.expiredBytes).toBe(entries[1]!.length + entries[2]!.length);
    expect(read.liveBytes).toBe(log.length - read.expiredBytes);
    expect(keysOf(readAccountLog(read.compacted(), 0).records)).toEqual([
      'acq|1|1',
      `${ADJUST_KEY_PREFIX}ref-1`,
      'acq|4|4',
    ]);
  });

  it('reads an empty log as no account, and refuses an entry it does not know', () => {
    const empty = readAccountLog(Buffer.alloc(0), 0);
    expect(empty.account).toBeUndefined();
    expect(empty.records).toEqual([]);
    const w = new MsgpackWriter(64);
    w.arrayHeader(1);
    w.number(9);
    expect(() => readAccountLog(Buffer.concat([encodeAccount(state(1)), w.view()]), 0)).toThrow(
      /unknown entry format 9/,
    );
    expect(() => readAccountLog(Buffer.from([0x07]), 0)).toThrow(/not an array/);
  });

  it('is due for compaction once half is dead: small logs only when forced (records past the window)', () => {
    expect(compactionDue(LOG_COMPACT_MIN_BYTES, LOG_COMPACT_MIN_BYTES / 2)).toBe(true);
    expect(compactionDue(LOG_COMPACT_MIN_BYTES, LOG_COMPACT_MIN_BYTES / 2 - 1)).toBe(false);
    expect(compactionDue(LOG_COMPACT_MIN_BYTES - 1, LOG_COMPACT_MIN_BYTES)).toBe(false);
    expect(compactionDue(200, 100, true)).toBe(true);
    expect(compactionDue(200, 99, true)).toBe(false);
    expect(compactionDue(200, 0, true)).toBe(false);
  });
});
