import { pack, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { fieldsOf } from '../../src/runtime/records/stored-response.js';
import { keyOf, parseKey, responseOf, type TxnRecord } from '../../src/runtime/records/txn-record.js';
import {
  decodeAdvice,
  decodeRecord,
  encodeAdvice,
  encodeRecord,
} from '../../src/runtime/storage/state-codec.js';

const KEY = 'acq-1|4711|1764115200123';
const T0 = 1_764_115_200_500;

function hold(): TxnRecord {
  const key = parseKey(KEY);
  return {
    institution: key.institution,
    stan: key.stan,
    time: key.time,
    refKey: undefined,
    tombstone: false,
    txnClass: '0100',
    amount: 1_250,
    currency: 'EUR',
    proc: '00',
    rc: '00',
    rrnHead: '1IK7NI0700',
    rrnTail: 37,
    authHead: '0ABC',
    authTail: 5,
    respAmount: 1_250,
    respBalance: 8_750,
    error: undefined,
    state: 'open',
    approvedAmount: 1_250,
    postedAmount: 0,
    reversedRc: undefined,
    countedDay: 20_417,
    countedAmount: 1_250,
    atMs: T0,
    holdExpiresAtMs: T0 + 604_800_000,
    batch: undefined,
  };
}

/** What the tests compare: the record's stored content, responses as their wire fields. */
function content(r: TxnRecord): unknown {
  const {
    rc: _rc,
    rrnHead: _rrnHead,
    rrnTail: _rrnTail,
    authHead: _authHead,
    authTail: _authTail,
    respAmount: _respAmount,
    respBalance: _respBalance,
    error: _error,
    batch: _batch,
    ...rest
  } = r;
  return { ...rest, key: keyOf(r), response: fieldsOf(responseOf(r)) };
}

describe('stored records', () => {
  it('round-trip (format 4: the key inside, as an account log entry needs)', () => {
    const record = hold();
    const bytes = encodeRecord(record);
    expect(content(decodeRecord(bytes))).toEqual(content(record));
    expect(bytes.includes(Buffer.from(KEY))).toBe(true);
  });

  it('decode format 3 as stored in account hashes before (the key was the field name)', () => {
    const bytes = encodeRecord(hold());
    const fields = new Unpackr({ useRecords: false }).unpack(bytes) as unknown[];
    fields[0] = 3;
    fields[1] = null;
    expect(content(decodeRecord(pack(fields), KEY))).toEqual(content(hold()));
    expect(() => decodeRecord(pack(fields))).toThrow(/format 3 without its key/);
  });

  it('decode format 2 as stored before (key and stan inside the value)', () => {
    const formatTwo = pack([
      2,
      KEY,
      false,
      '0100',
      1_250,
      'EUR',
      '00',
      4711,
      '00',
      '1IK7NI0700Z1',
      '0ABC05',
      1_250,
      8_750,
      'open',
      1_250,
      0,
      null,
      20_417,
      1_250,
      T0,
      T0 + 604_800_000,
      null,
    ]);
    const decoded = decodeRecord(formatTwo, KEY);
    expect(content(decoded)).toEqual({
      ...(content(hold()) as object),
      response: { rc: '00', rrn: '1IK7NI0700Z1', authCode: '0ABC05', amount: 1_250, balance: 8_750 },
    });
  });

  it('refuses an unknown format', () => {
    expect(() => decodeRecord(pack([9, null]), KEY)).toThrow(/unknown record format 9/);
  });
});

describe('stored advices', () => {
  it("round-trip from the rules' order, which carries the full PAN: only its seal and mask are stored", () => {
    const pan = '5100000000000008';
    const order = {
      issuer: 'iss-1',
      pan,
      id: '1IK7NI070037.0120',
      mti: '0120',
      acquirer: 'acq-1',
      stan: 4_711,
      time: 1_764_115_200_123,
      amount: 1_250,
      currency: 'EUR',
      proc: '00',
      merchant: 'Café',
      terminal: undefined,
      mcc: '5411',
      rrn: '1IK7NI070037',
      authCode: 'S0ABC5',
      approvedAmount: 1_250,
      origStan: undefined,
      origTime: undefined,
      atMs: T0,
    };
    const sealed = Uint8Array.from([1, 2, 3, 250]);
    const data = encodeAdvice(order, sealed, '510000******0008');
    const { issuer: _issuer, pan: _pan, ...fields } = order;
    expect(decodeAdvice(data)).toEqual({
      ...fields,
      panSealed: Buffer.from(sealed),
      panMasked: '510000******0008',
    });
    expect(data.includes(Buffer.from(pan))).toBe(false);
    expect(data.includes(Buffer.from('iss-1'))).toBe(false);
  });
});
