/**
 * The issuer rules' stand-in (src/rules/issuer/issuer-rules.ts) against an injected clock:
 * per-PAN limits of one UTC day, which start again at midnight UTC, and what is queued.
 */
import { describe, expect, it } from 'vitest';
import { settleForward } from '../../src/rules/issuer/issuer-rules.js';
import { DAY_MS } from '../../src/runtime/account.js';
import type {
  AdviceOrder,
  DecideContext,
  PendingForward,
  StandInDay,
} from '../../src/runtime/core/actor-rules.js';
import { RecordIndex } from '../../src/runtime/records/record-index.js';
import type { TxnRecord } from '../../src/runtime/records/txn-record.js';
import { stringCodeSource } from '../../src/util/code-source.js';
import { txnRequest } from '../helpers/txn-request.js';

const LIMITS = { perTxnMax: 1_000, dailyMax: 1_500 };
/** 23:59:59.000 UTC of some day. */
const BEFORE_MIDNIGHT_MS = Date.UTC(2026, 11, 7, 23, 59, 59);

class Card {
  standIn: StandInDay | undefined;
  readonly records = new RecordIndex();
  readonly advices: AdviceOrder[] = [];
  readonly written: TxnRecord[] = [];
  /** The issuer of each stand-in approval, as the sink hears of them (switchyard_issuer_stand_in_approvals_total). */
  readonly standInApprovals: string[] = [];
  private stan = 0;

  settle(amount: number, nowMs: number, outcome: 'timeout' | 'unavailable' = 'unavailable', proc = '00') {
    const stan = ++this.stan;
    const pending: PendingForward = {
      institution: 'acq',
      issuer: 'iss',
      req: txnRequest({ stan, time: nowMs, amount, proc: proc as '00' }),
      rrnHead: `RRN${String(stan).padStart(9, '0')}`,
      rrnTail: -1,
      waiters: [stan],
      after: [],
    };
    const ctx: DecideContext = {
      nowMs,
      holdTtlMs: 60_000,
      institution: 'acq',
      rrns: stringCodeSource(() => 'unused'),
      authCodes: stringCodeSource(() => `A${String(stan).padStart(5, '0')}`),
    };
    return settleForward(this.records, this.standIn, pending, { k: outcome, standIn: LIMITS }, ctx, {
      record: (r) => this.written.push(r),
      effect: () => {},
      advice: (a) => this.advices.push(a),
      standIn: (day, total) => {
        this.standIn = { day, amount: total };
      },
      standInApproved: (issuer) => this.standInApprovals.push(issuer),
    });
  }
}

describe('stand-in limits', () => {
  it('count per PAN per UTC day and start again at midnight UTC', () => {
    const card = new Card();
    expect(card.settle(900, BEFORE_MIDNIGHT_MS).rc).toBe('00');
    // 900 + 700 > dailyMax on the same day.
    expect(card.settle(700, BEFORE_MIDNIGHT_MS + 500).rc).toBe('91');
    // One second later it is the next UTC day: the day's total starts at 0.
    const next = card.settle(700, BEFORE_MIDNIGHT_MS + 1_000);
    expect(next.rc).toBe('00');
    expect(card.standIn).toEqual({ day: Math.floor((BEFORE_MIDNIGHT_MS + 1_000) / DAY_MS), amount: 700 });
  });

  it('refuse above perTxnMax and for a balance inquiry, and queue advices only for what needs one', () => {
    const card = new Card();
    expect(card.settle(LIMITS.perTxnMax + 1, BEFORE_MIDNIGHT_MS).rc).toBe('91');
    expect(card.settle(10, BEFORE_MIDNIGHT_MS, 'unavailable', '31').rc).toBe('91');
    expect(card.advices).toEqual([]);
    // A timeout the issuer may have approved: refused above the limit, and a 0420 queued for it.
    expect(card.settle(LIMITS.perTxnMax + 1, BEFORE_MIDNIGHT_MS, 'timeout').rc).toBe('91');
    const approved = card.settle(LIMITS.perTxnMax, BEFORE_MIDNIGHT_MS, 'timeout');
    expect(approved.rc).toBe('00');
    expect(approved.authHead).toMatch(/^S/);
    expect(card.advices.map((a) => a.mti)).toEqual(['0420', '0120']);
    expect(card.advices[1]).toMatchObject({ authCode: approved.authHead, approvedAmount: LIMITS.perTxnMax });
    expect(card.written.map((r) => r.rc)).toEqual(['91', '91', '91', '00']);
    // Only the approval counts as a stand-in approval.
    expect(card.standInApprovals).toEqual(['iss']);
  });
});
