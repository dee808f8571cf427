/**
 * Data-key rotation with store-and-forward advices queued (docs/security.md "Rotation",
 * docs/issuers.md, issue 17: "issue 6's re-encryption job covers advices too") on real switch
 * processes, real sockets and a real Redis: advices queued under d1 while their issuer is away
 * (stand-in approvals) are re-sealed by the job `reseal-d2`; GET /keys/usage counts them under
 * d2 and none under d1, which is then retirable and retired; the issuer signs on and gets every
 * advice in queue order with its PAN. A job killed (kill -9) midway goes on after a restart
 * while the issuer signs on and acknowledges advices under it: none is lost, sent out of
 * order or brought back, and a reload that would retire d1 while advices still need it is
 * refused. The re-seal's compare-and-set against a concurrent delivery, step by step, is in
 * advice-reseal.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeAdvice } from '../../src/runtime/storage/state-codec.js';
import { sealedKeyId } from '../../src/security/aead.js';
import { keySpace } from '../../src/store/keys.js';
import { at, ClientPool } from '../helpers/harness.js';
import { jobDone, keysCli, logLines, usage } from '../helpers/key-rotation.js';
import { byId, makePan, tx } from '../helpers/messages.js';
import { EVENTUALLY_MS, removeDir, sleep, trackDir, waitFor } from '../helpers/processes.js';
import type { RawClient } from '../helpers/raw-client.js';
import { RestartableStack } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import type { SwitchProcess } from '../helpers/switch-process.js';
import type { Msg } from '../helpers/wire.js';

const TOKEN = 'key-rotation-advices-token-5d1e';
const acq = makeInstitution('acq-reseal', 'acquirer');
/** Away while its advices are queued: every transaction on its route is stood in for. */
const iss = makeInstitution('iss-reseal', 'issuer');
const ADVICE_MTIS = ['0120', '0121', '0220', '0221'];
const ACK_OF: Readonly<Record<string, string>> = {
  '0120': '0130',
  '0121': '0130',
  '0220': '0230',
  '0221': '0230',
};
const isAdvice = (m: Msg): boolean => ADVICE_MTIS.includes(m['mti'] as string);
const keys = keySpace();

let dir: string;
const stacks: RestartableStack[] = [];
const pool = new ClientPool();
const clients: Redis[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-key-rotation-advices-'));
  trackDir(dir);
});

afterEach(async () => {
  pool.closeAll();
  for (const client of clients.splice(0)) client.disconnect();
  for (const stack of stacks.splice(0)) await stack.dispose();
});

afterAll(() => removeDir(dir));

/** A switch on its own Redis with a fresh key file (t1, d1); PANs starting 6 route to the issuer. */
async function startStack(name: string, ledger: Record<string, unknown> = {}) {
  const keyFile = join(dir, `${name}.json`);
  keysCli('new', keyFile);
  const stack = await RestartableStack.start({
    config: {
      admin: { token: TOKEN },
      institutions: [
        institutionEntry(acq),
        { ...institutionEntry(iss), standIn: { perTxnMax: 1_000_000, dailyMax: 100_000_000 } },
      ],
      routes: [
        { prefix: '4', issuer: 'local' },
        { prefix: '6', issuer: iss.id },
      ],
      keys: { file: keyFile },
      ledger,
      workers: 2,
    },
  });
  stacks.push(stack);
  const redis = new Redis(stack.redis.url);
  clients.push(redis);
  return { stack, keyFile, redis };
}

/** An advice as the issuer must get it: MTI, id, PAN, amount. */
type Expected = [string, string, string, number];

/**
 * `count` stand-in approvals over `panCount` PANs while the issuer is away, each queueing an
 * advice (0120 for a 0100, 0220 for a 0200); the advices expected, in queue order.
 */
async function queueStandIns(sw: SwitchProcess, count: number, panCount: number): Promise<Expected[]> {
  const acquirer = await pool.signedOn(at(sw, 'tcp'), acq);
  const pans = Array.from({ length: panCount }, () => makePan('6'));
  const expected: Expected[] = [];
  for (let i = 0; i < count; i++) {
    const request = tx(i % 3 === 0 ? '0200' : '0100', { pan: pans[i % panCount]!, amount: 100 + i });
    acquirer.send(request);
    const answer = await acquirer.nextMessage(byId(request['id']));
    expect(answer, 'a stand-in approval').toMatchObject({ rc: '00', authCode: expect.stringMatching(/^S/) });
    const mti = request['mti'] === '0100' ? '0120' : '0220';
    expected.push([
      mti,
      `${String(answer['rrn'])}.${mti}`,
      String(request['pan']),
      Number(request['amount']),
    ]);
  }
  return expected;
}

/** The data key id of each queued advice's own entry, in queue order. */
async function entrySeals(redis: Redis): Promise<string[]> {
  const entries = await redis.xrangeBuffer(keys.advices(iss.id), '-', '+');
  return entries.map(([, fields]) => sealedKeyId(decodeAdvice(fields[1]!).panSealed));
}

/** The data key id of each re-sealed PAN the store holds beside the stream. */
async function resealedSeals(redis: Redis): Promise<string[]> {
  return (await redis.hvalsBuffer(keys.adviceSeals(iss.id))).map((sealed) => sealedKeyId(sealed));
}

/** Nothing queued: every advice delivered and deleted, and no re-sealed PAN left behind. */
async function drained(redis: Redis): Promise<boolean> {
  return (await redis.xlen(keys.advices(iss.id))) === 0 && (await redis.hlen(keys.adviceSeals(iss.id))) === 0;
}

/**
 * Acknowledges each advice the issuer gets, one every `gapMs` (slow enough for the delivery to
 * run beside a job), until `count` distinct ones came; the first copy of each, in arrival order.
 */
async function acknowledgeAll(issuer: RawClient, count: number, gapMs: number): Promise<Msg[]> {
  const firsts: Msg[] = [];
  const seen = new Set<unknown>();
  const deadline = Date.now() + 60_000;
  while (firsts.length < count) {
    const advice = await issuer.nextMessage(isAdvice, Math.max(1, deadline - Date.now()));
    if (seen.has(advice['id'])) continue;
    seen.add(advice['id']);
    firsts.push(advice);
    await sleep(gapMs);
    issuer.send({ mti: ACK_OF[advice['mti'] as string], id: advice['id'], rc: '00' });
  }
  return firsts;
}

function asExpected(m: Msg): Expected {
  // A repeat (0121/0221) stands for its advice: the first copy may be one when the delivery repeated it.
  const mti = String(m['mti']).replace(/1$/, '0');
  return [mti, String(m['id']), String(m['pan']), Number(m['amount'])];
}

describe('data key rotation with advices queued', () => {
  it('re-seals queued advices; usage counts them under the new key; the old key retires; the issuer gets every advice in order with its PAN', async () => {
    const { stack, keyFile, redis } = await startStack('main');
    const expected = await queueStandIns(stack.sw, 12, 4);
    expect(await entrySeals(redis)).toEqual(expected.map(() => 'd1'));
    const before = await usage(stack.sw, TOKEN);
    expect(before.dataKeys['d1']).toMatchObject({
      advices: expected.length,
      current: true,
      retirable: false,
    });
    expect(before).toMatchObject({ advices: expected.length, unreadableAdvices: 0 });

    keysCli('add-data-key', keyFile, '--id', 'd2');
    process.kill(stack.sw.pid, 'SIGHUP');
    expect(await waitFor(() => jobDone(stack.sw, 'reseal-d2') !== undefined, EVENTUALLY_MS)).toBe(true);
    expect(jobDone(stack.sw, 'reseal-d2')).toMatchObject({
      advices: { asked: expected.length, done: expected.length, current: 0, absent: 0, unreadable: 0 },
    });
    const after = await usage(stack.sw, TOKEN);
    expect(after.dataKeys['d1']).toMatchObject({
      identities: 0,
      advices: 0,
      current: false,
      retirable: true,
    });
    expect(after.dataKeys['d2']).toMatchObject({ advices: expected.length, current: true, retirable: false });
    expect(after.jobs['reseal-d2']).toBe('completed');
    // The queue itself is untouched (same entries, same order, their own seals d1's); the re-sealed
    // PANs are beside it, one per advice, under d2.
    expect(await entrySeals(redis)).toEqual(expected.map(() => 'd1'));
    expect(await resealedSeals(redis)).toEqual(expected.map(() => 'd2'));

    keysCli('retire-data-key', keyFile, '--id', 'd1');
    process.kill(stack.sw.pid, 'SIGHUP');
    expect(await waitFor(() => logLines(stack.sw, 'data keys reloaded').length === 2, EVENTUALLY_MS)).toBe(
      true,
    );
    expect(logLines(stack.sw, 'data keys reloaded')[1]).toMatchObject({ retiredDataKeyIds: ['d1'] });

    // d1 is gone from the switch: every PAN the issuer gets was opened from its d2 seal.
    const issuer = await pool.signedOn(at(stack.sw, 'tcp'), iss);
    const delivered = await acknowledgeAll(issuer, expected.length, 0);
    expect(delivered.map(asExpected)).toEqual(expected);
    expect(
      await waitFor(() => drained(redis), EVENTUALLY_MS),
      'delivered advices leave no re-sealed PAN',
    ).toBe(true);
    const drainedUsage = await usage(stack.sw, TOKEN);
    expect(Object.keys(drainedUsage.dataKeys)).toEqual(['d2']);
    expect(drainedUsage).toMatchObject({ advices: 0, unreadableAdvices: 0 });
    expect(stack.allOutput()).not.toContain('does not open');
  });

  it('a job killed midway goes on after the restart beside the delivery; the old key is refused while an advice needs it', async () => {
    const count = 40;
    // Four advices a second: the walk over the queue takes ~10 s, long enough to be killed in.
    const { stack, keyFile, redis } = await startStack('killed', { rotationAccountsPerSecondMax: 4 });
    const expected = await queueStandIns(stack.sw, count, 6);

    keysCli('add-data-key', keyFile, '--id', 'd2');
    process.kill(stack.sw.pid, 'SIGHUP');
    expect(
      await waitFor(async () => (await redis.hlen(keys.adviceSeals(iss.id))) >= 4, EVENTUALLY_MS, 20),
    ).toBe(true);
    const resealedAtKill = await redis.hlen(keys.adviceSeals(iss.id));
    await stack.restart(true);
    expect(resealedAtKill, 'killed before the walk ended').toBeLessThan(count);
    expect(jobDone(stack.generations[0]!, 'reseal-d2')).toBeUndefined();

    // d1 still seals advices the killed job did not reach: a file without it is refused.
    const keptFile = readFileSync(keyFile);
    keysCli('retire-data-key', keyFile, '--id', 'd1');
    process.kill(stack.sw.pid, 'SIGHUP');
    const refusal = 'key reload refused; the keys in use stay';
    expect(await waitFor(() => logLines(stack.sw, refusal).length === 1, EVENTUALLY_MS)).toBe(true);
    expect(JSON.stringify(logLines(stack.sw, refusal)[0])).toMatch(
      /data key d1 still seals 0 account PANs and [1-9][0-9]* queued advice PANs/,
    );
    // The switch never took that file: the one it runs with goes back in place.
    writeFileSync(keyFile, keptFile);

    // The issuer signs on while the job is taken up again, and acknowledges as advices come.
    const issuer = await pool.signedOn(at(stack.sw, 'tcp'), iss);
    const delivered = await acknowledgeAll(issuer, count, 150);
    expect(delivered.map(asExpected)).toEqual(expected);
    expect(await waitFor(() => jobDone(stack.sw, 'reseal-d2') !== undefined, 60_000, 100)).toBe(true);
    expect(jobDone(stack.sw, 'reseal-d2')).toMatchObject({ advices: { unreadable: 0 } });
    expect(
      await waitFor(() => drained(redis), EVENTUALLY_MS),
      'no advice or re-sealed PAN brought back',
    ).toBe(true);
    const after = await usage(stack.sw, TOKEN);
    expect(after.dataKeys['d1']).toMatchObject({ identities: 0, advices: 0, retirable: true });
    expect(after).toMatchObject({ advices: 0, unreadableAdvices: 0 });
    // Nothing but the queued advices went out (repeats aside).
    const sentIds = issuer.received.filter(isAdvice).map((m) => m['id']);
    expect(new Set(sentIds).size).toBe(count);
  }, 120_000);
});
