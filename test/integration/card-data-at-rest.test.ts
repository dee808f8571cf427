/**
 * Issue 16's leak test: no full PAN readable anywhere at rest or in output
 * (docs/security.md "How it is tested").
 *
 * One real switch on one data directory, started three times: it runs its own
 * private redis-server (no `redis.url`, so the AOF and RDB live under the data
 * directory) and generates its key file there (`keys: undefined`: a start
 * with only the contract's section 9 key settings). Log level debug, two
 * ledger workers.
 *
 * - Run 1 (holdTtlMs 15 s): every admin account call (PUT create and update,
 *   GET, adjust, bulk seed, their 4xx answers, a PAN in a reference, in a
 *   field name, in paths that are no endpoint), the `switchyard accounts`
 *   commands (put, get, adjust, seed, and their failures), and traffic over
 *   TCP and WebSocket: approvals, a seeded burst of purchases, refunds and
 *   cash, declines (51, 61, 65, 57), holds then completions, reversals of
 *   purchases and of holds, duplicates and repeats (and a 94), an unknown
 *   account and a bad check digit (14), a balance inquiry, a PAN in the id,
 *   merchant and terminal fields and as an integer (30), cards of 12, 13, 16
 *   and 19 digits. Last, a hold placed under the long TTL. Graceful stop.
 * - Run 2 (holdTtlMs 1 s): hold expiry finds run 1's last hold in the journal
 *   and not yet due, so it files it into a hold bucket (observed); a new
 *   hold expires; the record sweep deletes run 1's records past the 4 s
 *   dedupe window. More traffic. kill -9.
 * - Run 3 (holdTtlMs 1 s): more traffic and admin calls; the filed hold is
 *   released from its bucket, another hold expires. Then Redis rewrites its
 *   AOF and saves its RDB uncompressed, and the switch stops.
 *
 * Then no full PAN of any card used (digits, or a 64-bit integer either way)
 * in any Redis key name or value, in any file under the data directory
 * (the AOF and RDB, redis.log, the key file) or the switches' own
 * directories, in any run's stdout and stderr, in any admin API answer, in
 * /metrics, or in the CLI's output. The scanner finding a planted PAN in each
 * of those places is test/integration/pan-leaks.test.ts; here the positive
 * side is that the data is really there, under tokens: each account under
 * its `sy:{shard}:acct:<ref>` key with its PAN sealed (it opens to the PAN)
 * and masked, journal records with masked PANs, the filed bucket member, the
 * holds released, the records swept.
 *
 * Seed: SWITCHYARD_SEED (printed); it picks the PANs and the burst.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountRefs } from '../../src/security/account-refs.js';
import { readKeyFile } from '../../src/security/key-file.js';
import { holdMember, keySpace, logPartitionOf } from '../../src/store/keys.js';
import { maskPan, maskPansIn } from '../../src/util/pan.js';
import { accountLogAt } from '../helpers/account-log.js';
import { admin, at, ClientPool, endpoint, type HttpAnswer } from '../helpers/harness.js';
import { again, expectAnswer, RrnBook, req, simPan, Teller } from '../helpers/ledger.js';
import { type JournalRow, readJournal } from '../helpers/ledger-journal.js';
import { breakLuhn, luhnDigit, luhnValid } from '../helpers/messages.js';
import { type Leak, leaksIn, rewriteUncompressed, scanFiles, scanRedis } from '../helpers/pan-leaks.js';
import { EVENTUALLY_MS, removeDir, trackDir, waitFor } from '../helpers/processes.js';
import { type CliResult, runCli } from '../helpers/restartable.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { type ConfigOverrides, type SwitchProcess, startSwitch } from '../helpers/switch-process.js';
import { encode, type Msg } from '../helpers/wire.js';

const SEED = seedFromEnv(0x16_ca4d);
console.log(`[card-data-at-rest] seed ${SEED} (rerun with SWITCHYARD_SEED=${SEED})`);

const TOKEN = 'card-data-at-rest-admin-token-3f9a';
/** Run 1's hold TTL: its last hold must still be not due when run 2's first expiry pass reads it. */
const LONG_TTL_MS = 15_000;
const SHORT_TTL_MS = 1_000;
const DEDUPE_WINDOW_MS = 4_000;
const BULK_PREFIX = '4917';
const BULK_COUNT = 20;
const CLI_SEED_PREFIX = '4918';
const CLI_SEED_COUNT = 10;
const BURST = 24;

const acqTcp = makeInstitution('acq-rest-tcp', 'acquirer');
const acqWs = makeInstitution('acq-rest-ws', 'acquirer');

/** A Luhn-valid PAN of `length` digits on the local route (prefix 4), from the seeded generator. */
function seededPan(rng: SeededRng, length: number): string {
  let body = '4';
  while (body.length < length - 1) body += String(rng.int(0, 9));
  return body + luhnDigit(body);
}

const withoutId = (m: Msg): Msg => {
  const { id: _id, ...rest } = m;
  return rest;
};

/** A leak, readable in a failure message without printing the PAN itself. */
const shown = (leaks: readonly Leak[]): string[] =>
  leaks.map((l) => `${maskPan(l.pan)} as ${l.form} in ${l.where.split(l.pan).join(maskPan(l.pan))}`);

describe(`card data at rest and in output, over three runs of one switch (seed ${SEED})`, () => {
  const rng = new SeededRng(SEED);
  const cards = (() => {
    const taken = new Set<string>();
    const fresh = (length: number): string => {
      for (;;) {
        const pan = seededPan(rng, length);
        if (!taken.has(pan) && !pan.startsWith(BULK_PREFIX) && !pan.startsWith(CLI_SEED_PREFIX)) {
          taken.add(pan);
          return pan;
        }
      }
    };
    return {
      rich: fresh(16),
      poor: fresh(16),
      limited: fresh(16),
      blocked: fresh(16),
      holder: fresh(16),
      short12: fresh(12),
      short13: fresh(13),
      long19: fresh(19),
      filed: fresh(16),
      expiring: fresh(16),
      cliCard: fresh(16),
      unknown: fresh(16),
    };
  })();
  const badLuhn = breakLuhn(cards.rich);
  const bulkPans = Array.from({ length: BULK_COUNT }, (_, i) => simPan(BULK_PREFIX, i));
  const cliSeedPans = Array.from({ length: CLI_SEED_COUNT }, (_, i) => simPan(CLI_SEED_PREFIX, i));
  /** Accounts the switch holds (created through the API or the CLI). */
  const held = [
    ...Object.entries(cards)
      .filter(([name]) => name !== 'unknown')
      .map(([, pan]) => pan),
    ...bulkPans,
    ...cliSeedPans,
  ];
  /** Every PAN this test sends in any way: none may be readable anywhere. */
  const allPans = [...held, cards.unknown, badLuhn];

  let dir = '';
  let dataDir = '';
  const runs: SwitchProcess[] = [];
  const pool = new ClientPool();
  const book = new RrnBook();
  /** Every admin API answer (status and body) and /metrics text, every CLI stdout and stderr. */
  const adminOutput: { where: string; text: string }[] = [];
  const metricsOutput: string[] = [];
  const cliOutput: { where: string; text: string }[] = [];
  const notes: string[] = [];
  /** What the run observed while it ran (a bucket is emptied once its holds are released). */
  let filedMembers: string[] = [];
  let sweptRecords = 0;
  let refs: AccountRefs;
  let redisUrl = '';
  let redisLeaks: Leak[] = [];
  let fileLeaksRunning: Leak[] = [];
  let fileLeaksStopped: Leak[] = [];
  let journal: JournalRow[] = [];
  const positives: Record<string, unknown> = {};
  const startedAt = Date.now();

  const sw = (): SwitchProcess => {
    const current = runs.at(-1);
    if (current === undefined) throw new Error('no switch started');
    return current;
  };

  const config = (holdTtlMs: number): ConfigOverrides => ({
    admin: { token: TOKEN },
    institutions: [institutionEntry(acqTcp), institutionEntry(acqWs)],
    routes: [{ prefix: '4', issuer: 'local' }],
    dataDir,
    clearing: { cycleMs: 86_400_000, outDir: join(dir, 'clearing') },
    // No key source: the switch generates <dataDir>/keys.json.
    keys: undefined,
    holdTtlMs,
    dedupeWindowMs: DEDUPE_WINDOW_MS,
    ledger: { holdExpiryIntervalMs: 200, recordSweepIntervalMs: 200 },
    workers: 2,
    log: { level: 'debug' },
  });

  async function start(holdTtlMs: number): Promise<void> {
    runs.push(await startSwitch({ config: config(holdTtlMs) }));
  }

  async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
    const answer = await admin(sw(), method, path, {
      ...(token === null ? {} : { token }),
      ...(body === undefined ? {} : { body }),
    });
    adminOutput.push({ where: `${method} ${maskPansIn(path)} -> ${answer.status}`, text: answer.text });
    return answer;
  }

  function expectStatus(answer: HttpAnswer, status: number, code?: string): void {
    expect(answer.status, answer.text).toBe(status);
    if (code !== undefined) expect((answer.json as { error?: { code?: string } }).error?.code).toBe(code);
  }

  async function metrics(): Promise<string> {
    const text = (await admin(sw(), 'GET', '/metrics')).text;
    metricsOutput.push(text);
    return text;
  }

  async function metric(name: string): Promise<number> {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(await metrics());
    return match === null ? Number.NaN : Number(match[1]);
  }

  async function cli(args: readonly string[]): Promise<CliResult> {
    const { host, port } = endpoint(sw(), 'admin');
    const result = await runCli([...args, '--admin', `http://${host}:${port}`, '--token', TOKEN]);
    const where = `switchyard ${maskPansIn(args.join(' '))} -> exit ${result.code}`;
    cliOutput.push({ where, text: `${result.stdout}\n${result.stderr}` });
    return result;
  }

  async function tellers(): Promise<{ t: Teller; w: Teller }> {
    const t = new Teller(await pool.signedOn(at(sw(), 'tcp'), acqTcp), book, acqTcp.id);
    const w = new Teller(await pool.signedOn(at(sw(), 'ws'), acqWs), book, acqWs.id);
    return { t, w };
  }

  async function held0(pan: string): Promise<boolean> {
    const answer = await call('GET', `/accounts/${pan}`);
    return answer.status === 200 && (answer.json as { held: number }).held === 0;
  }

  /** A purchase that must be approved; the balance it answers is taken as it comes. */
  async function approve(teller: Teller, pan: string, amount: number): Promise<Msg> {
    const sent = req('0200', { pan, amount });
    const answer = await teller.ask(sent);
    expectAnswer(answer, sent, { rc: '00', amount, balance: answer['balance'] as number });
    return answer;
  }

  /** The same request under a new id, and as a repeat MTI: both answered as the first was. */
  async function expectReplays(teller: Teller, first: Msg, answer: Msg): Promise<void> {
    expect(withoutId(await teller.ask(again(first)))).toEqual(withoutId(answer));
    const mti = first['mti'] as string;
    const repeat = await teller.ask(again(first, { mti: `${mti.slice(0, 3)}1` }));
    expect(withoutId(repeat)).toEqual(withoutId(answer));
  }

  /** Run 1: every admin call, the CLI, and the mixed traffic; its last hold is placed under the long TTL. */
  async function runOne(): Promise<{ filedHold: Msg }> {
    const {
      rich,
      poor,
      limited,
      blocked,
      holder,
      short12,
      short13,
      long19,
      filed,
      expiring,
      cliCard,
      unknown,
    } = cards;
    // PUT create, for every account but the CLI's.
    for (const [pan, body] of [
      [rich, { currency: 'EUR', balance: 100_000 }],
      [poor, { currency: 'EUR', balance: 500 }],
      [limited, { currency: 'EUR', balance: 50_000, limits: { perTxnMax: 1_000, dailyCountMax: 3 } }],
      [blocked, { currency: 'EUR', balance: 10_000 }],
      [holder, { currency: 'EUR', balance: 50_000 }],
      [short12, { currency: 'EUR', balance: 5_000 }],
      [short13, { currency: 'EUR', balance: 5_000 }],
      [long19, { currency: 'EUR', balance: 5_000 }],
      [filed, { currency: 'EUR', balance: 10_000 }],
      [expiring, { currency: 'EUR', balance: 10_000 }],
    ] as const) {
      const created = await call('PUT', `/accounts/${pan}`, body);
      expectStatus(created, 201);
      expect((created.json as { pan: string }).pan).toBe(maskPan(pan));
    }
    // PUT update (status, limits), and its refusals.
    expectStatus(
      await call('PUT', `/accounts/${blocked}`, { currency: 'EUR', balance: 0, status: 'blocked' }),
      200,
    );
    expectStatus(
      await call('PUT', `/accounts/${short12}`, { currency: 'EUR', balance: 0, limits: { dailyMax: 4_000 } }),
      200,
    );
    expectStatus(
      await call('PUT', `/accounts/${rich}`, { currency: 'USD', balance: 1 }),
      409,
      'currency_mismatch',
    );
    expectStatus(
      await call('PUT', `/accounts/${rich}`, { currency: 'EUR', balance: -1 }),
      400,
      'invalid_request',
    );
    expectStatus(
      await call('PUT', `/accounts/${rich}`, { currency: 'EUR', colour: 'red' }),
      400,
      'invalid_request',
    );
    expectStatus(
      await call('PUT', `/accounts/${badLuhn}`, { currency: 'EUR', balance: 1 }),
      400,
      'invalid_request',
    );
    expectStatus(await call('PUT', `/accounts/${rich}`, { currency: 'EUR', balance: 1 }, null), 401);
    // GET, and the 404s: an unknown account, a bad check digit, paths that are not endpoints.
    expectStatus(await call('GET', `/accounts/${rich}`), 200);
    expectStatus(await call('GET', `/accounts/${unknown}`), 404, 'account_not_found');
    expectStatus(await call('GET', `/accounts/${badLuhn}`), 400, 'invalid_request');
    // A field named by a PAN is refused without naming it in full.
    expectStatus(
      await call('PUT', `/accounts/${rich}`, { currency: 'EUR', balance: 1, [rich]: 1 }),
      400,
      'invalid_request',
    );
    expectStatus(await call('GET', `/accounts/${rich}/history`), 404, 'not_found');
    expectStatus(await call('GET', `/cards/${rich}`), 404, 'not_found');
    expectStatus(await call('DELETE', `/accounts/${rich}`), 405, 'method_not_allowed');
    expectStatus(await call('GET', `/accounts/${rich}/adjust`), 405, 'method_not_allowed');
    // Adjust: credit, debit, the same reference again, and the refusals.
    expectStatus(await call('POST', `/accounts/${rich}/adjust`, { amount: 2_500, reference: 'ops-1' }), 200);
    expectStatus(await call('POST', `/accounts/${rich}/adjust`, { amount: -500, reference: 'ops-2' }), 200);
    const replayed = await call('POST', `/accounts/${rich}/adjust`, { amount: 2_500, reference: 'ops-1' });
    expectStatus(replayed, 200);
    expect((replayed.json as { balance: number }).balance).toBe(102_000);
    expectStatus(
      await call('POST', `/accounts/${rich}/adjust`, { amount: 7, reference: 'ops-1' }),
      409,
      'reference_conflict',
    );
    expectStatus(
      await call('POST', `/accounts/${poor}/adjust`, { amount: -501, reference: 'ops-3' }),
      409,
      'insufficient_funds',
    );
    expectStatus(
      await call('POST', `/accounts/${unknown}/adjust`, { amount: 1, reference: 'ops-4' }),
      404,
      'account_not_found',
    );
    expectStatus(await call('POST', `/accounts/${rich}/adjust`, { amount: 0, reference: 'x' }), 400);
    // A reference is stored as written (the adjustment's key): one that holds a card number is refused.
    expectStatus(
      await call('POST', `/accounts/${poor}/adjust`, { amount: 1, reference: `refund ${poor}` }),
      400,
      'invalid_request',
    );
    // Bulk seed, and a refused one.
    const bulk = await call('POST', '/accounts/bulk', {
      count: BULK_COUNT,
      balance: 3_000,
      currency: 'EUR',
      prefix: BULK_PREFIX,
    });
    expectStatus(bulk, 200);
    expect(bulk.json).toMatchObject({ requested: BULK_COUNT, created: BULK_COUNT, failed: 0 });
    expectStatus(await call('POST', '/accounts/bulk', { count: 0, balance: 1, currency: 'EUR' }), 400);
    expectStatus(
      await call('POST', '/accounts/bulk', { count: 1, balance: 1, currency: 'EUR', [rich]: 1 }),
      400,
      'invalid_request',
    );

    const { t, w } = await tellers();
    // Approvals, duplicates and repeats, a 94.
    const purchase = req('0200', { pan: rich, amount: 1_000 });
    const approved = await t.expect(purchase, { rc: '00', amount: 1_000, balance: 101_000 });
    await expectReplays(t, purchase, approved);
    await t.expect(again(purchase, { amount: 999 }), { rc: '94' });
    // Fields an acquirer writes freely, holding a PAN: the id (echoed), merchant and terminal.
    const chatty = req('0200', {
      pan: rich,
      amount: 10,
      extra: { id: `id-${rich}`, merchant: `M${rich}`, terminal: rich },
    });
    await t.expect(chatty, { rc: '00', amount: 10, balance: 100_990 });
    const numericId = req('0200', { pan: rich, amount: 10, extra: { id: Number(short13) } });
    await w.expect(numericId, { rc: '00', amount: 10, balance: 100_980 });
    // A PAN sent as an integer (a uint64 on the wire) is a format error.
    for (const pan of [rich, badLuhn]) {
      const answer = await t.ask({ ...req('0200', { pan, amount: 1 }), pan: BigInt(pan) });
      expect(answer['rc']).toBe('30');
    }
    // A seeded burst over WebSocket: purchases, cash and refunds.
    let available = 100_980;
    for (let i = 0; i < BURST; i++) {
      const kind = rng.weighted([
        ['00', 6],
        ['01', 2],
        ['20', 2],
      ] as const);
      const amount = rng.int(1, 500);
      available += kind === '20' ? amount : -amount;
      await w.expect(req('0200', { pan: rich, amount, proc: kind }), {
        rc: '00',
        amount,
        balance: available,
      });
    }
    // Declines: insufficient funds, over the limit per transaction, over the daily count, blocked.
    const declined = req('0200', { pan: poor, amount: 1_000 });
    const answer51 = await t.expect(declined, { rc: '51' });
    await expectReplays(t, declined, answer51);
    await w.expect(req('0200', { pan: limited, amount: 2_000 }), { rc: '61' });
    for (let i = 1; i <= 3; i++)
      await w.expect(req('0200', { pan: limited, amount: 100 }), {
        rc: '00',
        amount: 100,
        balance: 50_000 - 100 * i,
      });
    await w.expect(req('0200', { pan: limited, amount: 100 }), { rc: '65' });
    await t.expect(req('0200', { pan: blocked, amount: 100 }), { rc: '57' });
    await t.expect(req('0100', { pan: blocked, amount: 100 }), { rc: '57' });
    await t.expect(req('0200', { pan: short12, amount: 4_500 }), { rc: '61' });
    // Holds: completed, reversed; a purchase reversed (and that reversal repeated); an inquiry.
    const hold = req('0100', { pan: holder, amount: 5_000 });
    await w.expect(hold, { rc: '00', amount: 5_000, balance: 45_000 });
    const completion = req('0220', { pan: holder, amount: 3_000, orig: hold });
    const completed = await w.expect(completion, { rc: '00', amount: 3_000, balance: 47_000 });
    await expectReplays(w, completion, completed);
    const hold2 = req('0100', { pan: holder, amount: 2_000 });
    await w.expect(hold2, { rc: '00', amount: 2_000, balance: 45_000 });
    const holdReversal = req('0400', { pan: holder, amount: 2_000, orig: hold2 });
    await w.expect(holdReversal, { rc: '00', amount: 2_000, balance: 47_000 });
    const bought = req('0200', { pan: holder, amount: 1_000 });
    await t.expect(bought, { rc: '00', amount: 1_000, balance: 46_000 });
    const reversal = req('0400', { pan: holder, amount: 1_000, orig: bought });
    const reversed = await t.expect(reversal, { rc: '00', amount: 1_000, balance: 47_000 });
    await expectReplays(t, reversal, reversed);
    await t.expect(req('0220', { pan: holder, amount: 10, orig: { stan: 4, time: 1_700_000_000_000 } }), {
      rc: '25',
    });
    await w.expect(req('0100', { pan: holder, amount: 0, proc: '31' }), {
      rc: '00',
      amount: 0,
      balance: 47_000,
    });
    // Not a card of this switch, and not a card at all.
    await t.expect(req('0200', { pan: unknown, amount: 100 }), { rc: '14' });
    await w.expect(req('0100', { pan: unknown, amount: 0, proc: '31' }), { rc: '14' });
    await t.expect(req('0200', { pan: badLuhn, amount: 100 }), { rc: '14' });
    // Every PAN length, and the bulk accounts.
    await w.expect(req('0200', { pan: short12, amount: 100 }), { rc: '00', amount: 100, balance: 4_900 });
    await w.expect(req('0200', { pan: short13, amount: 100 }), { rc: '00', amount: 100, balance: 4_900 });
    await t.expect(req('0200', { pan: long19, amount: 100 }), { rc: '00', amount: 100, balance: 4_900 });
    for (const pan of bulkPans.slice(0, 5))
      await t.expect(req('0200', { pan, amount: 250 }), { rc: '00', amount: 250, balance: 2_750 });

    // The CLI: put (create and update), get, adjust, seed, and a failure of each kind.
    const put = await cli(['accounts', 'put', cliCard, '--currency', 'EUR', '--balance', '8000']);
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ pan: maskPan(cliCard), balance: 8_000 });
    const update = await cli([
      'accounts',
      'put',
      cliCard,
      '--currency',
      'EUR',
      '--balance',
      '0',
      '--per-txn-max',
      '5000',
    ]);
    expect(update.code, update.stderr).toBe(0);
    const adjust = await cli(['accounts', 'adjust', cliCard, '--amount', '-300', '--reference', 'cli-1']);
    expect(adjust.code, adjust.stderr).toBe(0);
    const got = await cli(['accounts', 'get', cliCard]);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      pan: maskPan(cliCard),
      balance: 7_700,
      limits: { perTxnMax: 5_000 },
    });
    const missing = await cli(['accounts', 'get', unknown]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
    const refused = await cli(['accounts', 'put', badLuhn, '--currency', 'EUR', '--balance', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('400');
    const usage = await cli(['accounts', 'get', cliCard, '--no-such-option']);
    expect(usage.code).toBe(2);
    const seeded = await cli([
      'accounts',
      'seed',
      '--count',
      String(CLI_SEED_COUNT),
      '--balance',
      '900',
      '--currency',
      'EUR',
      '--prefix',
      CLI_SEED_PREFIX,
      '--progress',
    ]);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({ requested: CLI_SEED_COUNT, created: CLI_SEED_COUNT });
    await w.expect(req('0200', { pan: cliCard, amount: 700 }), { rc: '00', amount: 700, balance: 7_000 });
    await w.expect(req('0200', { pan: cliSeedPans[0]!, amount: 100 }), {
      rc: '00',
      amount: 100,
      balance: 800,
    });

    // Last: a hold under the long TTL, which run 2 (short TTL) finds not due yet and files.
    const filedHold = req('0100', { pan: filed, amount: 1_000 });
    await t.expect(filedHold, { rc: '00', amount: 1_000, balance: 9_000 });
    await metrics();
    return { filedHold };
  }

  /** The members of `pan`'s hold buckets (its log partition's), as Redis holds them now. */
  async function bucketMembers(r: Redis, pan: string): Promise<string[]> {
    const keys = keySpace();
    const partition = logPartitionOf(refs.shardOf(pan));
    const buckets = await r.smembers(keys.holdBuckets(partition));
    const members: string[] = [];
    for (const bucket of buckets)
      members.push(...(await r.lrange(keys.holdBucket(partition, Number(bucket)), 0, -1)));
    const mine = `${refs.shardOf(pan)}:${refs.refOf(pan)}#`;
    return members.filter((m) => m.startsWith(mine));
  }

  /** The private redis-server's URL, from the switch's own log line saying it started one. */
  function privateRedisUrl(run: SwitchProcess): string {
    for (const line of run.stdout) {
      if (!line.includes('"started a private redis-server')) continue;
      const { host, port } = JSON.parse(line) as { host: string; port: number };
      return `redis://${host}:${port}`;
    }
    throw new Error('the switch did not say it started a private redis-server');
  }

  /** Runs 2 and 3 on one card: a hold under the short TTL, released by the expiry job. */
  async function holdThatExpires(t: Teller, amount: number, balanceAfter: number): Promise<void> {
    await t.expect(req('0100', { pan: cards.expiring, amount }), { rc: '00', amount, balance: balanceAfter });
    expect(
      await waitFor(() => held0(cards.expiring), SHORT_TTL_MS + EVENTUALLY_MS, 100),
      'a hold under the short TTL is released',
    ).toBe(true);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-at-rest-'));
    trackDir(dir);
    dataDir = join(dir, 'data');

    // Run 1.
    await start(LONG_TTL_MS);
    refs = new AccountRefs(readKeyFile(join(dataDir, 'keys.json')));
    const { filedHold } = await runOne();
    pool.closeAll();
    expect(await sw().stop(), 'run 1 stops cleanly').toEqual({ code: 0, signal: null });

    // Run 2: the filed hold, a hold that expires, the record sweep; then kill -9.
    await start(SHORT_TTL_MS);
    const r2 = new Redis(privateRedisUrl(sw()), { maxRetriesPerRequest: 2 });
    try {
      expect(
        await waitFor(
          async () => {
            filedMembers = await bucketMembers(r2, cards.filed);
            return filedMembers.length > 0;
          },
          EVENTUALLY_MS,
          50,
        ),
        'run 1’s last hold, found in the journal and not due yet, is filed into a hold bucket',
      ).toBe(true);
    } finally {
      r2.disconnect();
    }
    notes.push(`filed ${Date.now() - (filedHold['time'] as number)} ms after the hold was sent`);
    {
      const { t, w } = await tellers();
      await approve(w, cards.rich, 10);
      await holdThatExpires(t, 300, 9_700);
      expect(
        await waitFor(
          async () => {
            sweptRecords = await metric('switchyard_ledger_sweep_deleted_records_total');
            return sweptRecords > 0;
          },
          DEDUPE_WINDOW_MS + EVENTUALLY_MS,
          100,
        ),
        'the record sweep deletes run 1’s records past the dedupe window',
      ).toBe(true);
      const dup = req('0200', { pan: cards.short13, amount: 50 });
      await expectReplays(t, dup, await t.expect(dup, { rc: '00', amount: 50, balance: 4_850 }));
      await t.expect(req('0200', { pan: cards.unknown, amount: 1 }), { rc: '14' });
      expectStatus(await call('GET', `/accounts/${cards.filed}`), 200);
    }
    pool.closeAll();
    await sw().kill9();

    // Run 3: more traffic, the filed hold released from its bucket, another hold expires.
    await start(SHORT_TTL_MS);
    {
      const { t, w } = await tellers();
      await holdThatExpires(w, 200, 9_800);
      for (const pan of [cards.short12, cards.long19, ...bulkPans.slice(5, 8)]) await approve(t, pan, 5);
      const dup = req('0200', { pan: cards.long19, amount: 7 });
      await expectReplays(w, dup, await w.expect(dup, { rc: '00', amount: 7, balance: 4_888 }));
      await t.expect(req('0200', { pan: badLuhn, amount: 1 }), { rc: '14' });
      expect(
        await waitFor(() => held0(cards.filed), LONG_TTL_MS + EVENTUALLY_MS, 200),
        'the filed hold is released from its bucket after the kill -9',
      ).toBe(true);
      for (const pan of held) expectStatus(await call('GET', `/accounts/${pan}`), 200);
      expectStatus(await call('GET', `/accounts/${cards.unknown}`), 404, 'account_not_found');
      expectStatus(await call('GET', `/accounts/${cards.rich}/history`), 404, 'not_found');
      expectStatus(await call('POST', `/accounts/${cards.rich}`, {}), 405, 'method_not_allowed');
      const got = await cli(['accounts', 'get', cards.filed]);
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ pan: maskPan(cards.filed), held: 0, balance: 10_000 });
      positives['released by expiry in run 3'] = await metric('switchyard_ledger_hold_expiry_released_total');
    }
    pool.closeAll();

    // Redis writes its files uncompressed; everything is read while the switch runs.
    redisUrl = privateRedisUrl(sw());
    const r = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    try {
      await rewriteUncompressed(r, EVENTUALLY_MS);
      await r.save();
      redisLeaks = await scanRedis(r, allPans);
      positives['redis keys'] = await r.dbsize();
      const keys = keySpace();
      const accounts: Record<string, unknown> = {};
      for (const pan of held) {
        const ref = refs.refOf(pan);
        const log = await accountLogAt(r, keys.account(refs.shardOf(pan), ref));
        accounts[maskPan(pan)] =
          log?.account === undefined
            ? 'missing'
            : {
                masked: log.account.panMasked,
                opens: refs.openPan(log.account.panSealed, ref) === pan,
              };
      }
      positives['accounts'] = accounts;
      positives['unknown account key'] = await r.exists(
        keys.account(refs.shardOf(cards.unknown), refs.refOf(cards.unknown)),
      );
      positives['account keys'] = (await r.keys(keys.accountPattern())).length;
    } finally {
      r.disconnect();
    }
    journal = await readJournal(redisUrl, held, refs);
    fileLeaksRunning = scanFiles(dir, allPans);
    expect(await sw().stop(), 'run 3 stops cleanly').toEqual({ code: 0, signal: null });
    fileLeaksStopped = [...scanFiles(dir, allPans), ...runs.flatMap((run) => scanFiles(run.dir, allPans))];
    notes.push(`scenario took ${Date.now() - startedAt} ms`);
    console.log(`[card-data-at-rest] ${notes.join('; ')}`);
  }, 150_000);

  afterAll(async () => {
    pool.closeAll();
    for (const run of runs) await run.dispose();
    if (dir !== '') removeDir(dir);
  });

  it('finds each account under its tokenized key, its PAN sealed (it opens to the PAN) and masked', () => {
    expect(held.every((pan) => luhnValid(pan))).toBe(true);
    const expected = Object.fromEntries(
      held.map((pan) => [maskPan(pan), { masked: maskPan(pan), opens: true }]),
    );
    expect(positives['accounts']).toEqual(expected);
    expect(positives['unknown account key'], 'no account for the unknown card').toBe(0);
    expect(positives['account keys']).toBe(held.length);
  });

  it('finds journal records with masked PANs for the accounts, of every kind the traffic made', () => {
    expect(journal.length).toBeGreaterThan(held.length);
    for (const row of journal) expect(row.panMasked, row.streamId).toBe(maskPan(row.pan));
    const kinds = new Set(journal.map((row) => row.kind));
    for (const kind of ['open', 'debit', 'credit', 'adjust', 'hold', 'complete', 'release', 'expire'])
      expect(kinds, kind).toContain(kind);
    const expiredFor = new Set(journal.filter((row) => row.kind === 'expire').map((row) => row.pan));
    expect(expiredFor.has(cards.expiring), 'the short-TTL holds expired').toBe(true);
    expect(expiredFor.has(cards.filed), 'the filed hold expired').toBe(true);
    expect(journal.filter((row) => row.kind === 'expire' && row.pan === cards.expiring)).toHaveLength(2);
  });

  it('filed a hold into a bucket by its stored reference, and swept records past the window', () => {
    expect(filedMembers.length).toBeGreaterThan(0);
    for (const member of filedMembers)
      expect(member.startsWith(holdMember(refs.shardOf(cards.filed), refs.refOf(cards.filed), ''))).toBe(
        true,
      );
    expect(sweptRecords).toBeGreaterThan(0);
    expect(positives['released by expiry in run 3']).toBeGreaterThan(0);
  });

  it('has no full PAN in any Redis key name or value', () => {
    expect(positives['redis keys']).toBeGreaterThan(held.length);
    expect(shown(redisLeaks)).toEqual([]);
  });

  it('has no full PAN in the AOF, the RDB or any other file, while running and once stopped', () => {
    const redisDir = join(dataDir, 'redis');
    const aofDir = join(redisDir, readdirSync(redisDir).find((n) => n.startsWith('appendonly')) ?? 'none');
    const aofFiles = readdirSync(aofDir).filter((n) => n.endsWith('.aof'));
    expect(aofFiles.length).toBeGreaterThan(0);
    // The files are read as stored: the account keys' refs are there in clear, so a PAN would be.
    const aof = Buffer.concat(aofFiles.map((n) => readFileSync(join(aofDir, n))));
    const rdb = readFileSync(join(redisDir, 'dump.rdb'));
    expect(statSync(join(redisDir, 'dump.rdb')).size).toBeGreaterThan(0);
    for (const pan of [cards.rich, cards.long19, cards.short12]) {
      expect(aof.includes(refs.refOf(pan)), 'a ref in the AOF').toBe(true);
      expect(rdb.includes(refs.refOf(pan)), 'a ref in the RDB').toBe(true);
    }
    // And the scanner sees a PAN in a form this run sent it in (the wire frame), so it is not blind to these PANs.
    expect(leaksIn(encode(req('0200', { pan: cards.long19, amount: 1 })), allPans, 'frame')).toHaveLength(1);
    expect(shown(fileLeaksRunning)).toEqual([]);
    expect(shown(fileLeaksStopped)).toEqual([]);
  });

  it('has no full PAN in any run’s stdout or stderr', () => {
    expect(runs).toHaveLength(3);
    for (const [i, run] of runs.entries()) {
      const text = [...run.stdout, ...run.stderr].join('\n');
      expect(run.stdout.length, `run ${i + 1} logged`).toBeGreaterThan(10);
      expect(shown(leaksIn(Buffer.from(text), allPans, `run ${i + 1} output`))).toEqual([]);
    }
    // The log says masked what it says about cards: the generated key file, nothing of its keys.
    expect(runs[0]!.stdout.join('\n')).toContain('generated a key file');
  });

  it('has no full PAN in any admin API answer, /metrics, or the CLI’s output', () => {
    expect(adminOutput.length).toBeGreaterThan(40);
    expect(metricsOutput.length).toBeGreaterThanOrEqual(3);
    expect(cliOutput.length).toBeGreaterThan(8);
    const leaks = [
      ...adminOutput.flatMap(({ where, text }) => leaksIn(Buffer.from(text), allPans, `admin ${where}`)),
      ...metricsOutput.flatMap((text) => leaksIn(Buffer.from(text), allPans, '/metrics')),
      ...cliOutput.flatMap(({ where, text }) => leaksIn(Buffer.from(text), allPans, where)),
    ];
    expect(shown(leaks)).toEqual([]);
    // Masked forms are what they show.
    expect(adminOutput.map((a) => a.text).join('\n')).toContain(maskPan(cards.long19));
    expect(cliOutput.map((c) => c.text).join('\n')).toContain(maskPan(cards.cliCard));
  });
});
