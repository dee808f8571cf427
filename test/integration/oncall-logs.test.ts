/**
 * The log lines a person on call needs (issue 19 item 5; docs/logging.md,
 * "Lines for on-call"), each provoked for real on one switch process with
 * its own redis-server: refused sign-ons (bad signature, unknown
 * institution, wrong role, a second sign-on), a sign-on timeout, a protocol
 * violation; an issuer that does not answer, that drops its connection with
 * forwards in flight, that has no connection, that does not acknowledge an
 * advice; a ledger worker crashed (an uncaught exception thrown on its
 * thread through the inspector) with transactions in flight, and answering
 * 96 while it restarts; a clearing cycle whose folder cannot be written; and
 * Redis killed with commits on their way. Each line must parse as JSON, carry
 * its constant message and level, and name its transactions as the acquirer
 * knows them (institution, stan, the rrn of the answer it got, the PAN
 * masked 6/4); a repeating event is rate-limited and counted. No full PAN
 * anywhere in the output.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { Accounts, leakedPans, masked } from '../helpers/ledger.js';
import { byId, echo, makePan, tx } from '../helpers/messages.js';
import { EVENTUALLY_MS, trackDir, waitFor } from '../helpers/processes.js';
import type { RawClient } from '../helpers/raw-client.js';
import { institutionEntry, makeInstitution, signOn } from '../helpers/signon.js';
import { crashWorkerThread, INSPECT_ENV } from '../helpers/thread-crash.js';
import type { Msg } from '../helpers/wire.js';

const TOKEN = 'oncall-logs-admin-token-5d2b';
const acq = makeInstitution('acq-oncall', 'acquirer');
const iss = makeInstitution('iss-oncall', 'issuer');
/** Short, so timeouts come quickly; long enough for this test's issuer to answer in time on a busy machine. */
const ISSUER_TIMEOUT_MS = 2_000;
const SIGNON_TIMEOUT_MS = 4_000;
/** RepeatLog's spacing (src/observability/repeat-log.ts). */
const REPEAT_INTERVAL_MS = 10_000;
/** BullMQ: 5 attempts, 2 s back-off doubling (src/clearing/clearing-jobs.ts): the last fails after about 30 s. */
const CLEARING_ATTEMPTS = 5;
const CLEARING_GIVES_UP_MS = 60_000;

type Line = Record<string, unknown>;

let stack: Stack;
let acquirer: RawClient;
let clearingCycle: number;
const pool = new ClientPool();
const accounts = new Accounts(() => stack.sw, TOKEN);
/** Every full PAN sent to the switch; none may appear in its output. */
const sent = new Set<string>();

/** A transaction request (prefix 4: on-us; 5: the issuer's route) whose PAN is remembered for the leak check. */
function txn(prefix: '4' | '5', mti = '0100'): Msg {
  const pan = makePan(prefix);
  sent.add(pan);
  return tx(mti, { pan, amount: 1_000 });
}

function parse(text: string): Line {
  try {
    return JSON.parse(text) as Line;
  } catch {
    throw new Error(`not a JSON log line: ${text.slice(0, 200)}`);
  }
}

function lines(msg: string): Line[] {
  return stack.sw.stdout
    .filter((text) => text.includes(msg))
    .map(parse)
    .filter((entry) => entry['msg'] === msg);
}

/** The first line with `msg` that `match` accepts, waiting for it. */
async function line(msg: string, match: (entry: Line) => boolean = () => true, timeoutMs = EVENTUALLY_MS) {
  let found: Line | undefined;
  const seen = await waitFor(() => {
    found = lines(msg).find(match);
    return found !== undefined;
  }, timeoutMs);
  if (!seen)
    throw new Error(
      `no "${msg}" line within ${timeoutMs} ms; last lines:\n${stack.sw.stdout.slice(-15).join('\n')}`,
    );
  return found!;
}

/** The ids a line gives of `request`, answered with `rrn`: as the acquirer knows them, the PAN masked. */
function idsOf(request: Msg, rrn: unknown): Line {
  return { institution: acq.id, stan: request['stan'], rrn, pan: masked(request['pan'] as string) };
}

async function ask(client: RawClient, request: Msg, timeoutMs = EVENTUALLY_MS): Promise<Msg> {
  client.send(request);
  return client.nextMessage(byId(request['id']), timeoutMs);
}

/** Sends and waits for the echo's answer: every frame before it has been read and handed on. */
async function barrier(client: RawClient): Promise<void> {
  await ask(client, echo());
}

/** The forward of `request` as its issuer gets it. */
function forwardOf(request: Msg): (m: Msg) => boolean {
  return (m) => m['mti'] === request['mti'] && m['stan'] === request['stan'];
}

/** One transaction forwarded to `issuer`, which declines it (05): the answer is relayed. */
async function declinedByIssuer(issuer: RawClient): Promise<void> {
  const request = txn('5');
  acquirer.send(request);
  const forward = await issuer.nextMessage(forwardOf(request));
  issuer.send({ mti: '0110', id: forward['id'], rc: '05' });
  expect((await acquirer.nextMessage(byId(request['id'])))['rc']).toBe('05');
}

function timeOf(entry: Line): number {
  return Date.parse(entry['time'] as string);
}

/** Lines of one repeating event: never closer than RepeatLog's spacing. */
function expectSpaced(entries: readonly Line[]): void {
  for (let i = 1; i < entries.length; i++) {
    expect(timeOf(entries[i]!) - timeOf(entries[i - 1]!)).toBeGreaterThanOrEqual(REPEAT_INTERVAL_MS - 5);
    expect(entries[i]!['repeated']).toBeGreaterThan(0);
  }
}

beforeAll(async () => {
  // A clearing folder under a regular file: no cycle can be written there (ENOTDIR, root or not).
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-oncall-'));
  trackDir(dir);
  writeFileSync(join(dir, 'a-file'), '');
  stack = await startStack({
    config: {
      admin: { token: TOKEN },
      institutions: [institutionEntry(acq), institutionEntry(iss)],
      routes: [
        { prefix: '4', issuer: 'local' },
        { prefix: '5', issuer: iss.id },
      ],
      issuerTimeoutMs: ISSUER_TIMEOUT_MS,
      signonTimeoutMs: SIGNON_TIMEOUT_MS,
      // Long enough that work stuck on a stopped Redis is still in flight when its worker is crashed.
      // On the worker threads (ledger.adaptive off): a worker's crash is one of the events.
      ledger: { commitTimeoutMs: 10_000, adaptive: false },
      clearing: { outDir: join(dir, 'a-file', 'clearing') },
    },
    env: INSPECT_ENV,
  });
  acquirer = await pool.signedOn(at(stack.sw, 'tcp'), acq);
  // First: its retries take about 30 s, which the tests below spend.
  const cutoff = await admin(stack.sw, 'POST', '/clearing/cutoff', { token: TOKEN });
  expect(cutoff.status, cutoff.text).toBe(200);
  clearingCycle = (cutoff.json as { cycle: number }).cycle;
}, 60_000);

afterAll(async () => {
  pool.closeAll();
  await stack?.dispose();
});

describe('lines for on-call', () => {
  it('refused sign-ons say why; a sign-on timeout and a protocol violation are logged', async () => {
    const silent = await pool.connect(at(stack.sw, 'tcp'));
    await silent.challenge();

    const impostor = makeInstitution(acq.id, 'acquirer');
    expect((await signOn(await pool.connect(at(stack.sw, 'tcp')), impostor))['rc']).toBe('63');
    const stranger = await pool.connect(at(stack.sw, 'ws'));
    expect((await signOn(stranger, acq, { institution: 'acq-nobody' }))['rc']).toBe('63');
    expect((await signOn(await pool.connect(at(stack.sw, 'tcp')), acq, { role: 'issuer' }))['rc']).toBe('63');
    const twice = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const again = { mti: '0800', id: 'signon-again', code: 'signon', institution: acq.id, role: 'acquirer' };
    expect((await ask(twice, { ...again, sig: new Uint8Array(64) }))['rc']).toBe('63');

    const refused = (reason: string) => line('sign-on refused', (e) => e['reason'] === reason);
    expect(await refused('bad signature')).toMatchObject({
      level: 'warn',
      institution: acq.id,
      role: 'acquirer',
    });
    expect(await refused('unknown institution')).toMatchObject({ level: 'warn', institution: 'acq-nobody' });
    expect(await refused('wrong role')).toMatchObject({ level: 'warn', institution: acq.id, role: 'issuer' });
    expect(await refused('already signed on')).toMatchObject({ level: 'warn', institution: acq.id });
    for (const entry of lines('sign-on refused')) expect(entry['remote']).toMatch(/^127\.0\.0\.1:\d+$/);

    // 0xc1 is never used in MessagePack: a violation, the connection closed.
    twice.sendPayload(Buffer.from([0xc1]));
    expect(await twice.closedWithin(EVENTUALLY_MS)).not.toBe('open');
    expect(await line('protocol violation: closing', (e) => e['institution'] === acq.id)).toMatchObject({
      level: 'info',
      role: 'acquirer',
    });

    expect(await silent.closedWithin(SIGNON_TIMEOUT_MS + EVENTUALLY_MS)).not.toBe('open');
    expect(await line('sign-on timeout')).toMatchObject({
      level: 'warn',
      signonTimeoutMs: SIGNON_TIMEOUT_MS,
    });
  }, 60_000);

  it('issuer timeouts, a lost issuer connection, an unavailable issuer and unacknowledged advices name their transactions', async () => {
    let issuer = await pool.signedOn(at(stack.sw, 'tcp'), iss);
    // Three forwards the issuer leaves unanswered: 91 each, one line at once, the rest counted.
    const silent = [txn('5'), txn('5'), txn('5')];
    for (const request of silent) acquirer.send(request);
    const timedOut: Msg[] = [];
    for (const request of silent) {
      const forward = await issuer.nextMessage(forwardOf(request));
      const answer = await acquirer.nextMessage(byId(request['id']));
      expect(answer).toMatchObject({ rc: '91', rrn: forward['rrn'] });
      timedOut.push(answer);
    }
    const timeouts = lines('issuer timeout: answering by stand-in or 91');
    expect(timeouts[0]).toMatchObject({
      level: 'warn',
      issuer: iss.id,
      ...idsOf(silent[0]!, timedOut[0]!['rrn']),
      issuerTimeoutMs: ISSUER_TIMEOUT_MS,
      standIn: false,
    });
    expectSpaced(timeouts);

    // The issuer answers again: the timeouts are over, with their count.
    await declinedByIssuer(issuer);
    expect(await line('issuer answering again')).toMatchObject({
      level: 'info',
      issuer: iss.id,
      occurrences: 3,
    });

    // The connection drops with two forwards on it: they are named, and run to their timeout.
    const stranded = [txn('5'), txn('5')];
    for (const request of stranded) acquirer.send(request);
    const strandedForwards: Msg[] = [];
    for (const request of stranded) strandedForwards.push(await issuer.nextMessage(forwardOf(request)));
    issuer.destroy();
    const lost = await line('issuer connection lost');
    expect(lost).toMatchObject({
      level: 'warn',
      issuer: iss.id,
      graceful: false,
      forwardsInFlight: 2,
      connectionsLeft: 0,
    });
    expect(lost['forwards']).toEqual(
      stranded.map((request, i) => idsOf(request, strandedForwards[i]!['rrn'])),
    );
    for (const request of stranded)
      expect((await acquirer.nextMessage(byId(request['id'])))['rc']).toBe('91');

    // No connection at all: answered at once.
    const unreachable = txn('5');
    const refusedAnswer = await ask(acquirer, unreachable);
    expect(refusedAnswer['rc']).toBe('91');
    expect(await line('issuer unavailable: answering by stand-in or 91')).toMatchObject({
      level: 'warn',
      issuer: iss.id,
      ...idsOf(unreachable, refusedAnswer['rrn']),
      standIn: false,
    });

    // Back: the forwards that timed out left 0420 advices; the first is not acknowledged, so it is repeated.
    issuer = await pool.signedOn(at(stack.sw, 'tcp'), iss);
    const repeat = await issuer.nextMessage((m) => m['mti'] === '0421', EVENTUALLY_MS);
    const repeated = await line('advice not acknowledged in time; sent again');
    const byRrn = new Map(
      [...silent, ...stranded].map((request, i) => [
        [...timedOut, ...strandedForwards][i]!['rrn'] as string,
        request,
      ]),
    );
    const advised = byRrn.get(repeated['rrn'] as string);
    expect(
      advised,
      `the repeated advice is one of the forwards that timed out: ${repeated['rrn']}`,
    ).toBeDefined();
    expect(repeated).toMatchObject({
      level: 'warn',
      issuer: iss.id,
      advice: `${repeated['rrn']}.0420`,
      mti: '0421',
      ...idsOf(advised!, repeated['rrn']),
    });
    expect(repeat['id']).toMatch(/\.0420$/);
    // Every advice of those forwards acknowledged (an id not in flight is ignored): no more repeats.
    for (const rrn of byRrn.keys()) issuer.send({ mti: '0430', id: `${rrn}.0420` });
    expect(await line('advice acknowledged again')).toMatchObject({ level: 'info', issuer: iss.id });

    // A forward goes out again: the issuer is reachable again, with how many found it away.
    await declinedByIssuer(issuer);
    expect(await line('issuer reachable again')).toMatchObject({
      level: 'info',
      issuer: iss.id,
      occurrences: 1,
    });
    issuer.destroy();
  }, 60_000);

  it('a ledger worker that crashes with transactions in flight names them; while it restarts, its 96s are logged', async () => {
    const redisPid = stack.redis.pid;
    const inFlight = Array.from({ length: 8 }, () => txn('4'));
    // Redis stopped: the transactions wait on their accounts' loads, in flight in the worker.
    process.kill(redisPid, 'SIGSTOP');
    let whileDown: Msg = {};
    let whileDownAnswer: Msg = {};
    let answers: Msg[] = [];
    try {
      for (const request of inFlight) acquirer.send(request);
      await barrier(acquirer);
      await crashWorkerThread(stack.sw, 'ledger-worker', 'on-call log test: a crash of the ledger worker');
      answers = await Promise.all(inFlight.map((request) => acquirer.nextMessage(byId(request['id']))));
      await line('ledger worker exited; restarting');
      // Down until Redis is back (a worker starts by reaching it): answered 96 at once.
      whileDown = txn('4');
      whileDownAnswer = await ask(acquirer, whileDown);
    } finally {
      process.kill(redisPid, 'SIGCONT');
    }
    for (const answer of answers) expect(answer['rc']).toBe('96');
    expect(whileDownAnswer['rc']).toBe('96');

    expect(await line('ledger worker crashed')).toMatchObject({
      level: 'error',
      worker: 0,
      error: { message: 'on-call log test: a crash of the ledger worker' },
    });
    const exited = await line('ledger worker exited; restarting');
    expect(exited).toMatchObject({ level: 'error', worker: 0, code: 1, answered96: 8 });
    // A background job's item (hold expiry, record sweep) may have been in flight too.
    expect(exited['inFlight']).toBeGreaterThanOrEqual(8);
    const named = exited['transactions'] as Line[];
    expect(named).toHaveLength(5);
    for (const entry of named) {
      const i = inFlight.findIndex((request) => request['stan'] === entry['stan']);
      expect(i, `a named transaction was in flight: ${JSON.stringify(entry)}`).toBeGreaterThanOrEqual(0);
      expect(entry).toEqual(idsOf(inFlight[i]!, answers[i]!['rrn']));
    }
    expect(await line('ledger worker down: answering 96')).toMatchObject({
      level: 'warn',
      worker: 0,
      ...idsOf(whileDown, whileDownAnswer['rrn']),
    });
    expect(await line('ledger worker back: no longer answering 96')).toMatchObject({
      level: 'info',
      worker: 0,
      occurrences: 1,
    });
    expect(lines('ledger worker ready').length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it(
    'a clearing cycle that cannot be written is retried, then fails with its attempts and error',
    async () => {
      const failed = await line(
        'clearing cycle failed',
        (e) => e['cycle'] === clearingCycle,
        CLEARING_GIVES_UP_MS,
      );
      expect(failed).toMatchObject({
        level: 'error',
        attempts: CLEARING_ATTEMPTS,
        attemptsMax: CLEARING_ATTEMPTS,
        error: { code: 'ENOTDIR' },
      });
      const retried = lines('clearing job failed; it is tried again').filter(
        (e) => e['cycle'] === clearingCycle,
      );
      expect(retried.map((e) => [e['level'], e['attempts']])).toEqual(
        [1, 2, 3, 4].map((attempt) => ['warn', attempt]),
      );
    },
    CLEARING_GIVES_UP_MS + 10_000,
  );

  it('Redis killed under load: the failed commit and the 96s it caused are logged with their transactions', async () => {
    const pans: string[] = [];
    for (let i = 0; i < 4; i++) pans.push(await accounts.create({ balance: 1_000_000 }));
    for (const pan of pans) sent.add(pan);
    // Each account's actor in memory and ready: what follows is decided at once and goes to a commit.
    for (const pan of pans) expect((await ask(acquirer, tx('0100', { pan, amount: 100 })))['rc']).toBe('00');
    const load = pans.flatMap((pan) => [1, 2, 3].map(() => tx('0100', { pan, amount: 100 })));
    process.kill(stack.redis.pid, 'SIGSTOP');
    for (const request of load) acquirer.send(request);
    await barrier(acquirer);
    // A stopped process dies of SIGKILL: its connections close under the commits waiting on them.
    process.kill(stack.redis.pid, 'SIGKILL');

    expect(await line('commit failed or unconfirmed; answering 96, re-fencing and reloading')).toMatchObject({
      level: 'warn',
      worker: 0,
    });
    const answered = await line('ledger answered 96');
    expect(answered).toMatchObject({ level: 'warn', worker: 0 });
    const count = answered['answered'] as number;
    const named = answered['transactions'] as Line[];
    expect(count).toBeGreaterThan(0);
    expect(named).toHaveLength(Math.min(5, count));
    for (const entry of named) {
      const request = load.find((r) => r['stan'] === entry['stan']);
      expect(request, `a named transaction was sent: ${JSON.stringify(entry)}`).toBeDefined();
      const answer = await acquirer.nextMessage(byId(request!['id']));
      expect(answer['rc']).toBe('96');
      expect(entry).toEqual(idsOf(request!, answer['rrn']));
    }
    expect(await line('redis connection error')).toMatchObject({ level: 'warn' });
  }, 60_000);

  it('writes every line as JSON and no full PAN anywhere', async () => {
    pool.closeAll();
    // A switch whose Redis is gone may not stop gracefully; its output so far is what is checked.
    await stack.sw.stop(5_000);
    for (const pan of accounts.pans) sent.add(pan);
    expect(sent.size).toBeGreaterThan(20);
    const output = [...stack.sw.stdout, ...stack.sw.stderr].join('\n');
    expect(leakedPans(output, sent)).toEqual([]);
    // Nothing bypassed the logger: stderr holds only the inspector's own announcements.
    const inspector = /^(Debugger (listening|attached|ending)|For help, see: )/;
    expect(stack.sw.stderr.filter((l) => l.length > 0 && !inspector.test(l))).toEqual([]);
    for (const text of stack.sw.stdout.filter((l) => l.length > 0)) {
      const entry = parse(text);
      expect(typeof entry['time']).toBe('string');
      expect(['debug', 'info', 'warn', 'error']).toContain(entry['level']);
      expect(typeof entry['msg']).toBe('string');
    }
  }, 30_000);
});
