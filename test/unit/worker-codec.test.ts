import { describe, expect, it } from 'vitest';
import {
  packResults,
  packWork,
  transferOf,
  unpackResults,
  unpackWork,
} from '../../src/runtime/worker/worker-codec.js';
import type { IssuerOutcome, WorkItem, WorkResult } from '../../src/runtime/worker/worker-protocol.js';
import { txnRequest } from '../helpers/txn-request.js';

function getItems(count: number): WorkItem[] {
  return Array.from({ length: count }, (_, i) => ({
    k: 'get',
    seq: i,
    pan: `4000${String(i).padStart(12, '0')}`,
  }));
}

const PAN = '4000000000000002';

describe('worker codec', () => {
  it('round-trips transactions (every optional field set and unset) mixed with admin and expiry work', () => {
    const items: WorkItem[] = [
      {
        k: 'txn',
        seq: 1,
        institution: 'acq-1',
        req: txnRequest({ txnClass: '0100', id: 7, stan: 1, pan: PAN, amount: 1 }),
      },
      {
        k: 'txn',
        seq: 2 ** 40,
        institution: 'acq-ü',
        role: 'acquirer',
        req: {
          ...txnRequest({ txnClass: '0400', id: 'abc', stan: 999_999, pan: PAN, amount: 2 ** 52 }),
          repeat: true,
          partial: true,
          merchant: 'Café',
          terminal: 'T1',
          mcc: '5411',
          origStan: 12,
          origTime: 1_795_000_000_000,
        },
      },
      ...getItems(2),
      { k: 'expire', seq: 9, shard: 1023, ref: 't1.AAAAAAAAAAAAAAAAAAAAAA', recordKey: 'acq|1|2' },
      { k: 'adjust', seq: 10, pan: PAN, amount: -5, reference: 'r-1' },
    ];
    expect(unpackWork(packWork(items))).toEqual(items);
  });

  it('round-trips results: transaction responses with and without optional fields, admin outcomes', () => {
    const results: WorkResult[] = [
      {
        seq: 1,
        k: 'txn',
        response: { rc: '00', rrn: 'ABCDEF123456', authCode: '123456', amount: 10, balance: 2 ** 45 },
      },
      { seq: 2, k: 'txn', response: { rc: '30', rrn: 'ABCDEF123457', error: 'amount: must be an integer' } },
      { seq: 3, k: 'expire', outcome: 'released' },
      {
        seq: 4,
        k: 'admin',
        outcome: { ok: false, code: 'account_not_found', message: 'no such account' },
      },
    ];
    expect(unpackResults(packResults(results))).toEqual(results);
  });

  it("round-trips issuers' answers of every outcome, and forwards and answers' results, among other entries", () => {
    const answer = (seq: number, outcome: IssuerOutcome): WorkItem => ({
      k: 'issuerAnswer',
      seq,
      pan: '5100000000000008',
      institution: 'acq-ü',
      stan: 999_999,
      time: 1_795_000_000_000,
      outcome,
    });
    const items: WorkItem[] = [
      answer(1, { k: 'answered', rc: '00', authCode: 'A1B2C3', amount: 1250, balance: 2 ** 45 }),
      answer(2, { k: 'answered', rc: '10', authCode: 'Z', amount: 0, balance: -7 }),
      answer(3, { k: 'answered', rc: '05', authCode: undefined, amount: undefined, balance: undefined }),
      {
        k: 'txn',
        seq: 4,
        institution: 'acq-1',
        issuer: 'iss-1',
        req: txnRequest({ txnClass: '0200', id: 8, stan: 2, pan: PAN, amount: 3 }),
      },
      answer(2 ** 40, { k: 'timeout', standIn: { perTxnMax: 50_000, dailyMax: 2 ** 40 } }),
      answer(6, { k: 'timeout', standIn: undefined }),
      answer(7, { k: 'unavailable', standIn: { perTxnMax: 0, dailyMax: 0 } }),
      answer(8, { k: 'unavailable', standIn: undefined }),
      ...getItems(1),
    ];
    expect(unpackWork(packWork(items))).toEqual(items);
    const results: WorkResult[] = [
      { seq: 1, k: 'forward', rrn: '1J3JM1030000' },
      { seq: 2, k: 'txn', response: { rc: '00', rrn: 'ABCDEF123456', authCode: '123456' } },
      { seq: 2 ** 40, k: 'issuerAnswer', taken: true },
      { seq: 4, k: 'issuerAnswer', taken: false },
      { seq: 5, k: 'barrier' },
      { seq: 6, k: 'forward', rrn: 'ü' },
    ];
    expect(unpackResults(packResults(results))).toEqual(results);
  });

  it('gives every packed batch its own exact-size buffer, even after a large batch', () => {
    // postMessage copies a view's whole backing buffer: a small batch packed
    // into a grown scratch buffer would drag hundreds of KB along.
    packWork(getItems(20_000));
    const small = packWork(getItems(1));
    expect(small.byteOffset).toBe(0);
    expect(small.buffer.byteLength).toBe(small.byteLength);
    expect(transferOf(small)).toEqual([small.buffer]);
    expect(unpackWork(small)).toEqual(getItems(1));
  });
});
