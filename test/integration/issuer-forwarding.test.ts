/**
 * Issuer routing's forwarding (docs/issuers.md, docs/protocol.md section 4) over real sockets,
 * the real switch process and a real Redis: the request forwarded to a signed-on issuer with a
 * switch id, `acquirer` and `rrn`; the answer relayed under the acquirer's id with the switch's
 * rrn; exactly-once (a duplicate answered again with no second forward, a copy while the
 * original is with the issuer waiting for its answer, across a restart too); the timeout (91,
 * the late answer not relayed); an answer that breaks the contract counting as none; an
 * issuer with no connection (91 at once); several connections of one issuer taking turns.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdviceRecord, decodeAdvice } from '../../src/runtime/storage/state-codec.js';
import { keySpace } from '../../src/store/keys.js';
import { at, ClientPool } from '../helpers/harness.js';
import { byId, makePan, responseMti, tx } from '../helpers/messages.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import type { RawClient } from '../helpers/raw-client.js';
import { RestartableStack } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { devRefs } from '../helpers/test-keys.js';
import type { Msg } from '../helpers/wire.js';

const acq = makeInstitution('acq-fwd', 'acquirer');
const iss = makeInstitution('iss-fwd', 'issuer');
const away = makeInstitution('iss-away', 'issuer');
/** An issuer that never signs on here, with stand-in limits: every transaction is stood in for or refused. */
const standing = makeInstitution('iss-si', 'issuer');
const STAND_IN = { perTxnMax: 1_000, dailyMax: 1_500 };
/** An issuer whose advices are delivered: it signs on after stand-ins were queued for it. */
const late = makeInstitution('iss-late', 'issuer');
const ISSUER_TIMEOUT_MS = 1_500;

let stack: RestartableStack;
const pool = new ClientPool();

/** The delivery's cursor of `issuer` (the stream id up to which every advice is acknowledged). */
async function cursorOf(issuer: string): Promise<string> {
  const redis = new Redis(stack.redis.url);
  try {
    return (await redis.get(`${keySpace().advices(issuer)}:cursor`)) ?? '0';
  } finally {
    redis.disconnect();
  }
}

/** Acknowledged advices beyond the cursor. */
async function ackedOf(issuer: string): Promise<number> {
  const redis = new Redis(stack.redis.url);
  try {
    return await redis.scard(`${keySpace().advices(issuer)}:acked`);
  } finally {
    redis.disconnect();
  }
}

/** The advices queued for `issuer` in Redis, decoded (the PAN sealed: the test opens it with the switch's keys). */
async function advicesOf(issuer: string): Promise<AdviceRecord[]> {
  const redis = new Redis(stack.redis.url);
  try {
    const entries = await redis.xrangeBuffer(keySpace().advices(issuer), '-', '+');
    return entries.map(([, fields]) => decodeAdvice(fields[1]!));
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  stack = await RestartableStack.start({
    config: {
      institutions: [
        institutionEntry(acq),
        institutionEntry(iss),
        institutionEntry(away),
        { ...institutionEntry(standing), standIn: STAND_IN },
        { ...institutionEntry(late), standIn: { perTxnMax: 1_000_000, dailyMax: 10_000_000 } },
      ],
      routes: [
        { prefix: '4', issuer: 'local' },
        { prefix: '5', issuer: 'iss-fwd' },
        { prefix: '37', issuer: 'iss-away' },
        { prefix: '6', issuer: 'iss-si' },
        { prefix: '35', issuer: 'iss-late' },
      ],
      issuerTimeoutMs: ISSUER_TIMEOUT_MS,
      // Two records per PAN in memory, no evicted keys filed: once a PAN had more, work on it reads
      // every key it names that is not in memory.
      ledger: { recordsPerActorMax: 2, evictedKeysMax: 0 },
    },
  });
});

afterEach(() => pool.closeAll());

afterAll(async () => {
  pool.closeAll();
  await stack?.dispose();
});

/** The MTI an issuer answers `request` with. */
function responseMtiOf(request: Msg): string {
  return responseMti(request['mti'] as string);
}

/** The forward of `request` as the issuer got it. */
function forwardOf(issuer: RawClient, request: Msg): Promise<Msg> {
  return issuer.nextMessage((m) => m['mti'] === request['mti'] && m['stan'] === request['stan']);
}

function forwardsOf(issuer: RawClient, request: Msg): Msg[] {
  return issuer.received.filter((m) => m['mti'] === request['mti'] && m['stan'] === request['stan']);
}

async function parties(): Promise<{ acquirer: RawClient; issuer: RawClient }> {
  const issuer = await pool.signedOn(at(stack.sw, 'tcp'), iss);
  const acquirer = await pool.signedOn(at(stack.sw, 'tcp'), acq);
  return { acquirer, issuer };
}

describe('forwarding to an issuer', () => {
  it('forwards with a switch id, acquirer and rrn, and relays the answer under the acquirer’s id with that rrn', async () => {
    const { acquirer, issuer } = await parties();
    // A string id: the forward's id is the switch's own, whatever the acquirer's looks like.
    const base = tx('0100', { pan: makePan('5'), amount: 1_250 });
    const request: Msg = { ...base, id: `acq-${String(base['stan'])}`, merchant: 'Shop 7' };
    acquirer.send(request);
    const forward = await forwardOf(issuer, request);
    expect(forward).toMatchObject({
      mti: '0100',
      stan: request['stan'],
      time: request['time'],
      pan: request['pan'],
      amount: 1_250,
      currency: request['currency'],
      proc: '00',
      merchant: 'Shop 7',
      acquirer: 'acq-fwd',
    });
    expect(forward['id']).not.toEqual(request['id']);
    expect(forward['rrn']).toMatch(/^.{12}$/);
    issuer.send({ mti: '0110', id: forward['id'], rc: '00', authCode: 'ISS001', amount: 1_250, balance: 99 });
    expect(await acquirer.nextMessage(byId(request['id']))).toEqual({
      mti: '0110',
      id: request['id'],
      stan: request['stan'],
      rc: '00',
      rrn: forward['rrn'],
      authCode: 'ISS001',
      amount: 1_250,
      balance: 99,
    });
  });

  it('answers a duplicate of an answered transaction identically without a second forward, across a restart too', async () => {
    const { acquirer, issuer } = await parties();
    const request = tx('0200', { pan: makePan('5'), amount: 700 });
    acquirer.send(request);
    const forward = await forwardOf(issuer, request);
    issuer.send({ mti: '0210', id: forward['id'], rc: '05' });
    const first = await acquirer.nextMessage(byId(request['id']));
    expect(first).toMatchObject({ rc: '05', rrn: forward['rrn'] });
    const again = { ...request, id: `${String(request['id'])}-again` };
    acquirer.send(again);
    expect(await acquirer.nextMessage(byId(again['id']))).toEqual({ ...first, id: again['id'] });
    await stack.restart();
    const after = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const issuerAfter = await pool.signedOn(at(stack.sw, 'tcp'), iss);
    const third = { ...request, mti: '0201', id: `${String(request['id'])}-third` };
    after.send(third);
    expect(await after.nextMessage(byId(third['id']))).toEqual({ ...first, mti: '0210', id: third['id'] });
    expect(forwardsOf(issuer, request)).toHaveLength(1);
    expect(issuerAfter.received.filter((m) => m['stan'] === request['stan'])).toHaveLength(0);
    // The restarted switch's forward ids are none of the last one's: a late answer cannot match them.
    const fresh = tx('0100', { pan: makePan('5'), amount: 5 });
    after.send(fresh);
    const freshForward = await forwardOf(issuerAfter, fresh);
    expect(freshForward['id']).toBeGreaterThan(forward['id'] as number);
  });

  it('forwards two copies in one frame once; the copy waits for the original’s answer', async () => {
    const { acquirer, issuer } = await parties();
    const request = tx('0100', { pan: makePan('5'), amount: 300 });
    const copy = { ...request, mti: '0101', id: `${String(request['id'])}-copy` };
    acquirer.send([request, copy]);
    const forward = await forwardOf(issuer, request);
    issuer.send({ mti: '0110', id: forward['id'], rc: '00', authCode: 'ISS002' });
    const answers = await Promise.all([
      acquirer.nextMessage(byId(request['id'])),
      acquirer.nextMessage(byId(copy['id'])),
    ]);
    expect(answers[0]).toMatchObject({ rc: '00', authCode: 'ISS002', rrn: forward['rrn'] });
    expect(answers[1]).toMatchObject({ rc: '00', authCode: 'ISS002', rrn: forward['rrn'] });
    expect(issuer.received.filter((m) => m['stan'] === request['stan'])).toHaveLength(1);
  });

  it('times out to 91 and does not relay the late answer; the issuer stays connected', async () => {
    const { acquirer, issuer } = await parties();
    const request = tx('0100', { pan: makePan('5'), amount: 400 });
    const sentAtMs = Date.now();
    acquirer.send(request);
    const forward = await forwardOf(issuer, request);
    const answer = await acquirer.nextMessage(byId(request['id']), ISSUER_TIMEOUT_MS + EVENTUALLY_MS);
    expect(Date.now() - sentAtMs).toBeGreaterThanOrEqual(ISSUER_TIMEOUT_MS - 50);
    expect(answer).toMatchObject({ mti: '0110', rc: '91', rrn: forward['rrn'] });
    expect(answer['authCode']).toBeUndefined();
    issuer.send({ mti: '0110', id: forward['id'], rc: '00', authCode: 'LATE01' });
    // The duplicate gets the 91 the switch gave, not the late approval.
    const again = { ...request, id: `${String(request['id'])}-again` };
    acquirer.send(again);
    expect(await acquirer.nextMessage(byId(again['id']))).toMatchObject({ rc: '91', rrn: forward['rrn'] });
    expect(issuer.isClosed).toBe(false);
    // The issuer may have approved it: a reversal advice naming it was queued with the 91.
    const reversal = (await advicesOf('iss-fwd')).find((a) => a.rrn === forward['rrn']);
    expect(reversal).toMatchObject({
      id: `${String(forward['rrn'])}.0420`,
      mti: '0420',
      stan: request['stan'],
      time: request['time'],
      origStan: request['stan'],
      origTime: request['time'],
      acquirer: 'acq-fwd',
    });
  });

  it('takes an answer that breaks the contract for no answer', async () => {
    const { acquirer, issuer } = await parties();
    const broken: Array<Record<string, unknown>> = [
      { rc: '00' }, // 00 without authCode
      { rc: '10', authCode: 'P1', amount: 100 }, // 10 without partial
      { rc: '00', authCode: 'A1', amount: 10_000 }, // above the request's amount
      { rc: 'ZZ' }, // unknown rc
    ];
    const requests = broken.map(() => tx('0100', { pan: makePan('5'), amount: 500 }));
    acquirer.send(requests);
    for (const [i, request] of requests.entries()) {
      const forward = await forwardOf(issuer, request);
      issuer.send({ mti: '0110', id: forward['id'], ...broken[i] });
    }
    for (const request of requests) {
      expect(
        await acquirer.nextMessage(byId(request['id']), ISSUER_TIMEOUT_MS + EVENTUALLY_MS),
      ).toMatchObject({
        rc: '91',
      });
    }
    expect(issuer.isClosed).toBe(false);
  });

  it('answers 91 at once when the issuer has no signed-on connection', async () => {
    const acquirer = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const request = tx('0200', { pan: makePan('37'), amount: 100 });
    const sentAtMs = Date.now();
    acquirer.send(request);
    expect(await acquirer.nextMessage(byId(request['id']))).toMatchObject({ mti: '0210', rc: '91' });
    expect(Date.now() - sentAtMs).toBeLessThan(ISSUER_TIMEOUT_MS);
  });

  it('spreads forwards over the issuer’s connections', async () => {
    const acquirer = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const first = await pool.signedOn(at(stack.sw, 'tcp'), iss);
    const second = await pool.signedOn(at(stack.sw, 'ws'), iss);
    const requests = Array.from({ length: 6 }, () => tx('0100', { pan: makePan('5'), amount: 10 }));
    for (const request of requests) acquirer.send(request);
    const forwards = (client: RawClient) => client.received.filter((m) => m['mti'] === '0100');
    await waitFor(() => forwards(first).length + forwards(second).length === requests.length, EVENTUALLY_MS);
    for (const client of [first, second])
      for (const m of forwards(client))
        client.send({ mti: '0110', id: m['id'], rc: '00', authCode: 'RR0001' });
    for (const request of requests) {
      expect(await acquirer.nextMessage(byId(request['id']))).toMatchObject({ rc: '00', authCode: 'RR0001' });
    }
    const taken = (client: RawClient) => client.received.filter((m) => m['mti'] === '0100').length;
    expect(taken(first) + taken(second)).toBe(6);
    expect(taken(first)).toBeGreaterThan(0);
    expect(taken(second)).toBeGreaterThan(0);
  });

  it('stands in within the issuer’s limits when it is away: S authCodes, advices queued with the answer, per PAN per day', async () => {
    const acquirer = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const pan = makePan('6');
    const send = async (mti: string, amount: number, proc?: string): Promise<Msg> => {
      const request: Msg = { ...tx(mti, { pan, amount }), ...(proc === undefined ? {} : { proc }) };
      acquirer.send(request);
      return acquirer.nextMessage(byId(request['id']));
    };
    const hold = await send('0100', 500);
    expect(hold).toMatchObject({ mti: '0110', rc: '00', amount: 500 });
    expect(hold['authCode']).toMatch(/^S[0-9A-Z]{5}$/);
    expect(await send('0100', STAND_IN.perTxnMax + 1)).toMatchObject({ rc: '91' });
    const purchase = await send('0200', 900);
    expect(purchase).toMatchObject({ mti: '0210', rc: '00', amount: 900 });
    // 500 + 900 stood in today: 200 more would pass dailyMax.
    expect(await send('0100', 200)).toMatchObject({ rc: '91' });
    expect(await send('0100', 10, '31')).toMatchObject({ rc: '91' });
    const advices = await advicesOf('iss-si');
    expect(advices.map((a) => [a.mti, a.amount, a.authCode])).toEqual([
      ['0120', 500, hold['authCode']],
      ['0220', 900, purchase['authCode']],
    ]);
    expect(advices[0]).toMatchObject({
      id: `${String(hold['rrn'])}.0120`,
      rrn: hold['rrn'],
      acquirer: 'acq-fwd',
    });
    expect(advices[0]!.panMasked).toMatch(/^6\d{5}\*+\d{4}$/);
    // The PAN is sealed for the advice alone (its id is the record id).
    expect(devRefs.openPan(advices[0]!.panSealed, advices[0]!.id)).toBe(pan);
    expect(() => devRefs.openPan(advices[0]!.panSealed, advices[1]!.id)).toThrow();
  });

  it('delivers advices in queue order once the issuer signs on, repeats the unacknowledged with their ids, and never resends an acknowledged one after a restart', async () => {
    const acquirer = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const requests = [
      tx('0100', { pan: makePan('35'), amount: 100 }),
      tx('0200', { pan: makePan('35'), amount: 200 }),
    ];
    requests.push(tx('0100', { pan: makePan('35'), amount: 300 }));
    const answers: Msg[] = [];
    for (const request of requests) {
      acquirer.send(request);
      answers.push(await acquirer.nextMessage(byId(request['id'])));
    }
    expect(answers.map((a) => a['rc'])).toEqual(['00', '00', '00']);
    const issuer = await pool.signedOn(at(stack.sw, 'tcp'), late);
    const isAdvice = (m: Msg) => ['0120', '0121', '0220', '0221'].includes(m['mti'] as string);
    const first = await issuer.collect(isAdvice, 3);
    expect(first.map((m) => [m['mti'], m['id'], m['pan'], m['amount'], m['authCode']])).toEqual(
      requests.map((r, i) => [
        r['mti'] === '0100' ? '0120' : '0220',
        `${String(answers[i]!['rrn'])}.${r['mti'] === '0100' ? '0120' : '0220'}`,
        r['pan'],
        r['amount'],
        answers[i]!['authCode'],
      ]),
    );
    expect(first[0]).toMatchObject({
      acquirer: 'acq-fwd',
      rrn: answers[0]!['rrn'],
      stan: requests[0]!['stan'],
    });
    // Only the first is acknowledged: the other two come again as repeats, same ids, after issuerTimeoutMs.
    issuer.send({ mti: '0130', id: first[0]!['id'], rc: '00' });
    const repeats = await issuer.collect(
      (m) => m['mti'] === '0221' || m['mti'] === '0121',
      2,
      ISSUER_TIMEOUT_MS + EVENTUALLY_MS,
    );
    expect(repeats.map((m) => [m['mti'], m['id']])).toEqual([
      ['0221', first[1]!['id']],
      ['0121', first[2]!['id']],
    ]);
    issuer.send([
      { mti: '0230', id: first[1]!['id'], rc: '00' },
      { mti: '0130', id: first[2]!['id'], rc: '00' },
    ]);
    // Acknowledged before the restart: after it, the next advice the issuer gets is a new one.
    await waitFor(
      async () => (await cursorOf('iss-late')) !== '0' && (await ackedOf('iss-late')) === 0,
      EVENTUALLY_MS,
    );
    await stack.restart();
    const acquirerAfter = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const issuerAfter = await pool.signedOn(at(stack.sw, 'tcp'), late);
    const fresh = tx('0100', { pan: makePan('35'), amount: 400 });
    acquirerAfter.send(fresh);
    const freshAnswer = await acquirerAfter.nextMessage(byId(fresh['id']));
    const next = await issuerAfter.nextMessage(isAdvice);
    expect(next).toMatchObject({ mti: '0120', id: `${String(freshAnswer['rrn'])}.0120`, amount: 400 });
  });

  it('answers completions and reversals itself and tells the issuer by advice: 0220 and 0420 with orig, 13, 25 with a 0420, 05 after it', async () => {
    const { acquirer, issuer } = await parties();
    const approve = async (request: Msg): Promise<Msg> => {
      acquirer.send(request);
      const forward = await forwardOf(issuer, request);
      issuer.send({ mti: responseMtiOf(request), id: forward['id'], rc: '00', authCode: 'ISS777' });
      return acquirer.nextMessage(byId(request['id']));
    };
    const ask = async (request: Msg): Promise<Msg> => {
      acquirer.send(request);
      return acquirer.nextMessage(byId(request['id']));
    };
    const origOf = (m: Msg) => ({ stan: m['stan'], time: m['time'] });
    const hold = tx('0100', { pan: makePan('5'), amount: 1_000 });
    expect(await approve(hold)).toMatchObject({ rc: '00' });
    expect(
      await ask({ ...tx('0220', { pan: hold['pan'] as string, amount: 1_001 }), orig: origOf(hold) }),
    ).toMatchObject({
      mti: '0230',
      rc: '13',
    });
    const completion: Msg = {
      ...tx('0220', { pan: hold['pan'] as string, amount: 800 }),
      orig: origOf(hold),
    };
    const completed = await ask(completion);
    expect(completed).toMatchObject({ mti: '0230', rc: '00' });
    expect(completed['rrn']).toMatch(/^.{12}$/);
    const purchase = tx('0200', { pan: makePan('5'), amount: 600 });
    expect(await approve(purchase)).toMatchObject({ rc: '00' });
    const reversal: Msg = {
      ...tx('0400', { pan: purchase['pan'] as string, amount: 600 }),
      orig: origOf(purchase),
    };
    expect(await ask(reversal)).toMatchObject({ mti: '0410', rc: '00' });
    // A reversal of what the switch never saw: 25, a 0420 for the issuer, and the original refused later.
    const unseen = tx('0200', { pan: makePan('5'), amount: 50 });
    const blind: Msg = { ...tx('0400', { pan: unseen['pan'] as string, amount: 50 }), orig: origOf(unseen) };
    expect(await ask(blind)).toMatchObject({ mti: '0410', rc: '25' });
    expect(await ask(unseen)).toMatchObject({ mti: '0210', rc: '05' });
    expect(issuer.received.filter((m) => m['stan'] === unseen['stan'])).toHaveLength(0);
    const advices = await advicesOf('iss-fwd');
    const about = (stan: unknown) => advices.filter((a) => a.stan === stan);
    expect(about(completion['stan'])).toEqual([
      expect.objectContaining({ mti: '0220', amount: 800, origStan: hold['stan'], origTime: hold['time'] }),
    ]);
    expect(about(reversal['stan'])).toEqual([
      expect.objectContaining({
        mti: '0420',
        amount: 600,
        origStan: purchase['stan'],
        origTime: purchase['time'],
      }),
    ]);
    expect(about(blind['stan'])).toEqual([
      expect.objectContaining({
        mti: '0420',
        amount: 50,
        origStan: unseen['stan'],
        origTime: unseen['time'],
      }),
    ]);
  });

  it('holds a reversal that arrives while its original is with the issuer, then reverses what the issuer approved', async () => {
    const { acquirer, issuer } = await parties();
    const purchase = tx('0200', { pan: makePan('5'), amount: 250 });
    acquirer.send(purchase);
    const forward = await forwardOf(issuer, purchase);
    const reversal: Msg = {
      ...tx('0400', { pan: purchase['pan'] as string, amount: 250 }),
      orig: { stan: purchase['stan'], time: purchase['time'] },
    };
    acquirer.send(reversal);
    issuer.send({ mti: '0210', id: forward['id'], rc: '00', authCode: 'ISS888' });
    expect(await acquirer.nextMessage(byId(purchase['id']))).toMatchObject({ rc: '00', authCode: 'ISS888' });
    // Never 25 for having come early: it reverses the approval, and the issuer is told.
    expect(await acquirer.nextMessage(byId(reversal['id']))).toMatchObject({ mti: '0410', rc: '00' });
    expect((await advicesOf('iss-fwd')).filter((a) => a.stan === reversal['stan'])).toEqual([
      expect.objectContaining({ mti: '0420', origStan: purchase['stan'] }),
    ]);
  });

  it('answers a completion and a reversal that both waited for their original, each fetching evicted records', async () => {
    const { acquirer, issuer } = await parties();
    const pan = makePan('5');
    // Three answered transactions first: the PAN's older records leave memory (two are kept).
    for (const amount of [11, 12, 13]) {
      const earlier = tx('0200', { pan, amount });
      acquirer.send(earlier);
      const forward = await forwardOf(issuer, earlier);
      issuer.send({ mti: '0210', id: forward['id'], rc: '00', authCode: 'ISS100' });
      expect(await acquirer.nextMessage(byId(earlier['id']))).toMatchObject({ rc: '00' });
    }
    const hold = tx('0100', { pan, amount: 400 });
    acquirer.send(hold);
    const forward = await forwardOf(issuer, hold);
    const orig = { stan: hold['stan'], time: hold['time'] };
    const completion: Msg = { ...tx('0220', { pan, amount: 300 }), orig };
    const reversal: Msg = { ...tx('0400', { pan, amount: 400 }), orig };
    acquirer.send([completion, reversal]);
    issuer.send({ mti: '0110', id: forward['id'], rc: '00', authCode: 'ISS101' });
    expect(await acquirer.nextMessage(byId(hold['id']))).toMatchObject({ rc: '00', authCode: 'ISS101' });
    // In arrival order once the hold is approved: the completion posts 300, the reversal credits it back.
    expect(await acquirer.nextMessage(byId(completion['id']))).toMatchObject({ mti: '0230', rc: '00' });
    expect(await acquirer.nextMessage(byId(reversal['id']))).toMatchObject({ mti: '0410', rc: '00' });
  });

  it('drains forwards on SIGTERM: an answer the issuer gives while the switch stops is still relayed', async () => {
    const { acquirer, issuer } = await parties();
    const request = tx('0100', { pan: makePan('5'), amount: 77 });
    acquirer.send(request);
    const forward = await forwardOf(issuer, request);
    const stopping = stack.sw;
    const restarted = stack.restart();
    // Answered only once the switch is shutting down: the relay is the drain's, not the normal path's.
    await waitFor(
      () => stopping.stdout.some((line) => line.includes('"msg":"shutting down"')),
      EVENTUALLY_MS,
    );
    issuer.send({ mti: '0110', id: forward['id'], rc: '00', authCode: 'DRAIN1' });
    expect(await acquirer.nextMessage(byId(request['id']))).toMatchObject({ rc: '00', authCode: 'DRAIN1' });
    expect((await restarted).code).toBe(0);
  });
});
