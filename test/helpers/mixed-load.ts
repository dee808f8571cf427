/**
 * A short mixed load over a real switch, for the observability test: on-us approvals and
 * declines (51, 14), format errors (30), a reject notice (0620), issuer-routed approvals and a
 * decline through an issuer host this test plays, an issuer timeout answered by stand-in with
 * its advice delivered and acknowledged, and a clearing cycle. It counts what the switch
 * answered, so the metrics can be compared with what really happened.
 */
import { expect } from 'vitest';
import { RESPONSE_MTIS } from '../../src/observability/metric-catalog.js';
import { admin } from './harness.js';
import { Accounts, req } from './ledger.js';
import { byId, makePan, nextId } from './messages.js';
import { EVENTUALLY_MS, waitFor } from './processes.js';
import type { RawClient } from './raw-client.js';
import type { SwitchProcess } from './switch-process.js';
import type { Msg } from './wire.js';

export interface LoadParties {
  readonly sw: SwitchProcess;
  /** Signed on as the acquirer. */
  readonly acquirer: RawClient;
  /** Signed on as the issuer the `issuerPrefix` route leads to. */
  readonly issuer: RawClient;
  readonly issuerPrefix: string;
  readonly issuerTimeoutMs: number;
  /** Within the issuer's stand-in limits. */
  readonly standInAmount: number;
  /**
   * Called while the stand-in's advice is delivered and not yet acknowledged; the advice is
   * acknowledged once it returns (the test waits here for Prometheus to see the queue).
   */
  readonly whileAdviceQueued: () => Promise<void>;
}

export interface LoadTally {
  /** Responses the switch wrote to the acquirer and the issuer host, by `mti|rc`. */
  readonly responses: ReadonlyMap<string, number>;
  /** On-us accounts the load used (each has an actor). */
  readonly onUsAccounts: number;
  /** On-us approvals (each a work item of some group commit). */
  readonly onUsApprovals: number;
  readonly issuerApproved: number;
  readonly issuerDeclined: number;
  readonly issuerTimedOut: number;
  /** The clearing cycle the load cut and saw done. */
  readonly clearingCycle: number;
  /** Date.now() once everything above had happened. */
  readonly endedAtMs: number;
}

const APPROVAL_ROUNDS = 4;
const FUNDED_ACCOUNTS = 8;
const DECLINES_51 = 10;
const UNKNOWN_CARDS = 10;
const ISSUER_APPROVALS = 3;

/** Sends `requests` in one frame and waits for each answer; the answers in request order. */
async function exchange(client: RawClient, requests: Msg[], timeoutMs = EVENTUALLY_MS): Promise<Msg[]> {
  client.send(requests);
  return Promise.all(requests.map((r) => client.nextMessage(byId(r['id']), timeoutMs)));
}

function expectRcs(answers: Msg[], mti: string, rc: string, what: string): void {
  expect(
    answers.map((a) => `${String(a['mti'])} ${String(a['rc'])}`),
    what,
  ).toEqual(answers.map(() => `${mti} ${rc}`));
}

async function onUs(sw: SwitchProcess, acquirer: RawClient) {
  const accounts = new Accounts(() => sw, sw.config.admin?.token ?? '');
  const funded: string[] = [];
  for (let i = 0; i < FUNDED_ACCOUNTS; i++) funded.push(await accounts.create({ balance: 1_000_000 }));
  let approvals = 0;
  for (let round = 0; round < APPROVAL_ROUNDS; round++) {
    const requests = funded.map((pan, i) => req(i % 2 === 0 ? '0100' : '0200', { pan, amount: 100 + round }));
    const answers = await exchange(acquirer, requests);
    expect(
      answers.map((a) => a['rc']),
      'on-us approvals',
    ).toEqual(requests.map(() => '00'));
    approvals += answers.length;
  }
  const poor = await accounts.create({ balance: 50 });
  const declines = Array.from({ length: DECLINES_51 }, () => req('0200', { pan: poor, amount: 1_000 }));
  expectRcs(await exchange(acquirer, declines), '0210', '51', 'insufficient funds');
  const unknown = Array.from({ length: UNKNOWN_CARDS }, () => req('0100', { pan: makePan('4'), amount: 10 }));
  expectRcs(await exchange(acquirer, unknown), '0110', '14', 'no such account');
  const badAmount = [1, 2, 3].map(() => req('0100', { pan: funded[0]!, amount: -5 }));
  expectRcs(await exchange(acquirer, badAmount), '0110', '30', 'negative amount');
  const badCurrency = [1, 2].map(() => req('0200', { pan: funded[1]!, amount: 5, currency: 'euro' }));
  expectRcs(await exchange(acquirer, badCurrency), '0210', '30', 'bad currency');
  const unknownMti = [{ mti: '0999', id: nextId() }];
  expectRcs(await exchange(acquirer, unknownMti), '0620', '12', 'unknown MTI');
  return { accounts: FUNDED_ACCOUNTS + 1, approvals };
}

/** The forward of `request` as the issuer host got it. */
function forwardOf(issuer: RawClient, request: Msg): Promise<Msg> {
  return issuer.nextMessage((m) => m['mti'] === request['mti'] && m['stan'] === request['stan']);
}

async function issuerRouted(p: LoadParties) {
  const { acquirer, issuer } = p;
  const answered = async (request: Msg, answer: Msg): Promise<Msg> => {
    acquirer.send(request);
    const forward = await forwardOf(issuer, request);
    issuer.send({ ...answer, id: forward['id'] });
    return acquirer.nextMessage(byId(request['id']));
  };
  for (let i = 0; i < ISSUER_APPROVALS; i++) {
    const request = req('0100', { pan: makePan(p.issuerPrefix), amount: 700 });
    const answer = await answered(request, { mti: '0110', rc: '00', authCode: `ISS00${i}`, amount: 700 });
    expect(answer, 'issuer approval').toMatchObject({ mti: '0110', rc: '00', authCode: `ISS00${i}` });
  }
  const declined = await answered(req('0200', { pan: makePan(p.issuerPrefix), amount: 800 }), {
    mti: '0210',
    rc: '05',
  });
  expect(declined, 'issuer decline').toMatchObject({ mti: '0210', rc: '05' });

  // The issuer host stays silent: after issuerTimeoutMs the switch stands in and queues an advice.
  const late = req('0100', { pan: makePan(p.issuerPrefix), amount: p.standInAmount });
  acquirer.send(late);
  await forwardOf(issuer, late);
  const standIn = await acquirer.nextMessage(byId(late['id']), p.issuerTimeoutMs + EVENTUALLY_MS);
  expect(standIn, 'stand-in after the issuer timed out').toMatchObject({ mti: '0110', rc: '00' });
  expect(String(standIn['authCode']), 'a stand-in authCode').toMatch(/^S/);
  const advice = await issuer.nextMessage(
    (m) => (m['mti'] === '0120' || m['mti'] === '0121') && m['rrn'] === standIn['rrn'],
    p.issuerTimeoutMs + EVENTUALLY_MS,
  );
  await p.whileAdviceQueued();
  issuer.send({ mti: '0130', id: advice['id'], rc: '00' });
  return { approved: ISSUER_APPROVALS, declined: 1, timedOut: 1 };
}

async function clearingCycle(sw: SwitchProcess): Promise<number> {
  const token = sw.config.admin?.token ?? '';
  const cutoff = await admin(sw, 'POST', '/clearing/cutoff', { token });
  expect(cutoff.status, cutoff.text).toBe(200);
  const cycle = (cutoff.json as { cycle: number }).cycle;
  let last = '';
  const done = await waitFor(
    async () => {
      const answer = await admin(sw, 'GET', `/clearing/cycles/${cycle}`, { token });
      last = `${answer.status} ${answer.text}`;
      return answer.status === 200 && (answer.json as { status?: string }).status === 'done';
    },
    30_000,
    100,
  );
  expect(done, `clearing cycle ${cycle} not done within 30 s: ${last}`).toBe(true);
  return cycle;
}

/** Every response either host received from the switch, by `mti|rc`. */
function tallyResponses(clients: readonly RawClient[]): Map<string, number> {
  const responseMtis = new Set<string>(RESPONSE_MTIS);
  const tally = new Map<string, number>();
  for (const client of clients) {
    for (const m of client.received) {
      const mti = String(m['mti']);
      if (!responseMtis.has(mti)) continue;
      const key = `${mti}|${m['rc'] === undefined ? 'none' : String(m['rc'])}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
  }
  return tally;
}

export async function runMixedLoad(p: LoadParties): Promise<LoadTally> {
  const onUsDone = await onUs(p.sw, p.acquirer);
  const issuerDone = await issuerRouted(p);
  const clearingCycleDone = await clearingCycle(p.sw);
  return {
    responses: tallyResponses([p.acquirer, p.issuer]),
    onUsAccounts: onUsDone.accounts,
    onUsApprovals: onUsDone.approvals,
    issuerApproved: issuerDone.approved,
    issuerDeclined: issuerDone.declined,
    issuerTimedOut: issuerDone.timedOut,
    clearingCycle: clearingCycleDone,
    endedAtMs: Date.now(),
  };
}
