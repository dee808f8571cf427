/**
 * What clears (docs/clearing.md "What clears", docs/protocol.md section 7): each rule
 * its own test. The journal records come from the real rules (the on-us ledger's
 * decideInto, the issuer rules' routeTransaction and settleForward) through the real
 * journal codec, as a commit writes them, so the table in clearedItemOf is checked
 * against what the rules actually journal, not against a copy of it.
 */
import { describe, expect, it } from 'vitest';
import { clearedItemOf, clearedItemsIn } from '../../src/clearing/cleared-item.js';
import type { Proc, TxnRequest } from '../../src/protocol/request.js';
import { routeTransaction, settleForward } from '../../src/rules/issuer/issuer-rules.js';
import { decideInto } from '../../src/rules/onus/decide.js';
import { type AccountState, utcDay } from '../../src/runtime/account.js';
import type { DecideContext, DecisionSink } from '../../src/runtime/core/actor-rules.js';
import type { LedgerEffect } from '../../src/runtime/effects.js';
import { RecordIndex } from '../../src/runtime/records/record-index.js';
import type { StoredResponse } from '../../src/runtime/records/stored-response.js';
import {
  decodeJournalEntry,
  encodeJournal,
  encodeJournalRecord,
  type JournalEntry,
} from '../../src/runtime/storage/state-codec.js';
import type { IssuerOutcome } from '../../src/runtime/worker/worker-protocol.js';
import { codeString, stringCodeSource } from '../../src/util/code-source.js';
import { maskPan } from '../../src/util/pan.js';
import { txnRequest } from '../helpers/txn-request.js';

const SWITCH_ID = 'sw-test';
const ACQUIRER = 'acq-1';
const ISSUER = 'iss-1';
const PAN = '4000000000000002';
const T0 = Date.UTC(2026, 2, 10, 12, 0, 0);

/** One card on one route: requests decided by the real rules, their effects journaled as a commit does. */
class Card {
  readonly records = new RecordIndex();
  readonly account: AccountState = {
    panSealed: new Uint8Array(0),
    panMasked: maskPan(PAN),
    currency: 'EUR',
    balance: 10_000,
    held: 0,
    status: 'active',
    limits: {},
    day: utcDay(T0),
    dayAmount: 0,
    dayCount: 0,
  };
  private rrnSeq = 0;
  private effects: LedgerEffect[] = [];

  constructor(private readonly route: 'local' | typeof ISSUER) {}

  /** Sends `req` (stan, class, amount...) and returns the journal records it made and its response. */
  send(
    r: Partial<TxnRequest> & { stan: number },
    issuerAnswer?: IssuerOutcome,
  ): { records: JournalEntry[]; response: StoredResponse } {
    const req = txnRequest({ time: T0 + r.stan, pan: PAN, currency: 'EUR', ...r });
    this.effects = [];
    const ctx = this.ctx();
    const sink: DecisionSink = { record: () => {}, effect: (e) => this.effects.push(e), advice: () => {} };
    let response: StoredResponse;
    if (this.route === 'local') {
      response = decideInto(this.account, this.records, req, ctx, sink);
    } else {
      const decision = routeTransaction(
        this.records,
        undefined,
        undefined,
        undefined,
        ISSUER,
        req,
        ctx,
        sink,
      );
      if (decision === 'forward') {
        ctx.rrns.next(ctx.nowMs);
        const pending = {
          institution: ctx.institution,
          issuer: ISSUER,
          req,
          rrnHead: ctx.rrns.head,
          rrnTail: ctx.rrns.tail,
          waiters: [],
          after: [],
        };
        response = settleForward(this.records, undefined, pending, issuerAnswer!, ctx, sink);
      } else if (typeof decision === 'string') {
        throw new Error(`test setup: ${decision}`);
      } else {
        response = decision;
      }
    }
    return { records: this.journal(response), response };
  }

  /** Sent with a timestamp key: the original of a later 0220/0400. */
  origOf(stan: number): Pick<TxnRequest, 'origStan' | 'origTime'> {
    return { origStan: stan, origTime: T0 + stan };
  }

  /** The effects as the commit journals them (the actor sets each effect's rrn from the response first). */
  private journal(response: StoredResponse): JournalEntry[] {
    return this.effects.flatMap((effect) => {
      effect.rrnHead = response.rrnHead;
      effect.rrnTail = response.rrnTail;
      return decodeJournalEntry(encodeJournal({ shard: 7, ref: 'k1.ref', panMasked: maskPan(PAN) }, effect));
    });
  }

  private ctx(): DecideContext {
    return {
      nowMs: T0,
      holdTtlMs: 60_000,
      institution: ACQUIRER,
      rrns: stringCodeSource(() => `RRN${String(++this.rrnSeq).padStart(9, '0')}`),
      authCodes: stringCodeSource(() => 'A00001'),
    };
  }
}

const approved = (amount?: number): IssuerOutcome => ({
  k: 'answered',
  rc: '00',
  authCode: 'ISS001',
  amount,
  balance: undefined,
});

function itemsOf(records: readonly JournalEntry[]) {
  return clearedItemsIn(records, SWITCH_ID);
}

/** The item a request makes: its own rrn, stan and time, the masked PAN. */
function expectedItem(
  sent: { response: StoredResponse },
  stan: number,
  fields: { mti: string; proc: Proc; amount: number; payer: 'acquirer' | 'issuer'; issuer?: string },
) {
  return {
    rrn: codeString(sent.response.rrnHead, sent.response.rrnTail),
    stan,
    time: T0 + stan,
    panMasked: '400000******0002',
    mti: fields.mti,
    proc: fields.proc,
    amount: fields.amount,
    currency: 'EUR',
    acquirer: ACQUIRER,
    issuer: fields.issuer ?? SWITCH_ID,
    payer: fields.payer,
  };
}

describe('on-us items (the ledger approved them; the issuer is switchId)', () => {
  it('a purchase (0200 proc 00) clears its amount; the issuer pays the acquirer', () => {
    const sent = new Card('local').send({ txnClass: '0200', stan: 1, amount: 1_250 });
    expect(itemsOf(sent.records)).toEqual([
      expectedItem(sent, 1, { mti: '0200', proc: '00', amount: 1_250, payer: 'issuer' }),
    ]);
  });

  it('cash (0200 proc 01) clears like a purchase', () => {
    const sent = new Card('local').send({ txnClass: '0200', proc: '01', stan: 1, amount: 400 });
    expect(itemsOf(sent.records)).toEqual([
      expectedItem(sent, 1, { mti: '0200', proc: '01', amount: 400, payer: 'issuer' }),
    ]);
  });

  it('a partially approved purchase clears the approved amount, not the requested one', () => {
    const sent = new Card('local').send({ txnClass: '0200', stan: 1, amount: 15_000, partial: true });
    expect(sent.response.rc).toBe('10');
    expect(itemsOf(sent.records).map((i) => i.amount)).toEqual([10_000]);
  });

  it('a refund (0200 proc 20) clears its amount; the acquirer pays the issuer', () => {
    const sent = new Card('local').send({ txnClass: '0200', proc: '20', stan: 1, amount: 300 });
    expect(itemsOf(sent.records)).toEqual([
      expectedItem(sent, 1, { mti: '0200', proc: '20', amount: 300, payer: 'acquirer' }),
    ]);
  });

  it('an authorization clears nothing; its completion (0220) clears the posted amount, not the hold or its release', () => {
    const card = new Card('local');
    const auth = card.send({ txnClass: '0100', stan: 1, amount: 2_000 });
    expect(auth.records.map((r) => r.kind)).toEqual(['hold']);
    expect(itemsOf(auth.records)).toEqual([]);
    const completion = card.send({ txnClass: '0220', stan: 2, amount: 1_500, ...card.origOf(1) });
    expect(completion.records.map((r) => r.kind)).toEqual(['complete', 'release']);
    expect(itemsOf(completion.records)).toEqual([
      expectedItem(completion, 2, { mti: '0220', proc: '00', amount: 1_500, payer: 'issuer' }),
    ]);
  });

  it('an authorization reversed while open clears nothing (the 0400 releases a hold)', () => {
    const card = new Card('local');
    card.send({ txnClass: '0100', stan: 1, amount: 700 });
    const reversal = card.send({ txnClass: '0400', stan: 2, amount: 700, ...card.origOf(1) });
    expect(reversal.records.map((r) => r.kind)).toEqual(['release']);
    expect(itemsOf(reversal.records)).toEqual([]);
  });

  it('the reversal of a purchase (0400) clears with its own rrn, stan and time; the acquirer pays back', () => {
    const card = new Card('local');
    const purchase = card.send({ txnClass: '0200', stan: 1, amount: 900 });
    const reversal = card.send({ txnClass: '0400', stan: 2, amount: 900, ...card.origOf(1) });
    expect(reversal.response.rrnHead).not.toBe(purchase.response.rrnHead);
    expect(itemsOf(reversal.records)).toEqual([
      expectedItem(reversal, 2, { mti: '0400', proc: '00', amount: 900, payer: 'acquirer' }),
    ]);
  });

  it('the reversal of a completed authorization clears the posted amount it credits back', () => {
    const card = new Card('local');
    card.send({ txnClass: '0100', proc: '01', stan: 1, amount: 2_000 });
    card.send({ txnClass: '0220', stan: 2, amount: 1_200, ...card.origOf(1) });
    // A reversal names the approved amount (section 3) and moves back what was posted.
    const reversal = card.send({ txnClass: '0400', stan: 3, amount: 2_000, ...card.origOf(1) });
    expect(itemsOf(reversal.records)).toEqual([
      expectedItem(reversal, 3, { mti: '0400', proc: '01', amount: 1_200, payer: 'acquirer' }),
    ]);
  });

  it('the reversal of a refund clears; the issuer pays back', () => {
    const card = new Card('local');
    card.send({ txnClass: '0200', proc: '20', stan: 1, amount: 300 });
    const reversal = card.send({ txnClass: '0400', stan: 2, amount: 300, ...card.origOf(1) });
    expect(itemsOf(reversal.records)).toEqual([
      expectedItem(reversal, 2, { mti: '0400', proc: '20', amount: 300, payer: 'issuer' }),
    ]);
  });

  it('a decline journals nothing and clears nothing', () => {
    const sent = new Card('local').send({ txnClass: '0200', stan: 1, amount: 50_000 });
    expect(sent.response.rc).toBe('51');
    expect(sent.records).toEqual([]);
  });

  it('a balance inquiry (0100 proc 31) clears nothing', () => {
    const sent = new Card('local').send({ txnClass: '0100', proc: '31', stan: 1, amount: 0 });
    expect(sent.response.rc).toBe('00');
    expect(itemsOf(sent.records)).toEqual([]);
  });
});

describe('issuer-route items (the issuer or stand-in approved them; the issuer is the institution)', () => {
  it('an issuer-approved purchase clears with the issuer named', () => {
    const sent = new Card(ISSUER).send({ txnClass: '0200', stan: 1, amount: 800 }, approved());
    expect(itemsOf(sent.records)).toEqual([
      expectedItem(sent, 1, { mti: '0200', proc: '00', amount: 800, payer: 'issuer', issuer: ISSUER }),
    ]);
  });

  it('a stand-in approval clears as the issuer’s', () => {
    const standIn: IssuerOutcome = { k: 'timeout', standIn: { perTxnMax: 1_000, dailyMax: 5_000 } };
    const sent = new Card(ISSUER).send({ txnClass: '0200', stan: 1, amount: 600 }, standIn);
    expect(sent.response.authHead).toMatch(/^S/);
    expect(itemsOf(sent.records)).toEqual([
      expectedItem(sent, 1, { mti: '0200', proc: '00', amount: 600, payer: 'issuer', issuer: ISSUER }),
    ]);
  });

  it('a stand-in refused (91) clears nothing', () => {
    const sent = new Card(ISSUER).send(
      { txnClass: '0200', stan: 1, amount: 600 },
      { k: 'timeout', standIn: undefined },
    );
    expect(sent.response.rc).toBe('91');
    expect(sent.records).toEqual([]);
  });

  it('an issuer-approved authorization clears only its completion; reversing the completion clears the posted amount back', () => {
    const card = new Card(ISSUER);
    expect(itemsOf(card.send({ txnClass: '0100', stan: 1, amount: 2_000 }, approved()).records)).toEqual([]);
    const completion = card.send({ txnClass: '0220', stan: 2, amount: 1_700, ...card.origOf(1) });
    expect(itemsOf(completion.records)).toEqual([
      expectedItem(completion, 2, {
        mti: '0220',
        proc: '00',
        amount: 1_700,
        payer: 'issuer',
        issuer: ISSUER,
      }),
    ]);
    const reversal = card.send({ txnClass: '0400', stan: 3, amount: 2_000, ...card.origOf(1) });
    expect(itemsOf(reversal.records)).toEqual([
      expectedItem(reversal, 3, {
        mti: '0400',
        proc: '00',
        amount: 1_700,
        payer: 'acquirer',
        issuer: ISSUER,
      }),
    ]);
  });

  it('an issuer-approved refund and its reversal clear in opposite directions', () => {
    const card = new Card(ISSUER);
    const refund = card.send({ txnClass: '0200', proc: '20', stan: 1, amount: 250 }, approved());
    const reversal = card.send({ txnClass: '0400', stan: 2, amount: 250, ...card.origOf(1) });
    expect([...itemsOf(refund.records), ...itemsOf(reversal.records)].map((i) => [i.mti, i.payer])).toEqual([
      ['0200', 'acquirer'],
      ['0400', 'issuer'],
    ]);
  });
});

/** A journal record as a commit writes it, for kinds the rules above do not make in a unit test. */
function record(fields: Partial<JournalEntry>): JournalEntry {
  const base: JournalEntry = {
    kind: 'debit',
    shard: 1,
    ref: 'k1.ref',
    panMasked: '400000******0002',
    issuer: 'local',
    mti: '0200',
    amount: 100,
    currency: 'EUR',
    proc: '00',
    key: `${ACQUIRER}|1|${T0}`,
    origKey: undefined,
    rrn: 'RRN000000001',
    atMs: T0,
  };
  return decodeJournalEntry(encodeJournalRecord({ ...base, ...fields }))[0]!;
}

describe('the switch’s own effects and what is not in the table', () => {
  it('hold expiry, adjustments and opening balances clear nothing', () => {
    for (const kind of ['expire', 'adjust', 'open'] as const) {
      expect(clearedItemOf(record({ kind, mti: undefined, key: '#adj|ref-1' }), SWITCH_ID)).toBeUndefined();
    }
  });

  it('a money-moving record the table does not know fails loudly rather than being left out', () => {
    expect(() => clearedItemOf(record({ kind: 'debit', mti: '0100' }), SWITCH_ID)).toThrow(
      /not a known cleared item/,
    );
    expect(() => clearedItemOf(record({ kind: 'credit', mti: undefined }), SWITCH_ID)).toThrow(
      /not a known cleared item/,
    );
  });

  it('a record whose PAN is not masked is refused: no full PAN reaches a clearing file', () => {
    expect(() => clearedItemOf(record({ panMasked: PAN }), SWITCH_ID)).toThrow(/not masked/);
    expect(() => clearedItemOf(record({ panMasked: PAN }), SWITCH_ID)).not.toThrow(new RegExp(PAN));
    expect(() => clearedItemOf(record({ panMasked: '40000000' }), SWITCH_ID)).toThrow(/not masked/);
  });

  it('a record with no PAN (issuer routes, journaled by earlier builds) clears with an empty pan', () => {
    expect(clearedItemOf(record({ panMasked: '' }), SWITCH_ID)?.panMasked).toBe('');
  });
});
