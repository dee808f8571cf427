/**
 * docs/protocol.md section 3, exactly-once: a transaction key (institution, pan, stan, time) seen again
 * with the same content gets the original response field for field (only `id` follows the new
 * request) and changes nothing; with other content (MTI class, amount, currency, proc) it gets 94
 * and changes nothing. Checked on one connection, within one frame, on two connections at once,
 * across a reconnect, after the account's actor may have been passivated, and across a restart of
 * the switch process on the same Redis. Effects are checked with GET /accounts/{pan}.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admin, at, ClientPool } from '../helpers/harness.js';
import {
  Accounts,
  again,
  expectAnswer,
  expectSameExceptId,
  freshKey,
  leakedPans,
  origOf,
  RrnBook,
  req,
  simPan,
  Teller,
} from '../helpers/ledger.js';
import { LEDGER_VARIANTS } from '../helpers/ledger-hosts.js';
import { makePan } from '../helpers/messages.js';
import { sleep } from '../helpers/processes.js';
import type { TransportKind } from '../helpers/raw-client.js';
import { RestartableStack } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import type { Msg } from '../helpers/wire.js';

const TOKEN = 'exactly-once-admin-token-93c1';
const acq = makeInstitution('acq-once', 'acquirer');
const acq2 = makeInstitution('acq-once-2', 'acquirer');

let stack: RestartableStack;
let shared: ClientPool;
let pool: ClientPool;
let book: RrnBook;
const accounts = new Accounts(() => stack.sw, TOKEN);

// The whole file runs against the default ledger (worker threads) and the inline one
// (ledger.inline): exactly-once must not depend on which thread the actors live on.
describe.each(LEDGER_VARIANTS)('$mode', ({ ledger }) => {
  beforeAll(async () => {
    shared = new ClientPool();
    pool = new ClientPool();
    book = new RrnBook();
    stack = await RestartableStack.start({
      config: {
        admin: { token: TOKEN },
        institutions: [institutionEntry(acq), institutionEntry(acq2)],
        workers: 2,
        // The smallest actor table allowed, so the bulk step below can push actors out of memory.
        ledger: { actorsMax: 1000, commitTimeoutMs: 5000, holdExpiryIntervalMs: 60_000, ...ledger },
        log: { level: 'debug' },
      },
    });
  });

  afterEach(() => pool.closeAll());

  afterAll(async () => {
    shared.closeAll();
    pool.closeAll();
    await stack?.dispose();
  });

  const state = (pan: string, balance: number, held: number) => accounts.expectState(pan, { balance, held });

  /** Sends `m`'s repeat (new id, changes applied) and checks it is the original answer again. */
  async function expectReplay(t: Teller, original: Msg, first: Msg, changes: Msg = {}): Promise<Msg> {
    const repeat = again(original, changes);
    const replay = await t.ask(repeat);
    expect(replay['id']).toEqual(repeat['id']);
    expectSameExceptId(replay, first);
    return replay;
  }

  /** Sends a same-key request with other content and checks the 94 (rrn, no authCode). */
  async function expect94(t: Teller, original: Msg, changes: Msg): Promise<void> {
    const m = again(original, changes);
    const answer = await t.ask(m);
    expectAnswer(answer, m, { rc: '94' });
  }

  describe.each<TransportKind>(['tcp', 'ws'])('exactly-once over %s', (transport) => {
    let t: Teller;

    beforeAll(async () => {
      t = new Teller(await shared.signedOn(at(stack.sw, transport), acq), book, acq.id);
    });

    describe('same key, same content: the original answer, no second effect', () => {
      it('for a hold, a purchase, cash, a refund, a completion and a reversal', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const cases: Array<[Msg, number]> = [];
        const hold = req('0100', { pan, amount: 3000 });
        cases.push([hold, 7000]);
        const purchase = req('0200', { pan, amount: 1000 });
        cases.push([purchase, 6000]);
        const cash = req('0200', { pan, amount: 500, proc: '01' });
        cases.push([cash, 5500]);
        const refund = req('0200', { pan, amount: 200, proc: '20' });
        cases.push([refund, 5700]);
        const completion = req('0220', { pan, amount: 2000, orig: hold });
        cases.push([completion, 6700]);
        const reversal = req('0400', { pan, amount: 1000, orig: purchase });
        cases.push([reversal, 7700]);
        for (const [m, balance] of cases) {
          const first = await t.expect(m, { rc: '00', amount: m['amount'] as number, balance });
          const before = await accounts.get(pan);
          await expectReplay(t, m, first);
          await expectReplay(t, m, first);
          expect(await accounts.get(pan)).toEqual(before);
        }
        await state(pan, 7700, 0);
      });

      it('rrn and authCode of the replay are the original’s; a later replay does not see later changes', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const inquiry = req('0100', { pan, amount: 0, proc: '31' });
        const first = await t.expect(inquiry, { rc: '00', amount: 0, balance: 10_000 });
        const purchase = req('0200', { pan, amount: 2500 });
        const bought = await t.expect(purchase, { rc: '00', amount: 2500, balance: 7500 });
        // The inquiry's replay still says 10000: it is the recorded answer, not a new inquiry.
        const replay = await expectReplay(t, inquiry, first);
        expect(replay['balance']).toBe(10_000);
        expect(replay['rrn']).toBe(first['rrn']);
        expect(replay['authCode']).toBe(first['authCode']);
        const purchaseReplay = await expectReplay(t, purchase, bought);
        expect(purchaseReplay['authCode']).toBe(bought['authCode']);
        expect(purchaseReplay['rrn']).toBe(bought['rrn']);
        await state(pan, 7500, 0);
      });

      it('repeat MTIs (0101/0201/0221/0401) and non-content fields do not change the content', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 1000 });
        const held = await t.ask(hold);
        await expectReplay(t, hold, held, { mti: '0101' });
        await expectReplay(t, hold, held, {
          partial: true,
          merchant: 'another shop',
          terminal: 'T2',
          mcc: '5999',
        });
        const purchase = req('0200', { pan, amount: 700 });
        const bought = await t.ask(purchase);
        await expectReplay(t, purchase, bought, { mti: '0201' });
        // No proc means 00: an explicit 00 is the same content.
        await expectReplay(t, purchase, bought, { proc: '00' });
        const completion = req('0220', { pan, amount: 1000, orig: hold });
        const completed = await t.ask(completion);
        await expectReplay(t, completion, completed, { mti: '0221' });
        // 0220 and 0400 take their proc from the original: a proc they carry is no content.
        await expectReplay(t, completion, completed, { proc: '01' });
        const reversal = req('0400', { pan, amount: 700, orig: purchase });
        const reversed = await t.ask(reversal);
        await expectReplay(t, reversal, reversed, { mti: '0401', proc: '20' });
        await state(pan, 9000, 0);
      });
    });

    describe('recorded declines are replayed as such', () => {
      it('51, 61, 57, 12 (currency) and 13 come back unchanged after the account changed', async () => {
        const pan = await accounts.create({ balance: 1000, limits: { perTxnMax: 5000 } });
        const short = req('0200', { pan, amount: 2000 });
        const declined51 = await t.expect(short, { rc: '51' });
        const overLimit = req('0200', { pan, amount: 6000 });
        const declined61 = await t.expect(overLimit, { rc: '61' });
        const usd = req('0200', { pan, amount: 100, currency: 'USD' });
        const declined12 = await t.expect(usd, { rc: '12' });
        const zero = req('0200', { pan, amount: 0 });
        const declined13 = await t.expect(zero, { rc: '13' });
        // Now funds and limits would allow them.
        await t.expect(req('0200', { pan, amount: 50_000, proc: '20' }), {
          rc: '00',
          amount: 50_000,
          balance: 51_000,
        });
        expect((await accounts.put(pan, { currency: 'EUR', balance: 0, limits: {} })).status).toBe(200);
        await expectReplay(t, short, declined51);
        await expectReplay(t, overLimit, declined61);
        await expectReplay(t, usd, declined12);
        await expectReplay(t, zero, declined13);
        await state(pan, 51_000, 0);
        // 57, replayed after the account was unblocked.
        const blocked = await accounts.create({ balance: 1000, status: 'blocked' });
        const refused = req('0100', { pan: blocked, amount: 100 });
        const declined57 = await t.expect(refused, { rc: '57' });
        await accounts.setStatus(blocked, 'active');
        await expectReplay(t, refused, declined57);
        await state(blocked, 1000, 0);
      });

      it('25 (reversal before its original), the late original’s 05 and a no-effect 00 are replayed', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const key = freshKey();
        const early = req('0400', { pan, amount: 1000, orig: key });
        const notFound = await t.expect(early, { rc: '25' });
        const late = req('0200', { pan, amount: 1000, key });
        const refused = await t.expect(late, { rc: '05' });
        await expectReplay(t, early, notFound);
        await expectReplay(t, late, refused);
        await expectReplay(t, late, refused, { mti: '0201' });
        const declined = req('0200', { pan, amount: 20_000 });
        await t.expect(declined, { rc: '51' });
        const noEffect = req('0400', { pan, amount: 20_000, orig: declined });
        const approved = await t.expect(noEffect, { rc: '00', amount: 20_000, balance: 10_000 });
        await expectReplay(t, noEffect, approved);
        await state(pan, 10_000, 0);
      });
    });

    describe('same key, different content: 94 and nothing changes', () => {
      it('other amount, currency, proc or MTI class -> 94; the original is still replayed', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const purchase = req('0200', { pan, amount: 1000 });
        const bought = await t.expect(purchase, { rc: '00', amount: 1000, balance: 9000 });
        await expect94(t, purchase, { amount: 1001 });
        await expect94(t, purchase, { amount: 999 });
        await expect94(t, purchase, { currency: 'USD' });
        await expect94(t, purchase, { proc: '01' });
        await expect94(t, purchase, { proc: '20' });
        await expect94(t, purchase, { mti: '0100' });
        await expect94(t, purchase, { mti: '0101' });
        await expect94(t, purchase, { mti: '0220', orig: freshKey() });
        await expect94(t, purchase, { mti: '0400', orig: origOf(purchase) });
        await state(pan, 9000, 0);
        await expectReplay(t, purchase, bought);
        await expectReplay(t, purchase, bought, { mti: '0201' });
        await state(pan, 9000, 0);
      });

      it('on a hold, a refund and a reversal too; and on a declined original', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const hold = req('0100', { pan, amount: 2000 });
        const held = await t.ask(hold);
        await expect94(t, hold, { amount: 2500 });
        await expect94(t, hold, { mti: '0200' });
        await expect94(t, hold, { proc: '01' });
        await expect94(t, hold, { amount: 0, proc: '31' });
        const refund = req('0200', { pan, amount: 300, proc: '20' });
        const refunded = await t.ask(refund);
        await expect94(t, refund, { proc: '00' });
        await expect94(t, refund, { amount: 301 });
        const reversal = req('0400', { pan, amount: 2000, orig: hold });
        const reversed = await t.expect(reversal, { rc: '00', amount: 2000, balance: 10_300 });
        await expect94(t, reversal, { amount: 1999 });
        await expect94(t, reversal, { mti: '0220' });
        await expect94(t, reversal, { currency: 'GBP' });
        await state(pan, 10_300, 0);
        const declined = req('0200', { pan, amount: 20_000 });
        const refused = await t.expect(declined, { rc: '51' });
        // The smaller amount would be approved as a new transaction; under this key it is 94.
        await expect94(t, declined, { amount: 100 });
        await state(pan, 10_300, 0);
        await expectReplay(t, hold, held);
        await expectReplay(t, refund, refunded);
        await expectReplay(t, reversal, reversed);
        await expectReplay(t, declined, refused);
        await state(pan, 10_300, 0);
      });
    });

    describe('the key is (institution, pan, stan, time)', () => {
      it('the same stan and time on another PAN, or from another acquirer, is another transaction', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const other = await accounts.create({ balance: 10_000 });
        const purchase = req('0200', { pan, amount: 1000 });
        await t.expect(purchase, { rc: '00', amount: 1000, balance: 9000 });
        await t.expect(again(purchase, { pan: other, amount: 2000 }), {
          rc: '00',
          amount: 2000,
          balance: 8000,
        });
        const t2 = new Teller(await pool.signedOn(at(stack.sw, transport), acq2), book, acq2.id);
        await t2.expect(again(purchase, { amount: 3000 }), { rc: '00', amount: 3000, balance: 6000 });
        // acq-once-2's reversal names its own purchase (3000), not acq-once's (1000).
        await t2.expect(req('0400', { pan, amount: 1000, orig: purchase }), { rc: '13' });
        await t2.expect(req('0400', { pan, amount: 3000, orig: purchase }), {
          rc: '00',
          amount: 3000,
          balance: 9000,
        });
        // A key only acq-once used is unknown to acq-once-2.
        const mine = req('0200', { pan, amount: 500 });
        await t.expect(mine, { rc: '00', amount: 500, balance: 8500 });
        await t2.expect(req('0400', { pan, amount: 500, orig: mine }), { rc: '25' });
        await state(pan, 8500, 0);
        await state(other, 8000, 0);
      });
    });

    describe('answers decided before duplicate handling are not recorded', () => {
      it('14 (no account yet): the same key is processed once the account exists', async () => {
        const pan = makePan('4');
        accounts.pans.add(pan);
        const purchase = req('0200', { pan, amount: 1000 });
        await t.expect(purchase, { rc: '14' });
        await accounts.create({ pan, balance: 5000 });
        await t.expect(again(purchase), { rc: '00', amount: 1000, balance: 4000 });
        await state(pan, 4000, 0);
      });

      it('30 and the MTI/proc 12: the same key with a valid request is processed, not 94', async () => {
        const pan = await accounts.create({ balance: 5000 });
        const key = freshKey();
        const broken = req('0100', { pan, amount: 1000, key });
        delete broken['currency'];
        const formatError = await t.ask(broken);
        expect(formatError['rc']).toBe('30');
        const badProc = req('0100', { pan, amount: 1000, key, proc: '20' });
        expectAnswer(await t.ask(badProc), badProc, { rc: '12' });
        await t.expect(req('0100', { pan, amount: 1000, key }), { rc: '00', amount: 1000, balance: 4000 });
        await state(pan, 5000, 1000);
      });
    });

    describe('duplicates in flight', () => {
      it('copies in the SAME frame: one effect, identical answers', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const purchase = req('0200', { pan, amount: 1000 });
        const copies = [purchase, ...Array.from({ length: 9 }, () => again(purchase))];
        const hold = req('0100', { pan, amount: 500 });
        const holdCopies = [hold, again(hold, { mti: '0101' }), again(hold)];
        t.client.send([...copies, ...holdCopies]);
        const answers = await Promise.all(copies.map((m) => t.answer(m)));
        const holdAnswers = await Promise.all(holdCopies.map((m) => t.answer(m)));
        expectAnswer(answers[0]!, purchase, {
          rc: '00',
          amount: 1000,
          balance: answers[0]!['balance'] as number,
        });
        for (const [i, a] of answers.entries()) {
          expect(a['id']).toEqual(copies[i]!['id']);
          expectSameExceptId(a, answers[0]!);
        }
        expect(holdAnswers[0]!['rc']).toBe('00');
        for (const a of holdAnswers) expectSameExceptId(a, holdAnswers[0]!);
        await state(pan, 9000, 500);
      });

      it('same key, different content in the same frame: one effect, the other 94', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const a = req('0200', { pan, amount: 1000 });
        const b = again(a, { amount: 3000 });
        t.client.send([a, b]);
        const [ra, rb] = await Promise.all([t.answer(a), t.answer(b)]);
        const rcs = [ra!['rc'], rb!['rc']].sort();
        expect(rcs).toEqual(['00', '94']);
        const winner = ra!['rc'] === '00' ? a : b;
        await state(pan, 10_000 - (winner['amount'] as number), 0);
      });

      it('the same requests sent at once on two connections: one effect per key, identical answers', async () => {
        const second = new Teller(await pool.signedOn(at(stack.sw, transport), acq), book, acq.id);
        const rich = await Promise.all(
          Array.from({ length: 12 }, () => accounts.create({ balance: 10_000 })),
        );
        const poor = await Promise.all(Array.from({ length: 4 }, () => accounts.create({ balance: 100 })));
        const batch = [
          ...rich.map((pan, i) => req(i % 2 === 0 ? '0200' : '0100', { pan, amount: 1000 + i })),
          ...poor.map((pan) => req('0200', { pan, amount: 1000 })),
        ];
        const copies = batch.map((m) => again(m));
        t.client.send(batch);
        second.client.send(copies);
        const firsts = await Promise.all(batch.map((m) => t.answer(m)));
        const seconds = await Promise.all(copies.map((m) => second.answer(m)));
        for (const [i, m] of batch.entries()) {
          expectSameExceptId(seconds[i]!, firsts[i]!);
          expect(firsts[i]!['rc']).toBe(i < rich.length ? '00' : '51');
          const pan = m['pan'] as string;
          const amount = m['amount'] as number;
          if (i >= rich.length) await state(pan, 100, 0);
          else if (m['mti'] === '0200') await state(pan, 10_000 - amount, 0);
          else await state(pan, 10_000, amount);
        }
      });

      it('same key, different content at once on two connections: exactly one wins', async () => {
        const second = new Teller(await pool.signedOn(at(stack.sw, transport), acq), book, acq.id);
        const pans = await Promise.all(Array.from({ length: 8 }, () => accounts.create({ balance: 10_000 })));
        const left = pans.map((pan) => req('0200', { pan, amount: 1000 }));
        const right = left.map((m) => again(m, { amount: 2000 }));
        t.client.send(left);
        second.client.send(right);
        const l = await Promise.all(left.map((m) => t.answer(m)));
        const r = await Promise.all(right.map((m) => second.answer(m)));
        for (const [i, pan] of pans.entries()) {
          expect([l[i]!['rc'], r[i]!['rc']].sort()).toEqual(['00', '94']);
          const won = l[i]!['rc'] === '00' ? 1000 : 2000;
          await state(pan, 10_000 - won, 0);
        }
      });
    });

    describe('across connections', () => {
      it('a repeat on a new connection after a reconnect gets the original answer', async () => {
        const pan = await accounts.create({ balance: 10_000 });
        const first = new Teller(await pool.signedOn(at(stack.sw, transport), acq), book, acq.id);
        const hold = req('0100', { pan, amount: 1200 });
        const held = await first.expect(hold, { rc: '00', amount: 1200, balance: 8800 });
        await first.client.close();
        const next = new Teller(await pool.signedOn(at(stack.sw, transport), acq), book, acq.id);
        const replay = await next.ask(again(hold, { mti: '0101' }));
        expectSameExceptId(replay, held);
        await state(pan, 10_000, 1200);
      });

      it('requests sent just before the host closes are processed; their repeats elsewhere replay them', async () => {
        const pans = await Promise.all(Array.from({ length: 6 }, () => accounts.create({ balance: 10_000 })));
        const leaving = await pool.signedOn(at(stack.sw, transport), acq);
        const batch = pans.map((pan) => req('0200', { pan, amount: 1500 }));
        leaving.send(batch);
        await leaving.close();
        const next = new Teller(await pool.signedOn(at(stack.sw, transport), acq), book, acq.id);
        const repeats = batch.map((m) => again(m, { mti: '0201' }));
        next.client.send(repeats);
        for (const [i, m] of repeats.entries()) {
          const answer = await next.answer(m);
          expectAnswer(answer, m, { rc: '00', amount: 1500, balance: 8500 });
          // Whatever the first connection received before closing is the same answer.
          const early = leaving.received.find((r) => r['id'] === batch[i]!['id']);
          if (early !== undefined) expectSameExceptId(answer, early);
        }
        for (const pan of pans) await state(pan, 8500, 0);
      });
    });
  });

  describe('after the account actors may have been passivated', () => {
    it('replays and 94s still hold once thousands of other accounts went through the workers', async () => {
      const t = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      const pan = await accounts.create({ balance: 10_000 });
      const hold = req('0100', { pan, amount: 1000 });
      const held = await t.expect(hold, { rc: '00', amount: 1000, balance: 9000 });
      const purchase = req('0200', { pan, amount: 500 });
      const bought = await t.expect(purchase, { rc: '00', amount: 500, balance: 8500 });
      // Far more accounts than actorsMax (1000 per worker), each created through its actor.
      const bulk = await admin(stack.sw, 'POST', '/accounts/bulk', {
        token: TOKEN,
        body: { count: 3000, balance: 100, currency: 'EUR', prefix: '4810' },
      });
      expect(bulk.status, bulk.text).toBe(200);
      expect(bulk.json).toMatchObject({ requested: 3000, created: 3000, failed: 0 });
      for (let i = 0; i < 3000; i += 250) accounts.pans.add(simPan('4810', i));
      await expectReplay(t, hold, held);
      await expectReplay(t, purchase, bought);
      await expect94(t, purchase, { amount: 501 });
      await t.expect(req('0220', { pan, amount: 1000, orig: hold }), {
        rc: '00',
        amount: 1000,
        balance: 8500,
      });
      await state(pan, 8500, 0);
    });
  });

  describe('while the original is not yet durable', () => {
    it('a duplicate sent while Redis is stalled is not answered with an approval before the original is persisted', async () => {
      const pan = await accounts.create({ balance: 10_000 });
      const a = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      const b = new Teller(await pool.signedOn(at(stack.sw, 'ws'), acq), book, acq.id);
      const purchase = req('0200', { pan, amount: 1000 });
      const duplicate = again(purchase);
      const approvedDuringStall = () =>
        [...a.client.received, ...b.client.received].filter(
          (r) =>
            (r['id'] === purchase['id'] || r['id'] === duplicate['id']) &&
            (r['rc'] === '00' || r['rc'] === '10'),
        );
      process.kill(stack.redis.pid, 'SIGSTOP');
      try {
        a.client.send(purchase);
        await sleep(100);
        b.client.send(duplicate);
        // Well inside commitTimeoutMs: nothing can be durable while Redis is stopped.
        await sleep(1000);
        expect(approvedDuringStall()).toEqual([]);
      } finally {
        process.kill(stack.redis.pid, 'SIGCONT');
      }
      const first = await a.answer(purchase, 20_000);
      const second = await b.answer(duplicate, 20_000);
      // 96 (store unavailable) is the only other answer allowed once commitTimeoutMs passed.
      expect(['00', '96']).toContain(first['rc']);
      expect(['00', '96']).toContain(second['rc']);
      if (first['rc'] === '00') expectSameExceptId(second, first);
      // A further repeat settles on the approval, with exactly one effect.
      const settled = await a.ask(again(purchase));
      expect(settled['rc']).toBe('00');
      if (first['rc'] === '00') expectSameExceptId(settled, first);
      await state(pan, 9000, 0);
    });
  });

  describe('across a restart of the switch process on the same Redis', () => {
    interface Done {
      readonly m: Msg;
      readonly answer: Msg;
    }
    const done: Done[] = [];
    const rrnsBefore = new Set<string>();
    const expected = new Map<string, { balance: number; held: number }>();
    let openHold: Msg;
    let holdPan: string;
    let tombstoneKey: { stan: number; time: number };
    let tombstonePan: string;
    let inFlight: Msg[] = [];
    let inFlightEarly: Msg[] = [];
    let inFlightPans: string[] = [];
    let exit: { code: number | null; signal: string | null };

    beforeAll(async () => {
      const t = new Teller(await shared.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      const ask = async (m: Msg) => {
        const answer = await t.ask(m);
        done.push({ m, answer });
        if (typeof answer['rrn'] === 'string') rrnsBefore.add(answer['rrn']);
        return answer;
      };
      const a = await accounts.create({ balance: 10_000 });
      const hold = req('0100', { pan: a, amount: 3000 });
      await ask(hold);
      const purchase = req('0200', { pan: a, amount: 1000 });
      await ask(purchase);
      await ask(req('0200', { pan: a, amount: 400, proc: '20' }));
      await ask(req('0220', { pan: a, amount: 2500, orig: hold }));
      await ask(req('0400', { pan: a, amount: 1000, orig: purchase }));
      await ask(req('0200', { pan: a, amount: 99_999 }));
      await ask(req('0100', { pan: a, amount: 0, proc: '31' }));
      expected.set(a, { balance: 10_000 - 2500 + 400, held: 0 });
      holdPan = await accounts.create({ balance: 5000 });
      openHold = req('0100', { pan: holdPan, amount: 2000 });
      await ask(openHold);
      expected.set(holdPan, { balance: 5000, held: 2000 });
      tombstonePan = await accounts.create({ balance: 5000 });
      tombstoneKey = freshKey();
      await ask(req('0400', { pan: tombstonePan, amount: 700, orig: tombstoneKey }));
      expected.set(tombstonePan, { balance: 5000, held: 0 });
      for (const { answer } of done) expect(['00', '51', '25']).toContain(answer['rc']);
      for (const [pan, e] of expected) await state(pan, e.balance, e.held);

      // Requests still in flight when SIGTERM comes: whatever was read is processed to the end.
      inFlightPans = await Promise.all(Array.from({ length: 20 }, () => accounts.create({ balance: 3000 })));
      const leaving = await pool.signedOn(at(stack.sw, 'tcp'), acq);
      inFlight = inFlightPans.map((pan) => req('0200', { pan, amount: 1000 }));
      leaving.send(inFlight);
      exit = await stack.restart();
      inFlightEarly = leaving.received.filter((r) => r['mti'] === '0210');
      for (const r of inFlightEarly) if (typeof r['rrn'] === 'string') rrnsBefore.add(r['rrn']);
    });

    for (const transport of ['tcp', 'ws'] as const) {
      it(`SIGTERM exits 0; after the restart every repeat over ${transport} is the original answer`, async () => {
        expect(exit).toEqual({ code: 0, signal: null });
        const t = new Teller(await pool.signedOn(at(stack.sw, transport), acq), book, acq.id);
        for (const { m, answer } of done) {
          const replay = await t.ask(again(m));
          expectSameExceptId(replay, answer);
          expect(replay['rrn']).toBe(answer['rrn']);
          expect(replay['authCode']).toBe(answer['authCode']);
        }
        for (const [pan, e] of expected) await state(pan, e.balance, e.held);
      });
    }

    it('requests in flight at the SIGTERM took effect exactly once; their repeats replay them', async () => {
      const t = new Teller(await pool.signedOn(at(stack.sw, 'ws'), acq), book, acq.id);
      const repeats = inFlight.map((m) => again(m, { mti: '0201' }));
      t.client.send(repeats);
      for (const [i, m] of repeats.entries()) {
        const answer = await t.answer(m);
        expectAnswer(answer, m, { rc: '00', amount: 1000, balance: 2000 });
        const early = inFlightEarly.find((r) => r['id'] === inFlight[i]!['id']);
        if (early !== undefined) expectSameExceptId(answer, early);
      }
      for (const pan of inFlightPans) await state(pan, 2000, 0);
    });

    it('other content under a pre-restart key -> 94; the remembered reversal still declines its late original 05', async () => {
      const t = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      for (const { m } of done) {
        const other = again(m, { amount: (m['amount'] as number) + 1 });
        expectAnswer(await t.ask(other), other, { rc: '94' });
      }
      await t.expect(req('0100', { pan: tombstonePan, amount: 700, key: tombstoneKey }), { rc: '05' });
      await t.expect(req('0400', { pan: tombstonePan, amount: 700, orig: tombstoneKey }), { rc: '25' });
      for (const [pan, e] of expected) await state(pan, e.balance, e.held);
    });

    it('a hold placed before the restart is still open: completed after it', async () => {
      const t = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      await t.expect(req('0220', { pan: holdPan, amount: 1500, orig: openHold }), {
        rc: '00',
        amount: 1500,
        balance: 3500,
      });
      await state(holdPan, 3500, 0);
    });

    it('new transactions after the restart get rrns never handed out before it', async () => {
      const t = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      const pan = await accounts.create({ balance: 100_000 });
      const fresh: string[] = [];
      for (let i = 0; i < 50; i++) {
        const answer = await t.expect(req('0200', { pan, amount: 10 }), {
          rc: '00',
          amount: 10,
          balance: 100_000 - 10 * (i + 1),
        });
        fresh.push(answer['rrn'] as string);
      }
      expect(rrnsBefore.size).toBeGreaterThan(5);
      expect(fresh.filter((rrn) => rrnsBefore.has(rrn))).toEqual([]);
      expect(new Set(fresh).size).toBe(fresh.length);
    });
  });

  describe('across a kill -9 of the switch process', () => {
    it('every approval received before the kill is in effect once; repeats replay it or process it once', async () => {
      const pans = await Promise.all(Array.from({ length: 40 }, () => accounts.create({ balance: 3000 })));
      const doomed = await pool.signedOn(at(stack.sw, 'tcp'), acq);
      const batch = pans.map((pan) => req('0200', { pan, amount: 1000 }));
      doomed.send(batch.slice(0, 20));
      await doomed.nextMessage((r) => r['mti'] === '0210');
      doomed.send(batch.slice(20));
      const exitInfo = await stack.restart(true);
      expect(exitInfo.signal).toBe('SIGKILL');
      const received = doomed.received.filter((r) => r['mti'] === '0210');
      expect(received.length).toBeGreaterThan(0);
      for (const r of received) expect(r['rc']).toBe('00');
      const t = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
      const repeats = batch.map((m) => again(m, { mti: '0201' }));
      t.client.send(repeats);
      for (const [i, m] of repeats.entries()) {
        const answer = await t.answer(m);
        expectAnswer(answer, m, { rc: '00', amount: 1000, balance: 2000 });
        const early = received.find((r) => r['id'] === batch[i]!['id']);
        if (early !== undefined) expectSameExceptId(answer, early);
      }
      for (const pan of pans) await state(pan, 2000, 0);
    });
  });

  describe('rrns across a quick restart', () => {
    it('a switch restarted within the same wall-clock second hands out no rrn of the previous process', async () => {
      const pan = await accounts.create({ balance: 1_000_000 });
      const seen = new Set<string>();
      const repeated: string[] = [];
      let approved = 0;
      // Three tries: each starts just after a second boundary, so a restart under a second stays in it.
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
        await sleep(1000 - (Date.now() % 1000) + 5);
        const first = Array.from({ length: 10 }, () => req('0200', { pan, amount: 1 }));
        before.client.send(first);
        for (const m of first) {
          const answer = await before.answer(m);
          expect(answer['rc']).toBe('00');
          approved++;
          seen.add(answer['rrn'] as string);
        }
        await stack.restart(true);
        const after = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
        const next = Array.from({ length: 10 }, () => req('0200', { pan, amount: 1 }));
        after.client.send(next);
        for (const m of next) {
          const answer = await after.answer(m);
          expect(answer['rc']).toBe('00');
          approved++;
          const rrn = answer['rrn'] as string;
          if (seen.has(rrn)) repeated.push(rrn);
          seen.add(rrn);
        }
      }
      expect(repeated).toEqual([]);
      await state(pan, 1_000_000 - approved, 0);
      // Three kill -9s and switch starts: 11-19 s on a shared two-core machine, too near the
      // default 30 s. The bound is for a hang, not for speed.
    }, 120_000);
  });

  describe('across the whole file', () => {
    it('rrns and authCodes repeat only as replays of the same key', () => {
      expect(book.count).toBeGreaterThan(200);
      expect(book.clashes).toEqual([]);
    });

    it('no PAN used by this file appears in any switch process’s stdout or stderr', () => {
      expect(leakedPans(stack.allOutput(), accounts.pans)).toEqual([]);
    });
  });
});
