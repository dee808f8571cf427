/**
 * The ledger worker's core (actors, activation, group commit) in-process
 * against a real redis-server: the failure paths a wire test cannot aim at
 * precisely. Redis down -> 96 and recovery; a commit refused by a moved
 * epoch; passivation and reactivation; state surviving a new core.
 */

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TxnRequest } from '../../src/protocol/request.js';
import { MAILBOX_MAX } from '../../src/runtime/core/ledger-core.js';
import { fieldsOf, type ResponseFields } from '../../src/runtime/records/stored-response.js';
import { LOG_COMPACT_MIN_BYTES } from '../../src/runtime/storage/account-log.js';
import { CommitBatch } from '../../src/runtime/storage/commit-batch.js';
import {
  COMMIT_ALREADY_APPLIED,
  COMMIT_APPLIED,
  COMMIT_FENCED,
  COMMIT_PREDECESSOR_MISSING,
  COMMIT_SCRIPT,
} from '../../src/runtime/storage/commit-script.js';
import { encodeAccount } from '../../src/runtime/storage/state-codec.js';
import type { AdminOutcome, WorkItem, WorkResult } from '../../src/runtime/worker/worker-protocol.js';
import { keySpace, SHARD_COUNT } from '../../src/store/keys.js';
import { claimAllShards } from '../../src/store/shard-epoch.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { accountLogAt, logHasRecord } from '../helpers/account-log.js';
import {
  type CoreHarness,
  type CoreHarnessOptions,
  startCoreHarness,
} from '../helpers/ledger-core-harness.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { accountKeyOf, devRefs } from '../helpers/test-keys.js';
import { txnRequest } from '../helpers/txn-request.js';

let redis: RedisHandle;
let admin: Redis;
const cores: CoreHarness[] = [];
let prefixSeq = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterEach(() => {
  for (const h of cores.splice(0)) {
    h.writer.disconnect();
    h.reader.disconnect();
  }
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

type Harness = CoreHarness;

/** A core with its own key prefix (tests do not see each other's data), fail-fast connections like the worker's. */
async function newCore(options: Partial<CoreHarnessOptions> = {}): Promise<Harness> {
  const h = await startCoreHarness(redis.url, admin, { prefix: `t${++prefixSeq}`, ...options });
  cores.push(h);
  return h;
}

let seq = 0;
const pan = (n: number): string => withLuhnDigit(`41000000${String(n).padStart(7, '0')}`);

function put(p: string, balance: number): WorkItem {
  return {
    k: 'put',
    seq: ++seq,
    pan: p,
    currency: 'EUR',
    balance,
    limits: undefined,
    status: undefined,
    createOnly: false,
  };
}

function txn(p: string, stan: number, amount: number, overrides: Partial<TxnRequest> = {}): WorkItem {
  const req = txnRequest({ id: stan, stan, time: 1_764_000_000_000 + stan, pan: p, amount, ...overrides });
  return { k: 'txn', seq: ++seq, institution: 'acq', req };
}

function rcOf(result: WorkResult | undefined): string | undefined {
  return result?.k === 'txn' ? result.response.rc : undefined;
}

/** The response's fields as they go on the wire (a core keeps rrn and authCode in parts). */
function responseOf(result: WorkResult | undefined): ResponseFields {
  if (result?.k !== 'txn') throw new Error(`not a transaction result: ${JSON.stringify(result)}`);
  return fieldsOf(result.response);
}

function accountOf(result: WorkResult | undefined): AdminOutcome {
  if (result?.k !== 'admin') throw new Error('not an admin result');
  return result.outcome;
}

describe('LedgerCore against a real Redis', () => {
  it('approves durably: a new core on the same Redis sees the effect and replays the response', async () => {
    const h = await newCore({ prefix: 'durable' });
    const p = pan(1);
    await h.run([put(p, 10_000)]);
    const [first] = await h.run([txn(p, 1, 2_500)]);
    expect(rcOf(first)).toBe('00');
    const again = await newCore({ prefix: 'durable' });
    const [replay] = await again.run([txn(p, 1, 2_500)]);
    expect(responseOf(replay)).toEqual(responseOf(first));
    const [view] = await again.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({
      ok: true,
      account: { balance: 10_000, held: 2_500, available: 7_500 },
    });
  });

  it('a commit sent while the one before reloads the commit script (Redis restarted) waits for it', async () => {
    const h = await newCore();
    const [a, b] = [pan(5), pan(6)];
    await h.run([put(a, 10_000), put(b, 10_000)]);
    // A restarted Redis has no scripts: the next commit meets NOSCRIPT, loads the script and sends
    // itself again. A purchase decided just then must not reach Redis between the load and that
    // retry: chained to the first commit, it would find it missing and both would be answered 96.
    await admin.script('FLUSH');
    const load = h.writer.script.bind(h.writer) as (...args: unknown[]) => Promise<unknown>;
    let second: Promise<WorkResult[]> | undefined;
    (h.writer as unknown as { script: (...args: unknown[]) => Promise<unknown> }).script = (...args) => {
      second ??= h.run([txn(b, 21, 100)]);
      return load(...args);
    };
    const first = await h.run([txn(a, 20, 100)]);
    expect(second).toBeDefined();
    expect([rcOf(first[0]), rcOf((await second!)[0])]).toEqual(['00', '00']);
  });

  it('answers 96 while Redis refuses writes, writes nothing, and recovers after re-fencing', async () => {
    const h = await newCore();
    const p = pan(2);
    await h.run([put(p, 10_000)]);
    // Make every write fail: Redis answers OOM to writes under noeviction once maxmemory is below usage.
    await admin.config('SET', 'maxmemory', '1');
    h.core.takeStats();
    try {
      const [declined] = await h.run([txn(p, 10, 1_000)]);
      expect(rcOf(declined)).toBe('96');
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // The failed commit, for switchyard_ledger_commit_failures_total; nothing confirmed.
    const stats = h.core.takeStats();
    expect(stats.commitFailures).toBe(1);
    expect(stats.batchSizes.count).toBe(0);
    // After the failure the worker re-fences and reloads: the same key now gets a real decision, once.
    const results = await h.run([txn(p, 10, 1_000)]);
    expect(rcOf(results[0])).toBe('00');
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { held: 1_000 } });
    expect(h.core.liveRecords).toBe(0);
  });

  it('keeps at most recordsPerActorMax records in memory and fetches an evicted one when a key needs it', async () => {
    const h = await newCore({ recordsPerActorMax: 2 });
    const p = pan(5);
    await h.run([put(p, 100_000)]);
    // Ten holds, each its own batch: once a batch is confirmed, older records leave memory.
    const holds: ResponseFields[] = [];
    for (let i = 0; i < 10; i++) holds.push(responseOf((await h.run([txn(p, 100 + i, 1_000)]))[0]));
    expect(holds.every((r) => r.rc === '00')).toBe(true);
    const actor = h.core.actorOf(p);
    expect(actor?.records.size).toBeLessThanOrEqual(2);
    // A repeat of the first hold: its record comes back from Redis, the same response, no new effect.
    const replay = responseOf((await h.run([txn(p, 100, 1_000)]))[0]);
    expect(replay).toEqual(holds[0]);
    // Same key, other content: 94.
    expect(rcOf((await h.run([txn(p, 101, 999)]))[0])).toBe('94');
    // A completion and a reversal of evicted originals (each fetched), in one batch with other work.
    const mixed = await h.run([
      txn(p, 200, 600, { txnClass: '0220', origStan: 102, origTime: 1_764_000_000_000 + 102 }),
      txn(p, 201, 1_000, { txnClass: '0400', origStan: 103, origTime: 1_764_000_000_000 + 103 }),
      txn(p, 202, 500),
    ]);
    expect(mixed.map(rcOf)).toEqual(['00', '00', '00']);
    // A second reversal of the reversed original: fetched again, answered as already reversed
    // (the first reversal's rc, docs/protocol.md section 3) with no second release: see held below.
    const again = await h.run([
      txn(p, 203, 1_000, { txnClass: '0400', origStan: 103, origTime: 1_764_000_000_000 + 103 }),
    ]);
    expect(rcOf(again[0])).toBe('00');
    const [mine] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(mine)).toMatchObject({
      ok: true,
      account: { balance: 100_000 - 600, held: 8 * 1_000 + 500 },
    });
    // The stats the metrics show: keys filed, and one read per record fetched above: the repeat,
    // the 94, the completion's and the two reversals' originals.
    const stats = h.core.takeStats();
    expect(stats.evictedKeys).toBeGreaterThan(0);
    expect(stats.recordReads).toBe(5);
    // Redis agrees with memory: 10 holds of 1,000 + 500, one completed for 600 (posted), one reversed.
    const reader = await newCore({ prefix: h.keys.prefix });
    const [view] = await reader.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({
      ok: true,
      account: { balance: 100_000 - 600, held: 8 * 1_000 + 500 },
    });
  });

  it('reverses a declined original that was evicted: 00, no effect, and its repeat still gets the decline', async () => {
    const h = await newCore({ recordsPerActorMax: 2 });
    const p = pan(6);
    await h.run([put(p, 1_000)]);
    const declined = responseOf((await h.run([txn(p, 300, 5_000)]))[0]);
    expect(declined.rc).toBe('51');
    for (let i = 0; i < 5; i++) await h.run([txn(p, 310 + i, 10)]);
    const [reversal] = await h.run([
      txn(p, 320, 5_000, { txnClass: '0400', origStan: 300, origTime: 1_764_000_000_000 + 300 }),
    ]);
    expect(responseOf(reversal)).toMatchObject({ rc: '00', amount: 5_000, balance: 1_000 - 5 * 10 });
    expect(responseOf((await h.run([txn(p, 300, 5_000)]))[0])).toEqual(declined);
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { balance: 1_000, held: 5 * 10 } });
  });

  it('forgets evicted keys past the dedupe window and deletes their records from Redis, open holds excepted', async () => {
    const windowMs = 80_000;
    let nowMs = Date.UTC(2026, 10, 26, 12);
    const h = await newCore({ recordsPerActorMax: 2, dedupeWindowMs: windowMs, nowMs: () => nowMs });
    const p = pan(9);
    const accountKey = accountKeyOf(h.keys, p);
    await h.run([put(p, 1_000_000)]);
    const field = (stan: number): string => `acq|${stan}|${1_764_000_000_000 + stan}`;
    // Early: an open hold, a hold later reversed, purchases; then enough work to evict them all.
    const openHold = responseOf((await h.run([txn(p, 500, 7_000)]))[0]);
    await h.run([txn(p, 501, 3_000)]);
    await h.run([txn(p, 502, 3_000, { txnClass: '0400', origStan: 501, origTime: 1_764_000_000_000 + 501 })]);
    for (let i = 0; i < 4; i++) await h.run([txn(p, 510 + i, 100, { txnClass: '0200' })]);
    expect(await logHasRecord(admin, accountKey, field(510))).toBe(1);
    const actor = h.core.actorOf(p)!;
    const evictedEarly = actor.evicted.size;
    // Seven records, two kept in memory (512, 513): the other five were evicted.
    expect(evictedEarly).toBe(5);
    // Past the window (and a generation later), new work evicts into a new generation and drops the old.
    nowMs += windowMs + windowMs / 8 + 1;
    for (let i = 0; i < 4; i++) await h.run([txn(p, 600 + i, 100, { txnClass: '0200' })]);
    nowMs += windowMs / 8 + 1;
    await h.run([txn(p, 610, 100, { txnClass: '0200' })]);
    for (const stan of [501, 502, 510, 511])
      expect(await logHasRecord(admin, accountKey, field(stan)), `record ${stan} past the window`).toBe(0);
    // 512 and 513 left memory late, in a generation with newer records: kept until that one is past.
    expect(await logHasRecord(admin, accountKey, field(512))).toBe(1);
    // The open hold is still in Redis and in the evicted set: a repeat replays it, a completion finds it.
    expect(await logHasRecord(admin, accountKey, field(500))).toBe(1);
    // Remembered now: 512, 513, 600, 601 (second generation), 602 (third) and the carried hold;
    // without expiry all ten evictions would still be there.
    expect(actor.evicted.size).toBe(evictedEarly + 5 - 4);
    expect(responseOf((await h.run([txn(p, 500, 7_000)]))[0])).toEqual(openHold);
    const [completion] = await h.run([
      txn(p, 620, 6_000, { txnClass: '0220', origStan: 500, origTime: 1_764_000_000_000 + 500 }),
    ]);
    expect(rcOf(completion)).toBe('00');
    // A new key past the window is a new transaction: approved as such.
    expect(rcOf((await h.run([txn(p, 510, 100, { txnClass: '0200' })]))[0])).toBe('00');
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({
      ok: true,
      account: { balance: 1_000_000 - 4 * 100 - 5 * 100 - 6_000 - 100, held: 0 },
    });
  });

  it('prunes in memory and from Redis once an actor holds 64 records: past the window go, open holds stay', async () => {
    const windowMs = 60_000;
    let nowMs = Date.UTC(2026, 10, 26, 12);
    const h = await newCore({ dedupeWindowMs: windowMs, nowMs: () => nowMs });
    const p = pan(11);
    const accountKey = accountKeyOf(h.keys, p);
    const field = (stan: number): string => `acq|${stan}|${1_764_000_000_000 + stan}`;
    await h.run([put(p, 1_000_000)]);
    // Early: two open holds, a hold reversed (its reversal too) and 36 purchases (40 records).
    await h.run([txn(p, 800, 1_000), txn(p, 801, 2_000), txn(p, 802, 3_000)]);
    await h.run([txn(p, 803, 3_000, { txnClass: '0400', origStan: 802, origTime: 1_764_000_000_000 + 802 })]);
    await h.run(Array.from({ length: 36 }, (_, i) => txn(p, 810 + i, 100, { txnClass: '0200' })));
    // Past the window: 24 more reach 64 records; the next decision prunes.
    nowMs += windowMs + 1;
    await h.run(Array.from({ length: 24 }, (_, i) => txn(p, 900 + i, 100, { txnClass: '0200' })));
    const actor = h.core.actorOf(p)!;
    expect(actor.records.size).toBe(64);
    await h.run([txn(p, 950, 100, { txnClass: '0200' })]);
    // Left: the two open holds and the 25 recent purchases.
    expect(actor.records.size).toBe(27);
    for (const stan of [802, 803, 810, 845])
      expect(await logHasRecord(admin, accountKey, field(stan)), `record ${stan} past the window`).toBe(0);
    for (const stan of [800, 801, 900, 923, 950])
      expect(await logHasRecord(admin, accountKey, field(stan)), `record ${stan} kept`).toBe(1);
    // A pruned key is a new transaction now; the holds still complete.
    expect(rcOf((await h.run([txn(p, 810, 100, { txnClass: '0200' })]))[0])).toBe('00');
    const [completion] = await h.run([
      txn(p, 960, 500, { txnClass: '0220', origStan: 800, origTime: 1_764_000_000_000 + 800 }),
    ]);
    expect(rcOf(completion)).toBe('00');
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({
      ok: true,
      account: { balance: 1_000_000 - 36 * 100 - 25 * 100 - 100 - 500, held: 2_000 },
    });
  });

  it('prunes records past the window from Redis when an account with few records is activated again', async () => {
    const windowMs = 60_000;
    let nowMs = Date.UTC(2026, 10, 26, 12);
    const first = await newCore({ dedupeWindowMs: windowMs, nowMs: () => nowMs });
    const p = pan(10);
    const accountKey = accountKeyOf(first.keys, p);
    const field = (stan: number): string => `acq|${stan}|${1_764_000_000_000 + stan}`;
    await first.run([put(p, 100_000)]);
    await first.run([txn(p, 700, 1_000), txn(p, 701, 2_000, { txnClass: '0200' })]);
    expect(await logHasRecord(admin, accountKey, field(701))).toBe(1);
    // A day later another owner (a restart) activates the account: three records, far below any floor.
    nowMs += windowMs + 1;
    const second = await newCore({ prefix: first.keys.prefix, dedupeWindowMs: windowMs, nowMs: () => nowMs });
    expect(rcOf((await second.run([txn(p, 702, 500, { txnClass: '0200' })]))[0])).toBe('00');
    expect(await logHasRecord(admin, accountKey, field(701)), 'the purchase past the window').toBe(0);
    // The open hold stays (expiry and completion need it); the new purchase is there.
    expect(await logHasRecord(admin, accountKey, field(700))).toBe(1);
    expect(await logHasRecord(admin, accountKey, field(702))).toBe(1);
    const [view] = await second.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { balance: 100_000 - 2_500, held: 1_000 } });
  });

  describe('the record sweep', () => {
    const windowMs = 60_000;
    const field = (stan: number): string => `acq|${stan}|${1_764_000_000_000 + stan}`;
    const sweep = (p: string): WorkItem => ({
      k: 'sweep',
      seq: ++seq,
      shard: devRefs.shardOf(p),
      ref: devRefs.refOf(p),
    });
    const outcomeOf = (result: WorkResult | undefined) =>
      result?.k === 'sweep' ? result.outcome : undefined;
    const inMemory = (h: Harness, p: string): boolean => h.core.actorOf(p) !== undefined;

    it('deletes an idle account’s records past the window from Redis, keeps its open hold, and leaves memory again', async () => {
      let nowMs = Date.UTC(2026, 10, 26, 12);
      const first = await newCore({ dedupeWindowMs: windowMs, nowMs: () => nowMs });
      const p = pan(20);
      const accountKey = accountKeyOf(first.keys, p);
      await first.run([put(p, 100_000)]);
      await first.run([
        txn(p, 700, 1_000),
        txn(p, 701, 2_000, { txnClass: '0200' }),
        txn(p, 702, 300, { txnClass: '0200' }),
      ]);
      // A window later a new owner (a restart) has never seen the account: only the sweep brings it in.
      nowMs += windowMs + 1;
      const second = await newCore({
        prefix: first.keys.prefix,
        dedupeWindowMs: windowMs,
        nowMs: () => nowMs,
      });
      expect((await accountLogAt(admin, accountKey))?.records).toHaveLength(3);
      expect(outcomeOf((await second.run([sweep(p)]))[0])).toBe(2);
      expect(await logHasRecord(admin, accountKey, field(701))).toBe(0);
      expect(await logHasRecord(admin, accountKey, field(702))).toBe(0);
      expect(await logHasRecord(admin, accountKey, field(700)), 'the open hold').toBe(1);
      expect((await accountLogAt(admin, accountKey))?.account).toMatchObject({ balance: 100_000 - 2_300 });
      expect(inMemory(second, p), 'an actor brought in by the sweep only').toBe(false);
      // Nothing left to delete; the account is as it was, and its hold still completes.
      expect(outcomeOf((await second.run([sweep(p)]))[0])).toBe(0);
      const [completion] = await second.run([
        txn(p, 710, 1_000, { txnClass: '0220', origStan: 700, origTime: 1_764_000_000_000 + 700 }),
      ]);
      expect(rcOf(completion)).toBe('00');
      const [view] = await second.run([{ k: 'get', seq: ++seq, pan: p }]);
      expect(accountOf(view)).toMatchObject({
        ok: true,
        account: { balance: 100_000 - 2_300 - 1_000, held: 0 },
      });
    });

    it('compacts the small log of an account in memory once its sweep dropped every record', async () => {
      let nowMs = Date.UTC(2026, 10, 26, 12);
      const h = await newCore({ dedupeWindowMs: windowMs, nowMs: () => nowMs });
      const p = pan(22);
      const accountKey = accountKeyOf(h.keys, p);
      await h.run([put(p, 100_000)]);
      for (let i = 0; i < 3; i++) await h.run([txn(p, 850 + i, 100, { txnClass: '0200' })]);
      const before = (await admin.strlen(accountKey)) as number;
      expect(before).toBeLessThan(LOG_COMPACT_MIN_BYTES);
      nowMs += windowMs + 1;
      expect(outcomeOf((await h.run([sweep(p)]))[0])).toBe(3);
      // The sweep's commit drops the records; the compaction follows it (a read, then a commit).
      const stateBytes = encodeAccount((await accountLogAt(admin, accountKey))!.account!).length;
      const compacted = async (): Promise<boolean> => {
        const log = await accountLogAt(admin, accountKey);
        return log !== undefined && log.records.length === 0 && log.bytes <= 2 * stateBytes;
      };
      expect(await waitFor(compacted, EVENTUALLY_MS), `log of ${before} bytes compacted`).toBe(true);
      const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
      expect(accountOf(view)).toMatchObject({ ok: true, account: { balance: 100_000 - 300, held: 0 } });
    });

    it('prunes an idle actor in memory and keeps it there; records inside the window stay', async () => {
      let nowMs = Date.UTC(2026, 10, 26, 12);
      const h = await newCore({ dedupeWindowMs: windowMs, nowMs: () => nowMs });
      const p = pan(21);
      const accountKey = accountKeyOf(h.keys, p);
      await h.run([put(p, 100_000)]);
      await h.run([txn(p, 800, 100, { txnClass: '0200' }), txn(p, 801, 100, { txnClass: '0200' })]);
      nowMs += windowMs / 2;
      await h.run([txn(p, 802, 100, { txnClass: '0200' })]);
      expect(outcomeOf((await h.run([sweep(p)]))[0]), 'nothing is past the window yet').toBe(0);
      nowMs += windowMs / 2 + 1;
      expect(outcomeOf((await h.run([sweep(p)]))[0])).toBe(2);
      expect(await logHasRecord(admin, accountKey, field(800))).toBe(0);
      expect(await logHasRecord(admin, accountKey, field(801))).toBe(0);
      expect(await logHasRecord(admin, accountKey, field(802)), 'inside the window').toBe(1);
      expect(inMemory(h, p)).toBe(true);
      // The kept record still answers its repeat with the original response.
      const [repeat] = await h.run([txn(p, 802, 100, { txnClass: '0200', repeat: true })]);
      expect(rcOf(repeat)).toBe('00');
      const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
      expect(accountOf(view)).toMatchObject({ ok: true, account: { balance: 100_000 - 300 } });
    });

    it('keeps in memory an account that other work used while its sweep loaded it', async () => {
      let nowMs = Date.UTC(2026, 10, 26, 12);
      const first = await newCore({ dedupeWindowMs: windowMs, nowMs: () => nowMs });
      const p = pan(22);
      await first.run([put(p, 100_000)]);
      await first.run([txn(p, 900, 100, { txnClass: '0200' })]);
      nowMs += windowMs + 1;
      const second = await newCore({
        prefix: first.keys.prefix,
        dedupeWindowMs: windowMs,
        nowMs: () => nowMs,
      });
      const [swept, purchase] = await second.run([sweep(p), txn(p, 901, 100, { txnClass: '0200' })]);
      expect(outcomeOf(swept)).toBe(1);
      expect(rcOf(purchase)).toBe('00');
      expect(inMemory(second, p)).toBe(true);
    });

    it('does not drop an actor the sweep is still loading when another batch is released', async () => {
      const [idle, busy] = [pan(24), pan(25)];
      // A first owner leaves a record on the idle account; the core under test starts after it.
      const first = await newCore({ dedupeWindowMs: windowMs });
      await first.run([put(idle, 10_000), txn(idle, 950, 100, { txnClass: '0200' })]);
      const h = await newCore({ prefix: first.keys.prefix, dedupeWindowMs: windowMs });
      const { reader } = cores[cores.length - 1]!;
      await h.run([put(busy, 10_000)]);
      // The reader connection is held up (a blocking pop queues the activation read behind it),
      // while the writer commits the busy account's purchase and its batch is released.
      const blocked = reader.blpop(`${h.keys.prefix}:never`, 0.5);
      const [swept, purchase] = await h.run([sweep(idle), txn(busy, 951, 100, { txnClass: '0200' })]);
      await blocked;
      expect(rcOf(purchase)).toBe('00');
      expect(outcomeOf(swept), 'the sweep was answered').toBe(0);
      expect(inMemory(h, idle)).toBe(false);
      expect(inMemory(h, busy)).toBe(true);
    });

    it('answers 0 for an account that does not exist and writes nothing', async () => {
      const h = await newCore({ dedupeWindowMs: windowMs });
      const p = pan(23);
      expect(outcomeOf((await h.run([sweep(p)]))[0])).toBe(0);
      expect(await admin.exists(accountKeyOf(h.keys, p))).toBe(0);
      expect(inMemory(h, p)).toBe(false);
    });
  });

  it('decides a random sequence the same with 2 records per actor in memory as with all (seeded)', async () => {
    // Differential: every answer of a core that evicts and fetches records must equal a core
    // that keeps them all. Several groups are in flight at once, so batches are confirmed
    // (and records evicted) while other work waits on a fetch.
    const seed = Number(process.env['SWITCHYARD_SEED'] ?? 20_261_126);
    const capped = await newCore({ recordsPerActorMax: 2 });
    // No evicted keys filed at all (ledger.evictedKeysMax 0): every key not in memory is read.
    const blind = await newCore({ recordsPerActorMax: 2, evictedKeysMax: 0 });
    // One actor in memory for three accounts (passivated and reactivated all the time), and
    // record sweeps in between: inside the window a sweep deletes nothing and changes no answer,
    // whether it finds the actor in memory, brings it in, or races other work for it.
    const churned = await newCore({ recordsPerActorMax: 2, actorsMax: 1 });
    const full = await newCore({});
    const pans = [pan(7000), pan(7001), pan(7002)];
    for (const h of [capped, blind, churned, full]) await h.run(pans.map((p) => put(p, 50_000)));
    let state = seed >>> 0 || 1;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return (state >>> 8) % n;
    };
    const sent: { p: string; stan: number; amount: number }[] = [];
    let stan = 1_000;
    const makeGroup = (): (() => WorkItem)[] => {
      const group: (() => WorkItem)[] = [];
      for (let g = 1 + rand(4); g > 0; g--) {
        const p = pans[rand(pans.length)]!;
        const kind = rand(10);
        const o = sent[rand(Math.max(1, sent.length))];
        const s = ++stan;
        const orig = (over: Partial<TxnRequest>) => ({
          origStan: o!.stan,
          origTime: 1_764_000_000_000 + o!.stan,
          ...over,
        });
        if (kind < 4 || o === undefined) {
          const amount = 100 + rand(30_000);
          sent.push({ p, stan: s, amount });
          group.push(() => txn(p, s, amount));
        } else if (kind < 6) group.push(() => txn(o.p, o.stan, o.amount));
        else if (kind < 8) group.push(() => txn(o.p, s, o.amount, orig({ txnClass: '0400' })));
        else group.push(() => txn(o.p, s, Math.max(1, o.amount >> 1), orig({ txnClass: '0220' })));
      }
      return group;
    };
    /** The group with 0-2 sweeps of random accounts put in at random places. */
    const withSweeps = (group: (() => WorkItem)[]): (() => WorkItem)[] => {
      const out = [...group];
      for (let n = rand(3); n > 0; n--) {
        const p = pans[rand(pans.length)]!;
        out.splice(rand(out.length + 1), 0, () => ({
          k: 'sweep',
          seq: ++seq,
          shard: devRefs.shardOf(p),
          ref: devRefs.refOf(p),
        }));
      }
      return out;
    };
    let sweeps = 0;
    for (let wave = 0; wave < 40; wave++) {
      const groups = Array.from({ length: 4 }, makeGroup);
      const swept = groups.map(withSweeps);
      const a = await Promise.all(groups.map((g) => capped.run(g.map((f) => f()))));
      const c = await Promise.all(groups.map((g) => blind.run(g.map((f) => f()))));
      const d = await Promise.all(swept.map((g) => churned.run(g.map((f) => f()))));
      const b = await Promise.all(groups.map((g) => full.run(g.map((f) => f()))));
      const rcs = (rs: WorkResult[][]) =>
        rs.map((r) => r.flatMap((x) => (x.k === 'txn' ? [rcOf(x)] : [])).join(',')).join(' | ');
      expect(rcs(a), `seed ${seed} (SWITCHYARD_SEED), wave ${wave}`).toBe(rcs(b));
      expect(rcs(c), `seed ${seed} (SWITCHYARD_SEED), wave ${wave}, blind`).toBe(rcs(b));
      expect(rcs(d), `seed ${seed} (SWITCHYARD_SEED), wave ${wave}, churned`).toBe(rcs(b));
      for (const r of d.flat())
        if (r.k === 'sweep') {
          expect(r.outcome, 'a sweep inside the window deletes nothing').toBe(0);
          sweeps++;
        }
    }
    expect(sweeps, 'sweeps ran').toBeGreaterThan(20);
    for (const p of pans) {
      const [x] = await capped.run([{ k: 'get', seq: ++seq, pan: p }]);
      const [z] = await blind.run([{ k: 'get', seq: ++seq, pan: p }]);
      const [w] = await churned.run([{ k: 'get', seq: ++seq, pan: p }]);
      const [y] = await full.run([{ k: 'get', seq: ++seq, pan: p }]);
      expect(accountOf(x)).toEqual(accountOf(y));
      expect(accountOf(z)).toEqual(accountOf(y));
      expect(accountOf(w)).toEqual(accountOf(y));
    }
  }, 60_000);

  it('answers 96 when an evicted record cannot be read, keeps the actor, and replays once reads work again', async () => {
    const h = await newCore({ recordsPerActorMax: 2 });
    const { reader } = cores[cores.length - 1]!;
    const p = pan(8);
    await h.run([put(p, 100_000)]);
    const first = responseOf((await h.run([txn(p, 400, 1_000)]))[0]);
    for (let i = 1; i <= 4; i++) await h.run([txn(p, 400 + i, 1_000)]);
    reader.disconnect();
    // A repeat of the first hold needs its evicted record: 96 (retry), and no second hold.
    expect(rcOf((await h.run([txn(p, 400, 1_000)]))[0])).toBe('96');
    // A new key needs no read: decided as usual on the same actor.
    expect(rcOf((await h.run([txn(p, 410, 1_000)]))[0])).toBe('00');
    await reader.connect();
    expect(responseOf((await h.run([txn(p, 400, 1_000)]))[0])).toEqual(first);
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { held: 6 * 1_000 } });
  });

  it('answers 96 when an evicted record’s log cannot be decoded, and keeps deciding new keys', async () => {
    const h = await newCore({ recordsPerActorMax: 2 });
    const p = pan(13);
    await h.run([put(p, 100_000)]);
    for (let i = 0; i < 5; i++) await h.run([txn(p, 450 + i, 1_000)]);
    // An entry no build writes ([9]): the log can no longer be read whole.
    await admin.append(accountKeyOf(h.keys, p), Buffer.from([0x91, 0x09]));
    expect(rcOf((await h.run([txn(p, 450, 1_000)]))[0]), 'the repeat needs the evicted record').toBe('96');
    expect(rcOf((await h.run([txn(p, 460, 1_000)]))[0]), 'a new key needs no read').toBe('00');
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { held: 6 * 1_000 } });
  });

  it('answers 96 within commitTimeoutMs to work that arrives while it re-fences against a store that stays away', async () => {
    const h = await newCore({ commitTimeoutMs: 400 });
    const p = pan(5);
    await h.run([put(p, 10_000)]);
    const counterBefore = await admin.get(h.keys.epochCounter());
    await admin.config('SET', 'maxmemory', '1');
    try {
      // A refused write: 96, and the core starts re-fencing, which Redis refuses too (INCR is a write).
      expect(rcOf((await h.run([txn(p, 40, 100)]))[0])).toBe('96');
      // Held while the re-fence fails, then answered 96 once commitTimeoutMs has passed: not left waiting.
      const startedMs = Date.now();
      const held = await h.run([txn(p, 41, 100), { k: 'get', seq: ++seq, pan: p }]);
      expect(rcOf(held[0])).toBe('96');
      expect(accountOf(held[1])).toMatchObject({ ok: false, code: 'store_unavailable' });
      expect(Date.now() - startedMs).toBeGreaterThanOrEqual(390);
      // No epoch was taken meanwhile: the re-fence is still failing.
      expect(await admin.get(h.keys.epochCounter())).toBe(counterBefore);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // The store is back: the re-fence completes, and the held key was never decided, so it is now, once.
    await waitFor(async () => (await admin.get(h.keys.epochCounter())) !== counterBefore, EVENTUALLY_MS);
    expect(rcOf((await h.run([txn(p, 41, 100)]))[0])).toBe('00');
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { held: 100 } });
  });

  it('answers 96 to work on an account it cannot load from a stalled store (SIGSTOP), and loads it once the store is back', async () => {
    const h = await newCore({ commitTimeoutMs: 400 });
    const p = pan(6);
    await h.run([put(p, 10_000)]);
    // Not in memory: the next item has to load the account from Redis.
    const fresh = await newCore({ commitTimeoutMs: 400, prefix: h.keys.prefix });
    process.kill(redis.pid, 'SIGSTOP');
    let stalled: WorkResult[];
    try {
      stalled = await fresh.run([txn(p, 50, 100), { k: 'get', seq: ++seq, pan: p }]);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    expect(rcOf(stalled[0])).toBe('96');
    expect(accountOf(stalled[1])).toMatchObject({ ok: false, code: 'store_unavailable' });
    // The actor was dropped, not kept half-loaded: the same key is decided once the store answers.
    expect(rcOf((await fresh.run([txn(p, 50, 100)]))[0])).toBe('00');
    const [view] = await fresh.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { held: 100 } });
  });

  it('a stopped core (an inline owner that was killed) re-fences nothing and takes no more work', async () => {
    const h = await newCore();
    const p = pan(4);
    await h.run([put(p, 10_000)]);
    const counterBefore = await admin.get(h.keys.epochCounter());
    // A refused write: 96, then the core starts re-fencing, which Redis refuses too (INCR is a write).
    await admin.config('SET', 'maxmemory', '1');
    try {
      const [failed] = await h.run([txn(p, 30, 100)]);
      expect(rcOf(failed)).toBe('96');
      h.core.stop();
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // Redis takes writes again; a running core would re-fence within a second (back-off <= 1 s).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await admin.get(h.keys.epochCounter())).toBe(counterBefore);
    const answered = h.results.length;
    h.core.handle([txn(p, 31, 100)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.results.length).toBe(answered);
  });

  it('stops writing when another owner moved the shard epochs on (fenced)', async () => {
    const h = await newCore();
    const p = pan(3);
    await h.run([put(p, 10_000)]);
    const other = await claimAllShards(admin, h.keys);
    expect(other).toBeGreaterThan(0);
    const [fenced] = await h.run([txn(p, 20, 1_000)]);
    expect(rcOf(fenced)).toBe('96');
    const [later] = await h.run([txn(p, 21, 1_000)]);
    expect(rcOf(later)).toBe('96');
    // Nothing of it reached Redis: the account still has no hold.
    const fresh = await newCore({ prefix: h.keys.prefix });
    const [view] = await fresh.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { held: 0, balance: 10_000 } });
  });

  it('passivates idle actors beyond actorsMax and reactivates them from Redis with their records', async () => {
    const h = await newCore({ actorsMax: 1_000 });
    const pans = Array.from({ length: 1_500 }, (_, i) => pan(10_000 + i));
    await h.run(pans.map((p) => put(p, 5_000)));
    const approvals = await h.run(pans.map((p, i) => txn(p, 100 + i, 100)));
    expect(approvals.every((r) => rcOf(r) === '00')).toBe(true);
    expect(h.core.activeActors).toBeLessThanOrEqual(1_000);
    // The first accounts were passivated; their duplicates are still recognised (records reloaded).
    const replays = await h.run(pans.slice(0, 50).map((p, i) => txn(p, 100 + i, 100)));
    replays.forEach((r, i) => {
      expect(responseOf(r)).toEqual(responseOf(approvals[i]));
    });
    const [view] = await h.run([{ k: 'get', seq: ++seq, pan: pans[0]! }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { held: 100, available: 4_900 } });
    // Every batch is built, so no record is left live (dropped actors gave theirs back).
    expect(h.core.liveRecords).toBe(0);
  });

  it('bounds the mailbox of an account that is loading: work past MAILBOX_MAX is answered 96, none is lost', async () => {
    const h = await newCore();
    const p = pan(4);
    await h.run([put(p, 100_000_000)]);
    // A fresh core: the account is not in memory, so everything waits for its activation.
    const cold = await newCore({ prefix: h.keys.prefix });
    const items = Array.from({ length: MAILBOX_MAX + 25 }, (_, i) => txn(p, 30_000 + i, 1));
    const results = await cold.run(items);
    expect(results).toHaveLength(items.length);
    const rcs = results.map((r) => rcOf(r));
    expect(rcs.filter((rc) => rc === '96')).toHaveLength(25);
    expect(rcs.filter((rc) => rc === '00')).toHaveLength(MAILBOX_MAX);
  });

  it('applies a chained commit only after its predecessor: otherwise -3 and nothing written', async () => {
    const keys = keySpace('chain');
    const epoch = await claimAllShards(admin, keys);
    const applied = keys.appliedSeq(1);
    const batch = (account: string): Buffer => {
      const cb = new CommitBatch();
      cb.epoch(0, keys.epoch(0));
      cb.append(keys.account(0, account), Buffer.from('state'));
      return cb.pack();
    };
    const commit = (seq: number, previous: number, account: string): Promise<unknown> =>
      admin.eval(COMMIT_SCRIPT, 1, applied, epoch, 60_000, batch(account), seq, previous);
    // Batch 2 was decided on top of batch 1, which has not applied: refused, nothing written.
    expect(await commit(2, 1, 'A')).toBe(COMMIT_PREDECESSOR_MISSING);
    expect(await admin.exists(keys.account(0, 'A'))).toBe(0);
    expect(await commit(1, 0, 'B')).toBe(COMMIT_APPLIED);
    expect(await commit(2, 1, 'A')).toBe(COMMIT_APPLIED);
    expect(await admin.exists(keys.account(0, 'A'), keys.account(0, 'B'))).toBe(2);
    expect(await admin.get(applied)).toBe('2');
    // A resend of an applied commit (the last one or an older one) is recognised and not applied again.
    await admin.del(keys.account(0, 'A'));
    expect(await commit(2, 1, 'A')).toBe(COMMIT_ALREADY_APPLIED);
    expect(await commit(1, 0, 'B')).toBe(COMMIT_ALREADY_APPLIED);
    expect(await admin.exists(keys.account(0, 'A'))).toBe(0);
    // A moved epoch refuses the batch before any write.
    await admin.incr(keys.epoch(0));
    expect(await commit(3, 0, 'C')).toBe(COMMIT_FENCED);
    expect(await admin.exists(keys.account(0, 'C'))).toBe(0);
  });

  it('compacts a log in place of the prefix read, keeping what was appended after; never past its end', async () => {
    const keys = keySpace('compact');
    const epoch = await claimAllShards(admin, keys);
    const applied = keys.appliedSeq(1);
    const log = keys.account(0, 'L');
    const commit = (seq: number, build: (cb: CommitBatch) => void): Promise<unknown> => {
      const cb = new CommitBatch();
      cb.epoch(0, keys.epoch(0));
      build(cb);
      return admin.eval(COMMIT_SCRIPT, 1, applied, epoch, 60_000, cb.pack(), seq, 0);
    };
    await admin.set(log, 'old-prefix|appended-after-the-read|');
    // The actor read 'old-prefix|' (11 bytes); the same commit appends again.
    expect(
      await commit(1, (cb) => {
        cb.compact(log, 11, Buffer.from('NEW|'));
        cb.append(log, Buffer.from('this-commit|'));
      }),
    ).toBe(COMMIT_APPLIED);
    expect(await admin.get(log)).toBe('NEW|appended-after-the-read|this-commit|');
    // A prefix longer than the log cannot be what was read: nothing is replaced (the append still lands).
    expect(
      await commit(2, (cb) => {
        cb.compact(log, 1_000, Buffer.from('X'));
        cb.append(log, Buffer.from('more'));
      }),
    ).toBe(COMMIT_APPLIED);
    expect(await admin.get(log)).toBe('NEW|appended-after-the-read|this-commit|more');
  });

  it('compacts an actor’s log once half of it is dead, and decides on from it after a restart', async () => {
    const windowMs = 60_000;
    let nowMs = Date.UTC(2026, 10, 26, 12);
    const h = await newCore({ dedupeWindowMs: windowMs, nowMs: () => nowMs });
    const p = pan(12);
    const accountKey = accountKeyOf(h.keys, p);
    await h.run([put(p, 1_000_000)]);
    // Holds (one batch each), then 60 purchases; past the window, the purchases are dead.
    await h.run([txn(p, 100, 1_000)]);
    await h.run([txn(p, 101, 2_000)]);
    for (let i = 0; i < 60; i++) await h.run([txn(p, 200 + i, 10, { txnClass: '0200' })]);
    const before = (await admin.strlen(accountKey)) as number;
    expect(before).toBeGreaterThan(LOG_COMPACT_MIN_BYTES);
    nowMs += windowMs + 1;
    // Reaching 64 records prunes the 60 purchases: dropped from the log, over half of it dead now.
    await h.run([txn(p, 300, 10, { txnClass: '0200' }), txn(p, 301, 10, { txnClass: '0200' })]);
    await h.run([txn(p, 302, 10, { txnClass: '0200' })]);
    // The compaction goes with a commit after its read: wait for the log to shrink.
    expect(
      await waitFor(async () => ((await admin.strlen(accountKey)) as number) < before / 2, EVENTUALLY_MS),
    ).toBe(true);
    await h.run([txn(p, 303, 10, { txnClass: '0200' })]);
    const log = (await accountLogAt(admin, accountKey))!;
    expect(log.records.map((r) => r.stan).sort((a, b) => a - b)).toEqual([100, 101, 300, 301, 302, 303]);
    expect(log.account).toMatchObject({ balance: 1_000_000 - 64 * 10, held: 3_000 });
    // A new owner reads the compacted log: repeats replay, the holds complete.
    const again = await newCore({ prefix: h.keys.prefix, dedupeWindowMs: windowMs, nowMs: () => nowMs });
    expect(rcOf((await again.run([txn(p, 302, 10, { txnClass: '0200', repeat: true })]))[0])).toBe('00');
    const [completion] = await again.run([
      txn(p, 400, 1_000, { txnClass: '0220', origStan: 100, origTime: 1_764_000_000_000 + 100 }),
    ]);
    expect(responseOf(completion)).toMatchObject({ rc: '00', balance: 1_000_000 - 64 * 10 - 1_000 - 2_000 });
    const [view] = await again.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({
      ok: true,
      account: { balance: 1_000_000 - 64 * 10 - 1_000, held: 2_000 },
    });
  });

  it('a restarted owner with the same epoch (a worker restart) writes its commits, numbered from 1 again', async () => {
    const first = await newCore();
    const p = pan(900);
    await first.run([put(p, 10_000)]);
    await first.run([txn(p, 1, 100)]);
    // Same epoch, same worker id, batches numbered from 1 again, the same account first in each:
    // nothing may take its commits for the ones the first core made.
    const restarted = await newCore({ prefix: first.keys.prefix, epoch: first.epoch });
    expect(responseOf((await restarted.run([txn(p, 2, 200)]))[0])).toMatchObject({
      rc: '00',
      balance: 9_700,
    });
    expect(responseOf((await restarted.run([txn(p, 3, 300)]))[0])).toMatchObject({
      rc: '00',
      balance: 9_400,
    });
    // What Redis holds, read by a third core: the three holds (txn() places holds).
    const reader = await newCore({ prefix: first.keys.prefix, epoch: first.epoch });
    const [view] = await reader.run([{ k: 'get', seq: ++seq, pan: p }]);
    expect(accountOf(view)).toMatchObject({ ok: true, account: { balance: 10_000, held: 600 } });
  });

  it('claims every shard with one epoch', async () => {
    const keys = keySpace('epochs');
    const epoch = await claimAllShards(admin, keys);
    const values = await admin.mget(...Array.from({ length: SHARD_COUNT }, (_, s) => keys.epoch(s)));
    expect(new Set(values)).toEqual(new Set([String(epoch)]));
  });
});
