/**
 * docs/protocol.md section 5: holds not completed within `holdTtlMs` are released by a scheduled job.
 * A switch with a short `holdTtlMs` and a short `ledger.holdExpiryIntervalMs`: an approved hold is
 * released (held back to 0, available restored) within a bounded time and never before its TTL; a
 * completion after expiry gets 12; holds completed or reversed in time are left alone; the switch
 * keeps answering throughout. Waits are bounded polls, never speed assertions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, at, ClientPool } from '../helpers/harness.js';
import {
  Accounts,
  again,
  expectAnswer,
  expectSameExceptId,
  leakedPans,
  RrnBook,
  req,
  Teller,
} from '../helpers/ledger.js';
import { sleep, waitFor } from '../helpers/processes.js';
import type { TransportKind } from '../helpers/raw-client.js';
import { RestartableStack } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';

const TOKEN = 'hold-expiry-admin-token-c4e8';
const HOLD_TTL_MS = 1500;
const INTERVAL_MS = 300;
/** Upper bound for a release after the TTL: many job intervals, generous for a loaded CI box. */
const RELEASE_WITHIN_MS = 10_000;
const acq = makeInstitution('acq-expiry', 'acquirer');

let stack: RestartableStack;
const shared = new ClientPool();
const book = new RrnBook();
const accounts = new Accounts(() => stack.sw, TOKEN);

beforeAll(async () => {
  stack = await RestartableStack.start({
    config: {
      admin: { token: TOKEN },
      institutions: [institutionEntry(acq)],
      holdTtlMs: HOLD_TTL_MS,
      ledger: { actorsMax: 100_000, commitTimeoutMs: 5000, holdExpiryIntervalMs: INTERVAL_MS },
      workers: 2,
      log: { level: 'debug' },
    },
  });
});

afterAll(async () => {
  shared.closeAll();
  await stack?.dispose();
});

/** Polls GET until held is `held`; the time (ms since epoch) it was first seen, or undefined. */
async function heldBecomes(pan: string, held: number, withinMs = HOLD_TTL_MS + RELEASE_WITHIN_MS) {
  let seenAt: number | undefined;
  await waitFor(
    async () => {
      const view = await accounts.get(pan);
      if (view.held !== held) return false;
      seenAt = Date.now();
      return true;
    },
    withinMs,
    100,
  );
  return seenAt;
}

describe.each<TransportKind>(['tcp', 'ws'])('hold expiry over %s', (transport) => {
  let t: Teller;

  beforeAll(async () => {
    t = new Teller(await shared.signedOn(at(stack.sw, transport), acq), book, acq.id);
  });

  it('an approved hold is released by the job, not before its TTL, within a bounded time', async () => {
    const pan = await accounts.create({ balance: 10_000 });
    const sentAt = Date.now();
    await t.expect(req('0100', { pan, amount: 4000 }), { rc: '00', amount: 4000, balance: 6000 });
    const releasedAt = await heldBecomes(pan, 0);
    expect(releasedAt, 'the hold was not released in time').toBeDefined();
    // The switch approved after `sentAt`, so the release cannot be seen before sentAt + TTL.
    expect(releasedAt!).toBeGreaterThanOrEqual(sentAt + HOLD_TTL_MS);
    await accounts.expectState(pan, { balance: 10_000, held: 0, available: 10_000 });
  });

  it('a completion after expiry -> 12 and changes nothing; the hold’s repeat replays its 00 without a new hold', async () => {
    const pan = await accounts.create({ balance: 10_000 });
    const hold = req('0100', { pan, amount: 2500, proc: '01' });
    const held = await t.expect(hold, { rc: '00', amount: 2500, balance: 7500 });
    expect(await heldBecomes(pan, 0)).toBeDefined();
    const late = req('0220', { pan, amount: 2000, orig: hold });
    const refused = await t.expect(late, { rc: '12' });
    await accounts.expectState(pan, { balance: 10_000, held: 0 });
    // Recorded like any answer after duplicate handling.
    expectSameExceptId(await t.ask(again(late)), refused);
    // The expired authorization's repeat is its recorded answer, not a new hold.
    expectSameExceptId(await t.ask(again(hold, { mti: '0101' })), held);
    // Its reversal has nothing left to release: whatever its answer, nothing changes.
    const reversal = req('0400', { pan, amount: 2500, orig: hold });
    const reversed = await t.ask(reversal);
    expect(['00', '12']).toContain(reversed['rc']);
    if (reversed['rc'] === '00')
      expectAnswer(reversed, reversal, { rc: '00', amount: 2500, balance: 10_000 });
    else expectAnswer(reversed, reversal, { rc: '12' });
    await accounts.expectState(pan, { balance: 10_000, held: 0 });
  });

  it('holds completed or reversed before expiry are not touched by the job', async () => {
    const completed = await accounts.create({ balance: 10_000 });
    const reversedPan = await accounts.create({ balance: 10_000 });
    const mixed = await accounts.create({ balance: 10_000 });
    const sentinel = await accounts.create({ balance: 10_000 });

    const h1 = req('0100', { pan: completed, amount: 5000 });
    await t.expect(h1, { rc: '00', amount: 5000, balance: 5000 });
    await t.expect(req('0220', { pan: completed, amount: 3000, orig: h1 }), {
      rc: '00',
      amount: 3000,
      balance: 7000,
    });

    const h2 = req('0100', { pan: reversedPan, amount: 2000 });
    await t.expect(h2, { rc: '00', amount: 2000, balance: 8000 });
    await t.expect(req('0400', { pan: reversedPan, amount: 2000, orig: h2 }), {
      rc: '00',
      amount: 2000,
      balance: 10_000,
    });

    // One hold completed, one left to expire, on the same account.
    const a = req('0100', { pan: mixed, amount: 1000 });
    await t.expect(a, { rc: '00', amount: 1000, balance: 9000 });
    await t.expect(req('0100', { pan: mixed, amount: 2000 }), { rc: '00', amount: 2000, balance: 7000 });
    await t.expect(req('0220', { pan: mixed, amount: 1000, orig: a }), {
      rc: '00',
      amount: 1000,
      balance: 7000,
    });

    await t.expect(req('0100', { pan: sentinel, amount: 100 }), { rc: '00', amount: 100, balance: 9900 });

    // Once the job has released the sentinel and the other hold, give it a few more passes.
    expect(await heldBecomes(sentinel, 0)).toBeDefined();
    expect(await heldBecomes(mixed, 0)).toBeDefined();
    await sleep(INTERVAL_MS * 4);

    await accounts.expectState(completed, { balance: 7000, held: 0 });
    await accounts.expectState(reversedPan, { balance: 10_000, held: 0 });
    await accounts.expectState(mixed, { balance: 9000, held: 0 });
    await accounts.expectState(sentinel, { balance: 10_000, held: 0 });
  });

  it('many holds on many accounts are all released; new holds on them are approved afterwards', async () => {
    const pans = await Promise.all(Array.from({ length: 25 }, () => accounts.create({ balance: 1000 })));
    const holds = pans.map((pan, i) => req('0100', { pan, amount: 100 + i }));
    t.client.send(holds);
    for (const [i, m] of holds.entries()) {
      expectAnswer(await t.answer(m), m, { rc: '00', amount: 100 + i, balance: 900 - i });
    }
    for (const pan of pans) expect(await heldBecomes(pan, 0), 'a hold was never released').toBeDefined();
    for (const pan of pans) await accounts.expectState(pan, { balance: 1000, held: 0 });
    // The accounts are whole again: a hold of everything is approved.
    for (const pan of pans) {
      await t.expect(req('0100', { pan, amount: 1000 }), { rc: '00', amount: 1000, balance: 0 });
    }
  });
});

describe('the switch keeps working while holds expire', () => {
  it('traffic on other accounts is answered throughout and /readyz stays 200', async () => {
    const t = new Teller(await shared.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
    const busy = await accounts.create({ balance: 1_000_000 });
    const expiring = await Promise.all(Array.from({ length: 10 }, () => accounts.create({ balance: 500 })));
    for (const pan of expiring)
      await t.expect(req('0100', { pan, amount: 500 }), { rc: '00', amount: 500, balance: 0 });

    let sent = 0;
    let allReleased = false;
    const traffic = (async () => {
      while (!allReleased && sent < 2000) {
        sent++;
        await t.expect(req('0200', { pan: busy, amount: 1 }), {
          rc: '00',
          amount: 1,
          balance: 1_000_000 - sent,
        });
        if (sent % 20 === 0) expect((await admin(stack.sw, 'GET', '/readyz')).status).toBe(200);
        await sleep(10);
      }
    })();
    try {
      for (const pan of expiring) expect(await heldBecomes(pan, 0)).toBeDefined();
    } finally {
      allReleased = true;
      await traffic;
    }
    expect(sent).toBeGreaterThan(0);
    await accounts.expectState(busy, { balance: 1_000_000 - sent, held: 0 });
    for (const pan of expiring) await accounts.expectState(pan, { balance: 500, held: 0 });
    expect((await admin(stack.sw, 'GET', '/readyz')).status).toBe(200);
    // The job's metrics: these ten and every hold the tests above let expire, asked and released.
    const metrics = (await admin(stack.sw, 'GET', '/metrics')).text;
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('switchyard_ledger_hold_expiry_released_total')).toBeGreaterThanOrEqual(10);
    expect(value('switchyard_ledger_hold_expiry_asked_total')).toBeGreaterThanOrEqual(
      value('switchyard_ledger_hold_expiry_released_total'),
    );
    expect(value('switchyard_ledger_hold_expiry_retries_total')).toBe(0);
    expect(value('switchyard_ledger_hold_expiry_behind_seconds')).toBe(0);
  });
});

describe('across a restart', () => {
  it('holds placed before a restart still expire after it; completed ones stay as they are', async () => {
    const t = new Teller(await shared.signedOn(at(stack.sw, 'tcp'), acq), book, acq.id);
    const open = await accounts.create({ balance: 10_000 });
    const done = await accounts.create({ balance: 10_000 });
    await t.expect(req('0100', { pan: open, amount: 3000 }), { rc: '00', amount: 3000, balance: 7000 });
    const hold = req('0100', { pan: done, amount: 3000 });
    await t.expect(hold, { rc: '00', amount: 3000, balance: 7000 });
    await t.expect(req('0220', { pan: done, amount: 1000, orig: hold }), {
      rc: '00',
      amount: 1000,
      balance: 9000,
    });
    expect(await stack.restart()).toEqual({ code: 0, signal: null });
    expect(await heldBecomes(open, 0), 'the hold was not released after the restart').toBeDefined();
    await sleep(INTERVAL_MS * 4);
    await accounts.expectState(open, { balance: 10_000, held: 0 });
    await accounts.expectState(done, { balance: 9000, held: 0 });
  });
});

describe('across the whole file', () => {
  it('rrns and authCodes repeat only as replays of the same key; no PAN in the switch’s output', () => {
    expect(book.count).toBeGreaterThan(50);
    expect(book.clashes).toEqual([]);
    expect(leakedPans(stack.allOutput(), accounts.pans)).toEqual([]);
  });
});
