/**
 * A ledger slot's owner handed over between its worker thread and the main
 * thread (LedgerEngine.moveSlot), many times, under a steady seeded load of
 * purchases, holds, completions, reversals and duplicates on many accounts,
 * with a real Redis and real worker threads. One writer per account must
 * hold throughout: every request is answered and none 96, a duplicate gets
 * the first answer, the journal has each approval's effect once, and each
 * account's balance and held equal its journal's sums. Also: a handover
 * waits while a forward is out, and a worker that crashes while it owns (or
 * while the main thread owns) comes back without losing the slot.
 * Seed: SWITCHYARD_SEED (printed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage, TxnRequest } from '../../src/protocol/request.js';
import type { TxnContext } from '../../src/protocol/txn-context.js';
import type { LedgerEngine } from '../../src/runtime/ledger-engine.js';
import type { ForwardOrder } from '../../src/runtime/worker/worker-protocol.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { journalTotals, readJournal } from '../helpers/ledger-journal.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { SeededRng } from '../helpers/seeded-rng.js';
import { startEngineWithAccounts } from '../helpers/test-engine.js';
import { devRefs } from '../helpers/test-keys.js';
import { txnRequest } from '../helpers/txn-request.js';

const redis = useRedisServer();
const seed = Number(process.env['SWITCHYARD_SEED'] ?? 20_2026);
console.log(`ledger-handover seed ${seed}`);

const OPENING = 10_000_000;
const pans = Array.from({ length: 64 }, (_, i) => withLuhnDigit(`43000000${String(i).padStart(7, '0')}`));

function ask(engine: LedgerEngine, request: TxnRequest, issuer = 'local'): Promise<OutboundMessage> {
  return new Promise((resolve) => {
    const ctx: TxnContext = {
      request,
      institution: 'acq',
      issuer,
      receivedAtMs: performance.now(),
      replyTo: { deliver: (response) => resolve(response) },
    };
    engine.submit(ctx);
  });
}

describe('ledger slot handover between worker thread and main thread', () => {
  let engine: LedgerEngine;

  beforeAll(async () => {
    engine = await startEngineWithAccounts(redis, { pans, opening: OPENING });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('keeps one writer per account across many forced handovers under load', async () => {
    const rng = new SeededRng(seed);
    let stan = 0;
    const timeMs = 1_765_000_000_000;
    interface Sent {
      readonly request: TxnRequest;
      readonly answer: Promise<OutboundMessage>;
    }
    const sent: Sent[] = [];
    /** Approved holds and purchases, to complete and reverse later. */
    const holds: Sent[] = [];
    const purchases: Sent[] = [];
    const submit = (request: TxnRequest): Sent => {
      const s = { request, answer: ask(engine, request) };
      sent.push(s);
      return s;
    };

    // The mover: every slot back and forth for as long as the load runs.
    let loadDone = false;
    const moves = { inline: 0, worker: 0, gaveUp: 0 };
    const mover = (async () => {
      let to: 'inline' | 'worker' = 'inline';
      while (!loadDone) {
        const done = await Promise.all([engine.moveSlot(0, to), engine.moveSlot(1, to)]);
        for (const ok of done)
          if (ok) moves[to]++;
          else moves.gaveUp++;
        to = to === 'inline' ? 'worker' : 'inline';
        await new Promise((resolve) => setTimeout(resolve, rng.int(1, 15)));
      }
    })();

    const waves = 120;
    for (let wave = 0; wave < waves; wave++) {
      for (let i = 0; i < 25; i++) {
        const pan = pans[rng.int(0, pans.length - 1)]!;
        const roll = rng.next();
        const key = { stan: ++stan, time: timeMs + stan };
        if (roll < 0.4)
          purchases.push(
            submit(txnRequest({ txnClass: '0200', id: stan, ...key, pan, amount: rng.int(1, 900) })),
          );
        else if (roll < 0.6)
          holds.push(
            submit(txnRequest({ txnClass: '0100', id: stan, ...key, pan, amount: rng.int(100, 900) })),
          );
        else if (roll < 0.72 && holds.length > 0) {
          const hold = holds.splice(rng.int(0, holds.length - 1), 1)[0]!;
          const h = hold.request;
          submit(
            txnRequest({
              txnClass: '0220',
              id: stan,
              ...key,
              pan: h.pan,
              amount: rng.int(1, h.amount),
              origStan: h.stan,
              origTime: h.time,
            }),
          );
        } else if (roll < 0.82 && purchases.length > 0) {
          const p = purchases.splice(rng.int(0, purchases.length - 1), 1)[0]!.request;
          submit(
            txnRequest({
              txnClass: '0400',
              id: stan,
              ...key,
              pan: p.pan,
              amount: p.amount,
              origStan: p.stan,
              origTime: p.time,
            }),
          );
        } else if (sent.length > 0) {
          // A duplicate: the same request again (same key, same content) under a new id.
          const first = sent[rng.int(0, sent.length - 1)]!.request;
          submit({ ...first, id: ++stan + 1_000_000 });
        }
      }
      // One wave per event-loop turn or two: the load keeps coming while slots move.
      await new Promise((resolve) => setImmediate(resolve));
      if (wave % 10 === 9) await Promise.all(sent.slice(-50).map((s) => s.answer));
    }
    const answers = await Promise.race([
      Promise.all(sent.map((s) => s.answer)),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EVENTUALLY_MS * 3)),
    ]);
    loadDone = true;
    await mover;
    const context = `seed ${seed}, moves ${JSON.stringify(moves)}`;
    // No response lost.
    expect(answers, context).toBeDefined();
    const all = answers!;
    expect(moves.inline + moves.worker, context).toBeGreaterThanOrEqual(8);
    expect(moves.inline, context).toBeGreaterThan(0);
    expect(moves.worker, context).toBeGreaterThan(0);
    // A handover answers nothing 96: nothing was dropped or failed on the way.
    expect(all.filter((a) => a.rc === '96').length, context).toBe(0);

    // Exactly once: every answer for a key is the first one (rrn and authCode included).
    const firstOfKey = new Map<string, OutboundMessage>();
    all.forEach((answer, i) => {
      const r = sent[i]!.request;
      const k = `${r.pan}/${r.stan}/${r.time}`;
      const first = firstOfKey.get(k);
      if (first === undefined) firstOfKey.set(k, answer);
      else expect({ ...answer, id: first.id }, `${context}: duplicate of ${k}`).toEqual(first);
    });

    const rows = await readJournal(redis.server.url, pans, devRefs);
    // No rrn has two effects of one kind (I3), and every approval's effects are there (I1).
    const effects = new Map<string, number>();
    for (const row of rows) {
      if (row.mti === undefined) continue;
      const k = `${row.rrn}/${row.kind}`;
      effects.set(k, (effects.get(k) ?? 0) + 1);
    }
    for (const [k, n] of effects) expect(n, `${context}: ${k}`).toBe(1);
    for (const [k, answer] of firstOfKey) {
      if (answer.rc !== '00') continue;
      const cls = sent.find((s) => `${s.request.pan}/${s.request.stan}/${s.request.time}` === k)!.request
        .txnClass;
      const kind = { '0200': 'debit', '0100': 'hold', '0220': 'complete', '0400': 'credit' }[cls];
      const mine = rows.filter((row) => row.rrn === answer.rrn && row.kind === kind);
      expect(mine.length, `${context}: ${kind} of ${k}`).toBe(1);
    }
    // Each account is what its journal sums to.
    for (const pan of pans) {
      const view = await engine.admin({ k: 'get', pan });
      const totals = journalTotals(rows.filter((row) => row.pan === pan));
      expect(view, `${context}: ${pan}`).toMatchObject({
        ok: true,
        account: { balance: totals.balance, held: totals.held },
      });
    }
  });

  it('keeps the slot across a crash of its worker, whether the worker or the main thread owns', async () => {
    expect(await engine.moveSlot(0, 'worker')).toBe(true);
    await engine.crashWorker(0);
    expect(await engine.whenReady(EVENTUALLY_MS)).toBe(true);
    expect(engine.ownerKind(0)).toBe('worker');
    expect(await engine.moveSlot(0, 'inline')).toBe(true);
    // The idle worker dies: the main thread keeps serving, and the worker comes back idle.
    await engine.crashWorker(0);
    const view = await engine.admin({ k: 'get', pan: pans[0]! });
    expect(view.ok).toBe(true);
    expect(engine.ownerKind(0)).toBe('inline');
    // Back to the restarted worker once it is up.
    expect(await waitFor(async () => engine.moveSlot(0, 'worker'), EVENTUALLY_MS)).toBe(true);
    expect(engine.ownerKind(0)).toBe('worker');
    expect((await engine.admin({ k: 'get', pan: pans[0]! })).ok).toBe(true);
  });
});

describe('a handover and issuer forwards', () => {
  let engine: LedgerEngine;
  const forwards: ForwardOrder[] = [];

  beforeAll(async () => {
    engine = await startEngineWithAccounts(redis, {
      prefix: 'handover-fwd',
      pans,
      opening: OPENING,
      hooks: { onForward: (order) => forwards.push(order) },
    });
  });

  afterAll(async () => {
    await engine?.close();
  });

  /** A PAN of slot `slot` (shard % 2), and another of the same slot. */
  const panOfSlot = (slot: number, skip = 0) =>
    pans.filter((pan) => devRefs.shardOf(pan) % 2 === slot)[skip]!;
  const answered = (order: ForwardOrder) =>
    engine.issuerAnswer(order, {
      k: 'answered',
      rc: '00',
      authCode: 'A1B2C3',
      amount: undefined,
      balance: undefined,
    });

  /** Asks for a purchase routed to the issuer and waits until it is forwarded: its answer, and its slot's owner's other host. */
  async function forwardOut(pan: string, stan: number, amount: number) {
    const count = forwards.length;
    const answer = ask(engine, txnRequest({ txnClass: '0200', id: stan, stan, pan, amount }), 'iss');
    expect(await waitFor(() => forwards.length === count + 1, EVENTUALLY_MS)).toBe(true);
    const slot = devRefs.shardOf(pan) % 2;
    const before = engine.ownerKind(slot);
    return { answer, slot, before, other: before === 'worker' ? ('inline' as const) : ('worker' as const) };
  }

  it('does not start while a forward of the slot is out, and the slot keeps serving meanwhile', async () => {
    const {
      answer: forwarded,
      slot: slotOfIssuerPan,
      before,
      other,
    } = await forwardOut(withLuhnDigit('45000000000001'), 1, 500);
    // Gives up after handoverWaitMaxMs (250 ms): the forward's answer is not coming.
    const move = engine.moveSlot(slotOfIssuerPan, other);
    // Meanwhile the slot's own work is not held.
    const local = await ask(
      engine,
      txnRequest({ txnClass: '0200', id: 2, stan: 2, pan: panOfSlot(slotOfIssuerPan), amount: 10 }),
    );
    expect(local.rc).toBe('00');
    expect(await move).toBe(false);
    expect(engine.ownerKind(slotOfIssuerPan)).toBe(before);
    answered(forwards[0]!);
    expect((await forwarded).rc).toBe('00');
    // Nothing out: it moves.
    expect(await engine.moveSlot(slotOfIssuerPan, other)).toBe(true);
  });

  it('waits for a forward answered within handoverWaitMaxMs, then moves', async () => {
    const issuerPan = withLuhnDigit('45000000000002');
    const { answer: forwarded, slot, before, other } = await forwardOut(issuerPan, 3, 700);
    const move = engine.moveSlot(slot, other);
    answered(forwards[1]!);
    expect(await move).toBe(true);
    expect((await forwarded).rc).toBe('00');
    expect(engine.ownerKind(slot)).not.toBe(before);
    // The forwarded transaction's duplicate, asked of the new owner, is the first answer.
    const again = await ask(
      engine,
      txnRequest({ txnClass: '0200', id: 4, stan: 3, pan: issuerPan, amount: 700 }),
      'iss',
    );
    expect({ ...again, id: 3 }).toEqual(await forwarded);
  });
});

describe('a handover warms the new owner', () => {
  let engine: LedgerEngine;
  /** The last actorsActive each slot's owner reported (stats once a second). */
  const actorsActive = new Map<number, number>();
  const warmPans = Array.from({ length: 48 }, (_, i) =>
    withLuhnDigit(`43100000${String(i).padStart(7, '0')}`),
  );

  beforeAll(async () => {
    engine = await startEngineWithAccounts(redis, {
      prefix: 'warm:',
      pans: warmPans,
      opening: OPENING,
      hooks: { onStats: (workerId, stats) => actorsActive.set(workerId, stats.actorsActive) },
    });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it("loads the old owner's accounts before any traffic asks for them", async () => {
    const total = (): number => (actorsActive.get(0) ?? 0) + (actorsActive.get(1) ?? 0);
    // The workers have every account in memory (seeded through them).
    expect(await waitFor(() => total() === warmPans.length, EVENTUALLY_MS)).toBe(true);
    expect(await engine.moveSlot(0, 'inline')).toBe(true);
    expect(await engine.moveSlot(1, 'inline')).toBe(true);
    actorsActive.clear();
    // No traffic: only the handover's warm list can bring them into the new owners' memory.
    expect(await waitFor(() => total() === warmPans.length, EVENTUALLY_MS)).toBe(true);
    // And they answer from there.
    const view = await engine.admin({ k: 'get', pan: warmPans[5]! });
    expect(view.ok).toBe(true);
  });
});
