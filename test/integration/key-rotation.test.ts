/**
 * Key rotation without downtime (docs/security.md "Rotation", issue 16 deliverable 4) on real
 * switch processes and a real Redis: a key changes under a live stream of purchases, holds and
 * duplicates while the rotation job runs, then every account is found by PAN with the balance
 * the traffic implies, every approval's duplicate is answered as it was, the holds placed
 * before the change expire, GET /keys/usage says nothing uses the old key and no account log
 * keeps its PAN under it. A job stopped midway (kill -9) goes on from its cursor after a
 * restart. Seeded (SWITCHYARD_SEED, printed).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readAccountLog } from '../../src/runtime/storage/account-log.js';
import { tokenKeyIdOf } from '../../src/security/account-refs.js';
import { sealedKeyId } from '../../src/security/aead.js';
import { keySpace } from '../../src/store/keys.js';
import { generatePans } from '../../src/util/demo-pans.js';
import { admin, at, ClientPool } from '../helpers/harness.js';
import { jobDone, keysCli, logLines, usage } from '../helpers/key-rotation.js';
import { Accounts, again, masked, RrnBook, req, Teller } from '../helpers/ledger.js';
import { expectSameAnswer, LiveLoad } from '../helpers/live-load.js';
import { EVENTUALLY_MS, removeDir, trackDir, waitFor } from '../helpers/processes.js';
import { RestartableStack } from '../helpers/restartable.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import type { SwitchProcess } from '../helpers/switch-process.js';

const SEED = seedFromEnv(Date.now() % 0xffff_ffff);
const TOKEN = 'key-rotation-admin-token-41c7';
const HOLD_TTL_MS = 3_000;
const OPENING_BALANCE = 1_000_000_000;
const acq = makeInstitution('acq-rotation', 'acquirer');

let dir: string;
const stacks: RestartableStack[] = [];
const pool = new ClientPool();
let redis: Redis | undefined;

beforeAll(() => {
  console.log(`key-rotation seed ${SEED} (SWITCHYARD_SEED=${SEED} replays it)`);
  dir = mkdtempSync(join(tmpdir(), 'switchyard-key-rotation-'));
  trackDir(dir);
});

afterEach(async () => {
  pool.closeAll();
  redis?.disconnect();
  redis = undefined;
  for (const stack of stacks.splice(0)) await stack.dispose();
});

afterAll(() => removeDir(dir));

/** A switch on its own Redis, with a fresh key file (t1, d1) of its own. */
async function startRotationStack(
  name: string,
  ledger: Record<string, unknown> = {},
  holdTtlMs = HOLD_TTL_MS,
) {
  const keyFile = join(dir, `${name}.json`);
  keysCli('new', keyFile);
  const stack = await RestartableStack.start({
    config: {
      admin: { token: TOKEN },
      institutions: [institutionEntry(acq)],
      holdTtlMs,
      keys: { file: keyFile },
      ledger: { holdExpiryIntervalMs: 200, ...ledger },
      workers: 2,
    },
  });
  stacks.push(stack);
  redis = new Redis(stack.redis.url);
  return { stack, keyFile, redis };
}

/** The data key id each account's PAN is sealed under now, read from the account logs in Redis. */
async function sealsInStore(r: Redis): Promise<Map<string, number>> {
  const keys = keySpace();
  const seals = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', keys.accountPattern(), 'COUNT', 1_000);
    cursor = next;
    for (const key of found) {
      const log = readAccountLog((await r.getBuffer(key))!, 0);
      const id = sealedKeyId(log.account!.panSealed);
      seals.set(id, (seals.get(id) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return seals;
}

/**
 * The invariants after a rotation: every account found by PAN with the balance the traffic
 * implies once its holds expired (those placed before the rotation among them), and every
 * approval's duplicate answered as the approval was.
 */
async function expectTrafficKept(sw: SwitchProcess, load: LiveLoad, teller: Teller): Promise<void> {
  const accounts = new Accounts(() => sw, TOKEN);
  const pans = [...new Set(load.approvals.map((a) => String(a.request['pan'])))];
  const allReleased = await waitFor(
    async () => (await Promise.all(pans.map((pan) => accounts.get(pan)))).every((view) => view.held === 0),
    HOLD_TTL_MS + EVENTUALLY_MS,
    200,
  );
  expect(allReleased, 'every hold expired, those placed before the rotation too').toBe(true);
  for (const pan of pans) {
    const view = await accounts.get(pan);
    expect(view.balance, `balance of ${masked(pan)}`).toBe(load.balanceOf(pan));
  }
  for (const { request, response } of load.approvals)
    expectSameAnswer(await teller.ask(again(request)), response, request);
}

describe('data key rotation', () => {
  it('re-seals every account under live load; the old key then protects nothing and can be retired', async () => {
    const { stack, keyFile, redis: r } = await startRotationStack('data-live');
    const rng = new SeededRng(SEED);
    const accounts = new Accounts(() => stack.sw, TOKEN);
    const pans = await Promise.all(
      Array.from({ length: 48 }, () => accounts.create({ balance: OPENING_BALANCE })),
    );
    const teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
    const load = new LiveLoad(teller, { pans, openingBalance: OPENING_BALANCE, lanes: 8, rng });
    load.start();
    await waitFor(() => load.holds.length >= 16, EVENTUALLY_MS);
    const holdsBefore = load.holds.length;

    keysCli('add-data-key', keyFile, '--id', 'd2');
    process.kill(stack.sw.pid, 'SIGHUP');
    await waitFor(() => jobDone(stack.sw, 'reseal-d2') !== undefined, EVENTUALLY_MS);
    // Traffic goes on after the job as well: new seals are d2's.
    const sentAtJobEnd = load.sent;
    await waitFor(() => load.sent >= sentAtJobEnd + 200, EVENTUALLY_MS);
    await load.stop();
    expect(holdsBefore).toBeGreaterThan(0);
    expect(load.duplicates).toBeGreaterThan(0);

    await expectTrafficKept(stack.sw, load, teller);
    expect(await sealsInStore(r)).toEqual(new Map([['d2', pans.length]]));
    const after = await usage(stack.sw, TOKEN);
    expect(after.dataKeys['d1']).toMatchObject({ identities: 0, retirable: true, current: false });
    expect(after.dataKeys['d2']).toMatchObject({ identities: pans.length, retirable: false, current: true });
    expect(after.jobs['reseal-d2']).toBe('completed');

    // Retired: the switch takes the file, and goes on answering.
    keysCli('retire-data-key', keyFile, '--id', 'd1');
    process.kill(stack.sw.pid, 'SIGHUP');
    await waitFor(() => logLines(stack.sw, 'data keys reloaded').length === 2, EVENTUALLY_MS);
    expect(logLines(stack.sw, 'data keys reloaded')[1]).toMatchObject({ retiredDataKeyIds: ['d1'] });
    const response = await teller.ask(req('0200', { pan: pans[0]!, amount: 7 }));
    expect(response['rc']).toBe('00');
    expect(Object.keys((await usage(stack.sw, TOKEN)).dataKeys)).toEqual(['d2']);
  });
});

/** The token key id of each account key in Redis, counted. */
async function refsInStore(r: Redis): Promise<Map<string, number>> {
  const keys = keySpace();
  const ids = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', keys.accountPattern(), 'COUNT', 1_000);
    cursor = next;
    for (const key of found) {
      const id = tokenKeyIdOf(keys.accountOfKey(key)!.ref);
      ids.set(id, (ids.get(id) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return ids;
}

describe('token key rotation', () => {
  it('re-keys every account under live load, found by PAN throughout; the old key retires once hold expiry passed its refs', async () => {
    // Long enough that the holds placed just before the rotation are still open when it ends.
    const holdTtlMs = 6_000;
    const { stack, keyFile, redis: r } = await startRotationStack('token-live', {}, holdTtlMs);
    const rng = new SeededRng(SEED + 2);
    const accounts = new Accounts(() => stack.sw, TOKEN);
    const pans = await Promise.all(
      Array.from({ length: 48 }, () => accounts.create({ balance: OPENING_BALANCE })),
    );
    const teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
    const load = new LiveLoad(teller, { pans, openingBalance: OPENING_BALANCE, lanes: 8, rng });
    load.start();
    await waitFor(() => load.holds.length >= 16, EVENTUALLY_MS);

    keysCli('add-token-key', keyFile, '--id', 't2');
    process.kill(stack.sw.pid, 'SIGHUP');
    await waitFor(() => jobDone(stack.sw, 'rekey-t2') !== undefined, EVENTUALLY_MS);
    expect(jobDone(stack.sw, 'rekey-t2')).toMatchObject({ unreadable: 0, conflict: 0 });
    const sentAtJobEnd = load.sent;
    await waitFor(() => load.sent >= sentAtJobEnd + 200, EVENTUALLY_MS);
    await load.stop();
    expect(await refsInStore(r)).toEqual(new Map([['t2', pans.length]]));
    const during = await usage(stack.sw, TOKEN);
    expect(during.tokenKeys['t1']).toMatchObject({ accounts: 0, aliases: pans.length });

    // The journal still names t1's refs for holds not yet expired: retiring t1 now is refused.
    keysCli('retire-token-key', keyFile);
    process.kill(stack.sw.pid, 'SIGHUP');
    await waitFor(
      () => logLines(stack.sw, 'key reload refused; the keys in use stay').length === 1,
      EVENTUALLY_MS,
    );
    const refused = JSON.stringify(logLines(stack.sw, 'key reload refused; the keys in use stay')[0]);
    expect(refused).toMatch(/token key t1 still names 0 accounts, [1-9][0-9]* journal records/);

    // The holds placed before the rotation expire (hold expiry asks by the old refs, the aliases
    // lead to the accounts), the balances are what the traffic says, duplicates answer the same.
    await expectTrafficKept(stack.sw, load, teller);
    expect(
      await waitFor(
        async () => (await usage(stack.sw, TOKEN)).tokenKeys['t1']?.retirable === true,
        EVENTUALLY_MS,
        200,
      ),
      'hold expiry passed every journal record naming a t1 ref',
    ).toBe(true);
    process.kill(stack.sw.pid, 'SIGHUP');
    await waitFor(() => jobDone(stack.sw, 'unalias-t1') !== undefined, EVENTUALLY_MS);
    expect(logLines(stack.sw, 'data keys reloaded').at(-1)).toMatchObject({ retiredTokenKeyIds: ['t1'] });
    const after = await usage(stack.sw, TOKEN);
    expect(Object.keys(after.tokenKeys)).toEqual(['t2']);
    expect(after.tokenKeys['t2']).toMatchObject({ accounts: pans.length, retirable: false });
    const response = await teller.ask(req('0200', { pan: pans[0]!, amount: 7 }));
    expect(response['rc']).toBe('00');
  });
});

describe.each([
  { kind: 'data', stop: 'kill -9' },
  { kind: 'token', stop: 'SIGTERM' },
] as const)('a $kind key rotation job stopped midway ($stop)', ({ kind, stop }) => {
  it('goes on from its cursor after a restart, under live load, and loses nothing', async () => {
    const count = 1_200;
    const {
      stack,
      keyFile,
      redis: r,
    } = await startRotationStack(`${kind}-crash`, {
      rotationAccountsPerSecondMax: 200,
    });
    const seeded = await admin(stack.sw, 'POST', '/accounts/bulk', {
      token: TOKEN,
      body: { count, balance: OPENING_BALANCE, currency: 'EUR', prefix: '47' },
    });
    expect(seeded.status, seeded.text).toBe(200);
    const pans = generatePans(count, '47');
    const job = kind === 'data' ? 'reseal-d2' : 'rekey-t2';
    const rotated = async (): Promise<number> =>
      kind === 'data' ? ((await sealsInStore(r)).get('d2') ?? 0) : ((await refsInStore(r)).get('t2') ?? 0);

    if (kind === 'data') keysCli('add-data-key', keyFile, '--id', 'd2');
    else keysCli('add-token-key', keyFile, '--id', 't2');
    process.kill(stack.sw.pid, 'SIGHUP');
    const cursorKey = keySpace().rotationCursor(job);
    // A few steps saved, far from the end: stopped in the middle of the walk.
    await waitFor(async () => (await rotated()) >= 200, EVENTUALLY_MS, 100);
    expect(await r.get(cursorKey)).not.toBeNull();
    await stack.restart(stop === 'kill -9');
    const resumedBy = stack.sw;

    const teller = new Teller(await pool.signedOn(at(resumedBy, 'tcp'), acq), new RrnBook(), acq.id);
    const load = new LiveLoad(teller, {
      pans: pans.slice(0, 40),
      openingBalance: OPENING_BALANCE,
      lanes: 4,
      rng: new SeededRng(SEED + (kind === 'data' ? 3 : 4)),
    });
    load.start();
    await waitFor(() => jobDone(resumedBy, job) !== undefined, 40_000, 100);
    await load.stop();
    const resumed = logLines(resumedBy, 'key rotation job resumed');
    expect(resumed.length, 'the job went on from a saved cursor').toBeGreaterThan(0);
    expect(resumed[0]!['cursor']).not.toBe('0');
    expect(await r.get(cursorKey)).toBeNull();
    if (kind === 'data') expect(await sealsInStore(r)).toEqual(new Map([['d2', count]]));
    else expect(await refsInStore(r)).toEqual(new Map([['t2', count]]));
    const u = await usage(resumedBy, TOKEN);
    if (kind === 'data') expect(u.dataKeys['d1']).toMatchObject({ identities: 0, retirable: true });
    else expect(u.tokenKeys['t1']).toMatchObject({ accounts: 0 });
    await expectTrafficKept(resumedBy, load, teller);
    // Every account found by PAN, its balance the seeded one but for the traffic's.
    const accounts = new Accounts(() => resumedBy, TOKEN);
    for (const p of pans.slice(40, 80)) expect((await accounts.get(p)).balance).toBe(OPENING_BALANCE);
  }, 90_000);
});
