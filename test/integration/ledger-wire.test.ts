/**
 * docs/protocol.md sections 3 and 5 through the wire: every rule of the on-us ledger, on real accounts
 * made with PUT /accounts/{pan}, each effect checked with GET /accounts/{pan}. Every case runs over
 * TCP and over WebSocket on one switch, once with the ledger on worker threads and once inline. Every rrn of the file is collected: an rrn may only come
 * back as the replay of the same transaction key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at, ClientPool, type HttpAnswer, type Stack, startStack } from '../helpers/harness.js';
import {
  Accounts,
  again,
  exactInt,
  exactJsonInt,
  expectAnswer,
  expectSameExceptId,
  freshKey,
  leakedPans,
  RrnBook,
  req,
  Teller,
} from '../helpers/ledger.js';
import { LEDGER_VARIANTS } from '../helpers/ledger-hosts.js';
import { makePan } from '../helpers/messages.js';
import type { TransportKind } from '../helpers/raw-client.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import type { Msg } from '../helpers/wire.js';

const TOKEN = 'ledger-wire-admin-token-5b1e';
const acq = makeInstitution('acq-ledger', 'acquirer');

let stack: Stack;
let shared: ClientPool;
let book: RrnBook;
const accounts = new Accounts(() => stack.sw, TOKEN);

// The whole file runs against the default ledger (worker threads) and the inline one
// (ledger.inline): the same core behind a different host must keep every rule.
describe.each(LEDGER_VARIANTS)('$mode', ({ ledger }) => {
  beforeAll(async () => {
    shared = new ClientPool();
    book = new RrnBook();
    stack = await startStack({
      config: {
        admin: { token: TOKEN },
        institutions: [institutionEntry(acq)],
        workers: 2,
        ledger,
        log: { level: 'debug' },
      },
    });
  });

  afterAll(async () => {
    shared.closeAll();
    await stack?.dispose();
  });

  describe.each<TransportKind>(['tcp', 'ws'])('on-us ledger rules over %s', (transport) => {
    let t: Teller;

    beforeAll(async () => {
      t = new Teller(await shared.signedOn(at(stack.sw, transport), acq), book, acq.id);
    });

    const create = (o: Parameters<Accounts['create']>[0] = {}) => accounts.create(o);
    const state = (pan: string, balance: number, held: number) =>
      accounts.expectState(pan, { balance, held });

    describe('holds, debits, refunds, inquiries', () => {
      it('0100 places a hold for the amount (proc 00 by default, 00 and 01 explicit)', async () => {
        const pan = await create({ balance: 10_000 });
        await t.expect(req('0100', { pan, amount: 2500 }), { rc: '00', amount: 2500, balance: 7500 });
        await state(pan, 10_000, 2500);
        await t.expect(req('0100', { pan, amount: 1500, proc: '01' }), {
          rc: '00',
          amount: 1500,
          balance: 6000,
        });
        await t.expect(req('0100', { pan, amount: 1000, proc: '00' }), {
          rc: '00',
          amount: 1000,
          balance: 5000,
        });
        await state(pan, 10_000, 5000);
      });

      it('0200 purchase (default and proc 00) and cash (proc 01) debit the balance at once', async () => {
        const pan = await create({ balance: 10_000 });
        await t.expect(req('0200', { pan, amount: 3000 }), { rc: '00', amount: 3000, balance: 7000 });
        await state(pan, 7000, 0);
        await t.expect(req('0200', { pan, amount: 1000, proc: '00' }), {
          rc: '00',
          amount: 1000,
          balance: 6000,
        });
        await t.expect(req('0200', { pan, amount: 2000, proc: '01' }), {
          rc: '00',
          amount: 2000,
          balance: 4000,
        });
        await state(pan, 4000, 0);
      });

      it('0200 refund (proc 20) credits the account; balance in the answer is available after', async () => {
        const pan = await create({ balance: 10_000 });
        await t.expect(req('0100', { pan, amount: 4000 }), { rc: '00', amount: 4000, balance: 6000 });
        await t.expect(req('0200', { pan, amount: 1500, proc: '20' }), {
          rc: '00',
          amount: 1500,
          balance: 7500,
        });
        await state(pan, 11_500, 4000);
      });

      it('0100 proc 31 with amount 0 returns the available balance and changes nothing', async () => {
        const pan = await create({ balance: 10_000 });
        await t.expect(req('0100', { pan, amount: 2500 }), { rc: '00', amount: 2500, balance: 7500 });
        await t.expect(req('0100', { pan, amount: 0, proc: '31' }), { rc: '00', amount: 0, balance: 7500 });
        await state(pan, 10_000, 2500);
        // A non-zero amount on proc 31: 13.
        await t.expect(req('0100', { pan, amount: 5, proc: '31' }), { rc: '13' });
        await state(pan, 10_000, 2500);
      });

      it('51 when available is short: holds count against available, not the posted balance', async () => {
        const pan = await create({ balance: 5000 });
        await t.expect(req('0100', { pan, amount: 4000 }), { rc: '00', amount: 4000, balance: 1000 });
        await t.expect(req('0200', { pan, amount: 1001 }), { rc: '51' });
        await t.expect(req('0100', { pan, amount: 1001 }), { rc: '51' });
        await state(pan, 5000, 4000);
        await t.expect(req('0200', { pan, amount: 1000 }), { rc: '00', amount: 1000, balance: 0 });
        await state(pan, 4000, 4000);
      });
    });

    describe('completions (0220)', () => {
      it('post the amount and release the rest of that hold only', async () => {
        const pan = await create({ balance: 10_000 });
        const holdA = req('0100', { pan, amount: 5000 });
        await t.expect(holdA, { rc: '00', amount: 5000, balance: 5000 });
        await t.expect(req('0100', { pan, amount: 1000 }), { rc: '00', amount: 1000, balance: 4000 });
        await t.expect(req('0220', { pan, amount: 3000, orig: holdA }), {
          rc: '00',
          amount: 3000,
          balance: 6000,
        });
        await state(pan, 7000, 1000);
      });

      it('a completion of the full approved amount', async () => {
        const pan = await create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 2000, proc: '01' });
        await t.expect(hold, { rc: '00', amount: 2000, balance: 8000 });
        await t.expect(req('0220', { pan, amount: 2000, orig: hold }), {
          rc: '00',
          amount: 2000,
          balance: 8000,
        });
        await state(pan, 8000, 0);
      });

      it('above the approved amount -> 13, nothing changes, the hold stays open', async () => {
        const pan = await create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 2000 });
        await t.expect(hold, { rc: '00', amount: 2000, balance: 8000 });
        await t.expect(req('0220', { pan, amount: 2001, orig: hold }), { rc: '13' });
        await state(pan, 10_000, 2000);
        await t.expect(req('0220', { pan, amount: 0, orig: hold }), { rc: '13' });
        await state(pan, 10_000, 2000);
        await t.expect(req('0220', { pan, amount: 2000, orig: hold }), {
          rc: '00',
          amount: 2000,
          balance: 8000,
        });
        await state(pan, 8000, 0);
      });

      it('of an authorization that is not open -> 12; of a 0200 -> 12; of an unknown original -> 25', async () => {
        const pan = await create({ balance: 10_000 });
        // Already completed.
        const hold = req('0100', { pan, amount: 2000 });
        await t.expect(hold, { rc: '00', amount: 2000, balance: 8000 });
        await t.expect(req('0220', { pan, amount: 1000, orig: hold }), {
          rc: '00',
          amount: 1000,
          balance: 9000,
        });
        await t.expect(req('0220', { pan, amount: 500, orig: hold }), { rc: '12' });
        // Reversed.
        const reversed = req('0100', { pan, amount: 700 });
        await t.expect(reversed, { rc: '00', amount: 700, balance: 8300 });
        await t.expect(req('0400', { pan, amount: 700, orig: reversed }), {
          rc: '00',
          amount: 700,
          balance: 9000,
        });
        await t.expect(req('0220', { pan, amount: 700, orig: reversed }), { rc: '12' });
        // Declined.
        const declined = req('0100', { pan, amount: 50_000 });
        await t.expect(declined, { rc: '51' });
        await t.expect(req('0220', { pan, amount: 100, orig: declined }), { rc: '12' });
        // A balance inquiry is not a hold.
        const inquiry = req('0100', { pan, amount: 0, proc: '31' });
        await t.expect(inquiry, { rc: '00', amount: 0, balance: 9000 });
        await t.expect(req('0220', { pan, amount: 100, orig: inquiry }), { rc: '12' });
        // A 0200.
        const purchase = req('0200', { pan, amount: 1000 });
        await t.expect(purchase, { rc: '00', amount: 1000, balance: 8000 });
        await t.expect(req('0220', { pan, amount: 1000, orig: purchase }), { rc: '12' });
        // Unknown.
        await t.expect(req('0220', { pan, amount: 1000, orig: freshKey() }), { rc: '25' });
        await state(pan, 8000, 0);
      });
    });

    describe('reversals (0400)', () => {
      it('of a hold releases it; an amount other than the approved one -> 13', async () => {
        const pan = await create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 4000 });
        await t.expect(hold, { rc: '00', amount: 4000, balance: 6000 });
        await t.expect(req('0400', { pan, amount: 3999, orig: hold }), { rc: '13' });
        await t.expect(req('0400', { pan, amount: 4001, orig: hold }), { rc: '13' });
        await state(pan, 10_000, 4000);
        await t.expect(req('0400', { pan, amount: 4000, orig: hold }), {
          rc: '00',
          amount: 4000,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
      });

      it('of a purchase credits it back; reversing it again under another key changes nothing, same rc', async () => {
        const pan = await create({ balance: 10_000 });
        const purchase = req('0200', { pan, amount: 3000 });
        await t.expect(purchase, { rc: '00', amount: 3000, balance: 7000 });
        await t.expect(req('0400', { pan, amount: 3000, orig: purchase }), {
          rc: '00',
          amount: 3000,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
        await t.expect(req('0400', { pan, amount: 3000, orig: purchase }), {
          rc: '00',
          amount: 3000,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
      });

      it('of a cash withdrawal credits it back', async () => {
        const pan = await create({ balance: 10_000 });
        const cash = req('0200', { pan, amount: 2500, proc: '01' });
        await t.expect(cash, { rc: '00', amount: 2500, balance: 7500 });
        await t.expect(req('0400', { pan, amount: 2500, orig: cash }), {
          rc: '00',
          amount: 2500,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
      });

      it('of a completed authorization reverses it whole, at the authorization amount', async () => {
        const pan = await create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 5000 });
        await t.expect(hold, { rc: '00', amount: 5000, balance: 5000 });
        await t.expect(req('0220', { pan, amount: 3000, orig: hold }), {
          rc: '00',
          amount: 3000,
          balance: 7000,
        });
        await state(pan, 7000, 0);
        await t.expect(req('0400', { pan, amount: 3000, orig: hold }), { rc: '13' });
        await state(pan, 7000, 0);
        await t.expect(req('0400', { pan, amount: 5000, orig: hold }), {
          rc: '00',
          amount: 5000,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
      });

      it('of a refund debits it back', async () => {
        const pan = await create({ balance: 10_000 });
        const refund = req('0200', { pan, amount: 2000, proc: '20' });
        await t.expect(refund, { rc: '00', amount: 2000, balance: 12_000 });
        await t.expect(req('0400', { pan, amount: 2000, orig: refund }), {
          rc: '00',
          amount: 2000,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
      });

      it('of a refund whose funds are gone -> 51 and nothing changes; once funds are back it works', async () => {
        const pan = await create({ balance: 1000 });
        const refund = req('0200', { pan, amount: 2000, proc: '20' });
        await t.expect(refund, { rc: '00', amount: 2000, balance: 3000 });
        await t.expect(req('0200', { pan, amount: 2500 }), { rc: '00', amount: 2500, balance: 500 });
        const failed = req('0400', { pan, amount: 2000, orig: refund });
        const first = await t.expect(failed, { rc: '51' });
        await state(pan, 500, 0);
        // The 51 is recorded under the reversal's key: its repeat is the same answer.
        expectSameExceptId(await t.ask(again(failed)), first);
        await t.expect(req('0200', { pan, amount: 3000, proc: '20' }), {
          rc: '00',
          amount: 3000,
          balance: 3500,
        });
        await t.expect(req('0400', { pan, amount: 2000, orig: refund }), {
          rc: '00',
          amount: 2000,
          balance: 1500,
        });
        await state(pan, 1500, 0);
      });

      it('of a declined original -> 00 and nothing changes', async () => {
        const pan = await create({ balance: 1000 });
        const declined = req('0200', { pan, amount: 5000 });
        await t.expect(declined, { rc: '51' });
        await t.expect(req('0400', { pan, amount: 5000, orig: declined }), {
          rc: '00',
          amount: 5000,
          balance: 1000,
        });
        await state(pan, 1000, 0);
        const declinedHold = req('0100', { pan, amount: 1001 });
        await t.expect(declinedHold, { rc: '51' });
        await t.expect(req('0400', { pan, amount: 1001, orig: declinedHold }), {
          rc: '00',
          amount: 1001,
          balance: 1000,
        });
        await state(pan, 1000, 0);
      });

      it('of an unknown original -> 25; the late original -> 05; further reversals -> 25', async () => {
        const pan = await create({ balance: 10_000 });
        const key = freshKey();
        await t.expect(req('0400', { pan, amount: 1000, orig: key }), { rc: '25' });
        await state(pan, 10_000, 0);
        await t.expect(req('0100', { pan, amount: 1000, key }), { rc: '05' });
        await state(pan, 10_000, 0);
        await t.expect(req('0400', { pan, amount: 1000, orig: key }), { rc: '25' });
        await t.expect(req('0401', { pan, amount: 1000, orig: key }), { rc: '25' });
        // The late original was declined: it is no open authorization.
        await t.expect(req('0220', { pan, amount: 1000, orig: key }), { rc: '12' });
        await state(pan, 10_000, 0);
      });

      it('a late 0200 named by an earlier reversal -> 05 too, and debits nothing', async () => {
        const pan = await create({ balance: 10_000 });
        const key = freshKey();
        await t.expect(req('0400', { pan, amount: 400, orig: key }), { rc: '25' });
        await t.expect(req('0200', { pan, amount: 400, key }), { rc: '05' });
        await state(pan, 10_000, 0);
      });
    });

    describe('check order for completions and reversals', () => {
      it('an already reversed original: the first reversal’s rc whatever the amount or currency', async () => {
        const pan = await create({ balance: 10_000 });
        const purchase = req('0200', { pan, amount: 3000 });
        await t.expect(purchase, { rc: '00', amount: 3000, balance: 7000 });
        await t.expect(req('0400', { pan, amount: 3000, orig: purchase }), {
          rc: '00',
          amount: 3000,
          balance: 10_000,
        });
        // "already reversed" is decided before 12 (currency) and 13 (amount).
        await t.expect(req('0400', { pan, amount: 1, orig: purchase }), {
          rc: '00',
          amount: 1,
          balance: 10_000,
        });
        await t.expect(req('0400', { pan, amount: 3000, currency: 'USD', orig: purchase }), {
          rc: '00',
          amount: 3000,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
      });

      it('a declined original: 00 with no effect comes before the currency and amount checks', async () => {
        const pan = await create({ balance: 1000 });
        const declined = req('0200', { pan, amount: 5000 });
        await t.expect(declined, { rc: '51' });
        await t.expect(req('0400', { pan, amount: 7, currency: 'USD', orig: declined }), {
          rc: '00',
          amount: 7,
          balance: 1000,
        });
        await state(pan, 1000, 0);
      });

      it('a late original named by an earlier reversal: 05 before 57, 12 and 13', async () => {
        const pan = await create({ balance: 10_000 });
        const k1 = freshKey();
        const k2 = freshKey();
        const k3 = freshKey();
        for (const key of [k1, k2, k3])
          await t.expect(req('0400', { pan, amount: 10, orig: key }), { rc: '25' });
        await t.expect(req('0200', { pan, amount: 10, currency: 'USD', key: k1 }), { rc: '05' });
        await t.expect(req('0200', { pan, amount: 0, key: k2 }), { rc: '05' });
        await accounts.setStatus(pan, 'blocked');
        await t.expect(req('0100', { pan, amount: 10, key: k3 }), { rc: '05' });
        await state(pan, 10_000, 0);
      });

      it('a completion of a reversed or completed authorization: 12 before the amount check', async () => {
        const pan = await create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 1000 });
        await t.expect(hold, { rc: '00', amount: 1000, balance: 9000 });
        await t.expect(req('0400', { pan, amount: 1000, orig: hold }), {
          rc: '00',
          amount: 1000,
          balance: 10_000,
        });
        await t.expect(req('0220', { pan, amount: 5000, orig: hold }), { rc: '12' });
        await state(pan, 10_000, 0);
      });

      it('refund reversals and reversals of counted transactions are not subject to limits', async () => {
        const pan = await create({
          balance: 10_000,
          limits: { perTxnMax: 100, dailyMax: 100, dailyCountMax: 1 },
        });
        const refund = req('0200', { pan, amount: 5000, proc: '20' });
        await t.expect(refund, { rc: '00', amount: 5000, balance: 15_000 });
        const purchase = req('0200', { pan, amount: 100 });
        await t.expect(purchase, { rc: '00', amount: 100, balance: 14_900 });
        await t.expect(req('0200', { pan, amount: 1 }), { rc: '61' });
        await t.expect(req('0400', { pan, amount: 5000, orig: refund }), {
          rc: '00',
          amount: 5000,
          balance: 9900,
        });
        await t.expect(req('0400', { pan, amount: 100, orig: purchase }), {
          rc: '00',
          amount: 100,
          balance: 10_000,
        });
        await state(pan, 10_000, 0);
      });
    });

    describe('repeats', () => {
      it('0101 / 0221 / 0201 / 0401 arriving first are handled as 0100 / 0220 / 0200 / 0400', async () => {
        const pan = await create({ balance: 10_000 });
        const hold = req('0101', { pan, amount: 2000 });
        await t.expect(hold, { rc: '00', amount: 2000, balance: 8000 });
        await state(pan, 10_000, 2000);
        await t.expect(req('0221', { pan, amount: 1500, orig: hold }), {
          rc: '00',
          amount: 1500,
          balance: 8500,
        });
        await state(pan, 8500, 0);
        const purchase = req('0201', { pan, amount: 1000 });
        await t.expect(purchase, { rc: '00', amount: 1000, balance: 7500 });
        await t.expect(req('0401', { pan, amount: 1000, orig: purchase }), {
          rc: '00',
          amount: 1000,
          balance: 8500,
        });
        await state(pan, 8500, 0);
        const refund = req('0201', { pan, amount: 300, proc: '20' });
        await t.expect(refund, { rc: '00', amount: 300, balance: 8800 });
        await t.expect(req('0101', { pan, amount: 0, proc: '31' }), { rc: '00', amount: 0, balance: 8800 });
        await state(pan, 8800, 0);
      });

      it('a repeat of a processed request gets the original answer under the original MTI', async () => {
        const pan = await create({ balance: 10_000 });
        const pairs: Array<[string, string]> = [
          ['0100', '0101'],
          ['0200', '0201'],
        ];
        for (const [mti, repeat] of pairs) {
          const m = req(mti, { pan, amount: 1000 });
          const first = await t.ask(m);
          const repeated = again(m, { mti: repeat });
          const replay = await t.ask(repeated);
          expectAnswer(replay, repeated, { rc: '00', amount: 1000, balance: first['balance'] as number });
          expectSameExceptId(replay, first);
        }
        await state(pan, 9000, 1000);
        const hold = req('0100', { pan, amount: 500 });
        await t.ask(hold);
        const completion = req('0220', { pan, amount: 500, orig: hold });
        const completed = await t.ask(completion);
        expectSameExceptId(await t.ask(again(completion, { mti: '0221' })), completed);
        const reversal = req('0400', { pan, amount: 500, orig: hold });
        const reversed = await t.ask(reversal);
        expect(reversed['rc']).toBe('00');
        expectSameExceptId(await t.ask(again(reversal, { mti: '0401' })), reversed);
        await state(pan, 9000, 1000);
      });
    });

    describe('partial approval (10)', () => {
      it('a 0100 with partial beyond available -> 10 with amount = available, held = that amount', async () => {
        const pan = await create({ balance: 3000 });
        const hold = req('0100', { pan, amount: 5000, partial: true });
        await t.expect(hold, { rc: '10', amount: 3000, balance: 0 });
        await state(pan, 3000, 3000);
        // Reversal and completion go by the approved amount.
        await t.expect(req('0400', { pan, amount: 5000, orig: hold }), { rc: '13' });
        await t.expect(req('0400', { pan, amount: 3000, orig: hold }), {
          rc: '00',
          amount: 3000,
          balance: 3000,
        });
        await state(pan, 3000, 0);
        const hold2 = req('0100', { pan, amount: 4000, partial: true });
        await t.expect(hold2, { rc: '10', amount: 3000, balance: 0 });
        await t.expect(req('0220', { pan, amount: 3500, orig: hold2 }), { rc: '13' });
        await t.expect(req('0220', { pan, amount: 3000, orig: hold2 }), {
          rc: '00',
          amount: 3000,
          balance: 0,
        });
        await state(pan, 0, 0);
      });

      it('a 0200 with partial -> 10 and debits only what was available; without partial -> 51', async () => {
        const pan = await create({ balance: 3000 });
        await t.expect(req('0200', { pan, amount: 5000 }), { rc: '51' });
        await t.expect(req('0200', { pan, amount: 5000, partial: false }), { rc: '51' });
        await state(pan, 3000, 0);
        await t.expect(req('0200', { pan, amount: 5000, partial: true }), {
          rc: '10',
          amount: 3000,
          balance: 0,
        });
        await state(pan, 0, 0);
        // Nothing available: nothing to approve partially.
        await t.expect(req('0200', { pan, amount: 100, partial: true }), { rc: '51' });
        await state(pan, 0, 0);
      });

      it('within available, partial gives a full 00', async () => {
        const pan = await create({ balance: 3000 });
        await t.expect(req('0200', { pan, amount: 1000, partial: true }), {
          rc: '00',
          amount: 1000,
          balance: 2000,
        });
        await state(pan, 2000, 0);
      });
    });

    describe('limits (61, 65)', () => {
      it('perTxnMax -> 61 on holds and debits above it; refunds are not limited', async () => {
        const pan = await create({ balance: 100_000, limits: { perTxnMax: 5000 } });
        await t.expect(req('0100', { pan, amount: 5001 }), { rc: '61' });
        await t.expect(req('0200', { pan, amount: 6000 }), { rc: '61' });
        await t.expect(req('0200', { pan, amount: 6000, proc: '01' }), { rc: '61' });
        await state(pan, 100_000, 0);
        await t.expect(req('0100', { pan, amount: 5000 }), { rc: '00', amount: 5000, balance: 95_000 });
        await t.expect(req('0200', { pan, amount: 5000 }), { rc: '00', amount: 5000, balance: 90_000 });
        await t.expect(req('0200', { pan, amount: 9000, proc: '20' }), {
          rc: '00',
          amount: 9000,
          balance: 99_000,
        });
        await state(pan, 104_000, 5000);
      });

      it('limits are checked on the requested amount, before funds, even with partial', async () => {
        const pan = await create({ balance: 3000, limits: { perTxnMax: 4000 } });
        await t.expect(req('0200', { pan, amount: 5000, partial: true }), { rc: '61' });
        await state(pan, 3000, 0);
        await t.expect(req('0200', { pan, amount: 4000, partial: true }), {
          rc: '10',
          amount: 3000,
          balance: 0,
        });
        const poor = await create({ balance: 50, limits: { perTxnMax: 100 } });
        await t.expect(req('0200', { pan: poor, amount: 120 }), { rc: '61' });
        await t.expect(req('0200', { pan: poor, amount: 80 }), { rc: '51' });
      });

      it('dailyMax -> 61 on the day total; a reversal gives back what its original counted', async () => {
        const pan = await create({ balance: 100_000, limits: { dailyMax: 10_000 } });
        await t.expect(req('0200', { pan, amount: 6000 }), { rc: '00', amount: 6000, balance: 94_000 });
        const hold = req('0100', { pan, amount: 4000 });
        await t.expect(hold, { rc: '00', amount: 4000, balance: 90_000 });
        await t.expect(req('0200', { pan, amount: 1 }), { rc: '61' });
        await t.expect(req('0100', { pan, amount: 1 }), { rc: '61' });
        await t.expect(req('0400', { pan, amount: 4000, orig: hold }), {
          rc: '00',
          amount: 4000,
          balance: 94_000,
        });
        await t.expect(req('0200', { pan, amount: 4000 }), { rc: '00', amount: 4000, balance: 90_000 });
        await t.expect(req('0200', { pan, amount: 1 }), { rc: '61' });
        // Refunds and inquiries are neither counted nor limited.
        await t.expect(req('0200', { pan, amount: 500, proc: '20' }), {
          rc: '00',
          amount: 500,
          balance: 90_500,
        });
        await t.expect(req('0100', { pan, amount: 0, proc: '31' }), { rc: '00', amount: 0, balance: 90_500 });
        await state(pan, 90_500, 0);
      });

      it('the day total counts the approved (partial) amount, not the requested one', async () => {
        const pan = await create({ balance: 3000, limits: { dailyMax: 5000 } });
        await t.expect(req('0200', { pan, amount: 4000, partial: true }), {
          rc: '10',
          amount: 3000,
          balance: 0,
        });
        await t.expect(req('0200', { pan, amount: 5000, proc: '20' }), {
          rc: '00',
          amount: 5000,
          balance: 5000,
        });
        await t.expect(req('0200', { pan, amount: 2000 }), { rc: '00', amount: 2000, balance: 3000 });
        await t.expect(req('0200', { pan, amount: 1 }), { rc: '61' });
        await state(pan, 3000, 0);
      });

      it('dailyCountMax -> 65; refunds, inquiries and completions do not count; a reversal gives one back', async () => {
        const pan = await create({ balance: 100_000, limits: { dailyCountMax: 2 } });
        const hold = req('0100', { pan, amount: 1000 });
        await t.expect(hold, { rc: '00', amount: 1000, balance: 99_000 });
        const purchase = req('0200', { pan, amount: 1000 });
        await t.expect(purchase, { rc: '00', amount: 1000, balance: 98_000 });
        await t.expect(req('0200', { pan, amount: 1000 }), { rc: '65' });
        await t.expect(req('0100', { pan, amount: 1 }), { rc: '65' });
        await t.expect(req('0200', { pan, amount: 100, proc: '20' }), {
          rc: '00',
          amount: 100,
          balance: 98_100,
        });
        await t.expect(req('0100', { pan, amount: 0, proc: '31' }), { rc: '00', amount: 0, balance: 98_100 });
        await t.expect(req('0220', { pan, amount: 1000, orig: hold }), {
          rc: '00',
          amount: 1000,
          balance: 98_100,
        });
        await t.expect(req('0200', { pan, amount: 1000 }), { rc: '65' });
        await t.expect(req('0400', { pan, amount: 1000, orig: purchase }), {
          rc: '00',
          amount: 1000,
          balance: 99_100,
        });
        await t.expect(req('0200', { pan, amount: 1000 }), { rc: '00', amount: 1000, balance: 98_100 });
        await t.expect(req('0200', { pan, amount: 1000 }), { rc: '65' });
        await state(pan, 98_100, 0);
      });

      it('order: 61 per transaction, then 61 daily, then 65', async () => {
        const pan = await create({
          balance: 100_000,
          limits: { perTxnMax: 100, dailyMax: 150, dailyCountMax: 1 },
        });
        await t.expect(req('0200', { pan, amount: 100 }), { rc: '00', amount: 100, balance: 99_900 });
        await t.expect(req('0200', { pan, amount: 101 }), { rc: '61' });
        await t.expect(req('0200', { pan, amount: 60 }), { rc: '61' });
        await t.expect(req('0200', { pan, amount: 10 }), { rc: '65' });
        await state(pan, 99_900, 0);
      });
    });

    describe('blocked accounts (57)', () => {
      it('a blocked account declines holds, debits and inquiries with 57, but takes refunds', async () => {
        const pan = await create({ balance: 10_000, status: 'blocked' });
        await t.expect(req('0100', { pan, amount: 1000 }), { rc: '57' });
        await t.expect(req('0200', { pan, amount: 1000 }), { rc: '57' });
        await t.expect(req('0200', { pan, amount: 1000, proc: '01' }), { rc: '57' });
        await t.expect(req('0100', { pan, amount: 0, proc: '31' }), { rc: '57' });
        // 57 comes before the currency (12) and amount (13) checks.
        await t.expect(req('0200', { pan, amount: 1000, currency: 'USD' }), { rc: '57' });
        await t.expect(req('0200', { pan, amount: 0 }), { rc: '57' });
        await state(pan, 10_000, 0);
        await t.expect(req('0200', { pan, amount: 500, proc: '20' }), {
          rc: '00',
          amount: 500,
          balance: 10_500,
        });
        await state(pan, 10_500, 0);
      });

      it('completions and reversals still work on an account blocked after the original', async () => {
        const pan = await create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 4000 });
        await t.expect(hold, { rc: '00', amount: 4000, balance: 6000 });
        const purchase = req('0200', { pan, amount: 1000 });
        await t.expect(purchase, { rc: '00', amount: 1000, balance: 5000 });
        const hold2 = req('0100', { pan, amount: 2000 });
        await t.expect(hold2, { rc: '00', amount: 2000, balance: 3000 });
        const refund = req('0200', { pan, amount: 200, proc: '20' });
        await t.expect(refund, { rc: '00', amount: 200, balance: 3200 });
        await accounts.setStatus(pan, 'blocked');
        await t.expect(req('0100', { pan, amount: 10 }), { rc: '57' });
        await t.expect(req('0220', { pan, amount: 3000, orig: hold }), {
          rc: '00',
          amount: 3000,
          balance: 4200,
        });
        await t.expect(req('0400', { pan, amount: 1000, orig: purchase }), {
          rc: '00',
          amount: 1000,
          balance: 5200,
        });
        await t.expect(req('0400', { pan, amount: 2000, orig: hold2 }), {
          rc: '00',
          amount: 2000,
          balance: 7200,
        });
        await t.expect(req('0400', { pan, amount: 200, orig: refund }), {
          rc: '00',
          amount: 200,
          balance: 7000,
        });
        await t.expect(req('0200', { pan, amount: 500, proc: '20' }), {
          rc: '00',
          amount: 500,
          balance: 7500,
        });
        await t.expect(req('0200', { pan, amount: 10 }), { rc: '57' });
        await state(pan, 7500, 0);
        await accounts.setStatus(pan, 'active');
        await t.expect(req('0200', { pan, amount: 500 }), { rc: '00', amount: 500, balance: 7000 });
        await state(pan, 7000, 0);
      });
    });

    describe('account and content checks', () => {
      it('no such account at this switch -> 14 with an rrn, for every kind of request', async () => {
        const pan = makePan('4');
        accounts.pans.add(pan);
        await t.expect(req('0100', { pan, amount: 1000 }), { rc: '14' });
        await t.expect(req('0100', { pan, amount: 0, proc: '31' }), { rc: '14' });
        await t.expect(req('0200', { pan, amount: 1000 }), { rc: '14' });
        await t.expect(req('0200', { pan, amount: 1000, proc: '20' }), { rc: '14' });
        await t.expect(req('0220', { pan, amount: 1000, orig: freshKey() }), { rc: '14' });
        await t.expect(req('0400', { pan, amount: 1000, orig: freshKey() }), { rc: '14' });
        expect((await accounts.getRaw(pan)).status).toBe(404);
      });

      it('a currency other than the account’s -> 12 with an error text, on every kind', async () => {
        const pan = await create({ balance: 10_000, currency: 'EUR' });
        await t.expect(req('0100', { pan, amount: 1000, currency: 'USD' }), { rc: '12' });
        await t.expect(req('0200', { pan, amount: 1000, currency: 'USD' }), { rc: '12' });
        await t.expect(req('0200', { pan, amount: 1000, currency: 'GBP', proc: '20' }), { rc: '12' });
        await t.expect(req('0100', { pan, amount: 0, currency: 'USD', proc: '31' }), { rc: '12' });
        // 12 (currency) comes before 13 (amount).
        await t.expect(req('0200', { pan, amount: 0, currency: 'USD' }), { rc: '12' });
        const hold = req('0100', { pan, amount: 1000 });
        await t.expect(hold, { rc: '00', amount: 1000, balance: 9000 });
        await t.expect(req('0220', { pan, amount: 1000, currency: 'USD', orig: hold }), { rc: '12' });
        await t.expect(req('0400', { pan, amount: 1000, currency: 'USD', orig: hold }), { rc: '12' });
        await state(pan, 10_000, 1000);
      });

      it('amount 0 outside proc 31 -> 13 on holds, debits, refunds, completions and reversals', async () => {
        const pan = await create({ balance: 10_000 });
        await t.expect(req('0100', { pan, amount: 0 }), { rc: '13' });
        await t.expect(req('0100', { pan, amount: 0, proc: '01' }), { rc: '13' });
        await t.expect(req('0200', { pan, amount: 0 }), { rc: '13' });
        await t.expect(req('0200', { pan, amount: 0, proc: '01' }), { rc: '13' });
        await t.expect(req('0200', { pan, amount: 0, proc: '20' }), { rc: '13' });
        const hold = req('0100', { pan, amount: 1000 });
        await t.expect(hold, { rc: '00', amount: 1000, balance: 9000 });
        await t.expect(req('0220', { pan, amount: 0, orig: hold }), { rc: '13' });
        await t.expect(req('0400', { pan, amount: 0, orig: hold }), { rc: '13' });
        await state(pan, 10_000, 1000);
      });
    });
  });

  function expectAdminError(answer: HttpAnswer, status: number, code: string): void {
    expect(answer.status, answer.text).toBe(status);
    expect((answer.json as { error?: { code?: unknown } } | undefined)?.error?.code, answer.text).toBe(code);
  }

  describe('exact arithmetic at the top of the amount range', () => {
    /*
     * Amounts go up to 10^15, so refunds can carry a balance past 2^53. Whatever the switch decides
     * there (decline the credit, or keep exact integers), an approval must leave balance = opening +
     * credits - debits, exactly, and integer fields must stay integers (DESIGN.md invariant I2).
     * docs/protocol.md (a clarification in section 5) says which: a ceiling of 2^53 - 1, a credit past it is
     * declined 13 (admin: 409 balance_overflow).
     */
    it('refunds of 10^15 and a purchase of 1 keep the balance exact, or are declined without effect', async () => {
      const t = new Teller(await shared.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      const E15 = 10 ** 15;
      const pan = await accounts.create({ balance: E15 });
      let expected = BigInt(E15);
      const steps: Msg[] = [
        ...Array.from({ length: 10 }, () => req('0200', { pan, amount: E15, proc: '20' })),
        req('0200', { pan, amount: 1 }),
        req('0100', { pan, amount: 1 }),
      ];
      for (const m of steps) {
        const answer = await t.ask(m);
        const delta = m['proc'] === '20' ? BigInt(E15) : m['mti'] === '0200' ? -1n : 0n;
        const heldDelta = m['mti'] === '0100' ? 1n : 0n;
        if (answer['rc'] === '00') {
          expected += delta;
          expect(exactInt(answer['balance'], 'balance in the answer'), `after ${m['proc'] ?? m['mti']}`).toBe(
            expected - heldDelta,
          );
        } else {
          expectAnswer(answer, m, { rc: '13' });
        }
        const got = await accounts.getRaw(pan);
        expect(got.status).toBe(200);
        expect(exactJsonInt(got.text, 'balance'), 'GET balance').toBe(expected);
      }
    });

    it('admin credits past 2^53 keep the balance exact, or are refused', async () => {
      const E15 = 10 ** 15;
      const pan = await accounts.create({ balance: E15 });
      let expected = BigInt(E15);
      for (let i = 0; i < 10; i++) {
        const answer = await accounts.adjust(pan, { amount: E15, reference: `big-credit-${i}` });
        if (answer.status === 200) expected += BigInt(E15);
        else expectAdminError(answer, 409, 'balance_overflow');
        expect(exactJsonInt((await accounts.getRaw(pan)).text, 'balance')).toBe(expected);
      }
      const debit = await accounts.adjust(pan, { amount: -1, reference: 'small-debit' });
      expect(debit.status, debit.text).toBe(200);
      expected -= 1n;
      expect(exactJsonInt(debit.text, 'balance'), 'balance in the adjust answer').toBe(expected);
      expect(exactJsonInt((await accounts.getRaw(pan)).text, 'balance'), 'GET balance').toBe(expected);
    });

    it('a reversal whose credit-back would pass the ceiling -> 13, nothing changes', async () => {
      const t = new Teller(await shared.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      const E15 = 10 ** 15;
      const pan = await accounts.create({ balance: E15 });
      const purchase = req('0200', { pan, amount: E15 });
      await t.expect(purchase, { rc: '00', amount: E15, balance: 0 });
      for (let i = 1; i <= 9; i++) {
        // 9 * 10^15 is still below 2^53 - 1 (about 9.007 * 10^15).
        await t.expect(req('0200', { pan, amount: E15, proc: '20' }), {
          rc: '00',
          amount: E15,
          balance: i * E15,
        });
      }
      await t.expect(req('0400', { pan, amount: E15, orig: purchase }), { rc: '13' });
      expect(exactJsonInt((await accounts.getRaw(pan)).text, 'balance')).toBe(9n * BigInt(E15));
      // Once there is room again the same original can still be reversed.
      await t.expect(req('0200', { pan, amount: E15 }), { rc: '00', amount: E15, balance: 8 * E15 });
      await t.expect(req('0400', { pan, amount: E15, orig: purchase }), {
        rc: '00',
        amount: E15,
        balance: 9 * E15,
      });
    });
  });

  describe('across the whole file', () => {
    it('every rrn was handed out once: only replays of the same key repeat one', () => {
      expect(book.count).toBeGreaterThan(300);
      expect(book.clashes).toEqual([]);
    });

    it('no PAN used by this file appears in the switch’s stdout or stderr', () => {
      expect(accounts.pans.size).toBeGreaterThan(50);
      const logs = [...stack.sw.stdout, ...stack.sw.stderr].join('\n');
      expect(leakedPans(logs, accounts.pans)).toEqual([]);
    });
  });
});
