/**
 * The upgrade from layout 2 (PANs in clear) to layout 3 (src/runtime/storage/layout-upgrade.ts),
 * against a real redis-server with the switch's AOF settings: a layout 2 store built by hand
 * (test/helpers/legacy-store.ts) is upgraded, then every account, journal entry and hold bucket
 * is checked against what it was, and no PAN is left in Redis or in its files. Then the same
 * with the upgrade killed at random points (test/helpers/crashing-redis.ts), Redis itself
 * sometimes killed too, and run again until it finishes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HoldExpiry } from '../../src/jobs/hold-expiry.js';
import { createLogger, silentLogger } from '../../src/observability/log.js';
import { AccountLayoutError, ensureAccountLayout } from '../../src/runtime/storage/account-layout.js';
import { type LayoutUpgradeOptions, upgradeToLayout3 } from '../../src/runtime/storage/layout-upgrade.js';
import { upgradeAccountLog } from '../../src/runtime/storage/upgrade/legacy-values.js';
import { PanRefs } from '../../src/runtime/storage/upgrade/pan-refs.js';
import { upgradeProgressKey } from '../../src/runtime/storage/upgrade/upgrade-progress.js';
import { AccountRefs } from '../../src/security/account-refs.js';
import { newKeyFileText, parseKeyFile } from '../../src/security/key-file.js';
import { holdMember, type KeySpace, keySpace, legacyShardOf } from '../../src/store/keys.js';
import { startRedisServer } from '../../src/store/redis-server.js';
import { maskPan } from '../../src/util/pan.js';
import { crashingRedis } from '../helpers/crashing-redis.js';
import { expectUpgraded, journalMeta } from '../helpers/layout3-checks.js';
import { encodeLegacyAccount, encodeLegacyJournalRecord } from '../helpers/legacy-layout.js';
import { LEGACY_T0_MS, type LegacyStoreModel, writeLegacyStore } from '../helpers/legacy-store.js';
import { leaksIn, scanFiles } from '../helpers/pan-leaks.js';
import { killRedisServer, removeDir, trackDir, trackRedisPid, waitFor } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';

const refs = new AccountRefs(parseKeyFile(newKeyFileText(true), 'test'));
/** Small batches, so a small store crosses many SCAN steps, journal reads and pipelines. */
const SMALL_BATCHES: LayoutUpgradeOptions = { batch: { scanCount: 4, journalEntriesPerRead: 3 } };

function upgrade(redis: Redis, keys: KeySpace, log = silentLogger, options = SMALL_BATCHES): Promise<number> {
  return upgradeToLayout3(redis, keys, refs, log, options);
}

/** Every key's DUMP: equal before and after means nothing was written. */
async function snapshot(redis: Redis): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  for (const key of await redis.keys('*')) dump.set(key, (await redis.dumpBuffer(key))!.toString('hex'));
  return dump;
}

async function aofRewrites(redis: Redis): Promise<number> {
  return Number(/aof_rewrites:(\d+)/.exec(await redis.info('persistence'))![1]);
}

describe('upgrade to layout 3', () => {
  const redis = useRedisServer();

  it('moves every account, journal entry and hold bucket to layout 3, and leaves no PAN in Redis or on disk', async () => {
    const { client, server } = redis;
    const keys = keySpace('up1');
    const rng = new SeededRng(seedFromEnv(16));
    const model = await writeLegacyStore(client, keys, rng, { accounts: 40, commits: 60, holdBuckets: 8 });
    const metaBefore = await journalMeta(client, keys);
    // The check bites: layout 2's writes are in the AOF on disk.
    expect(scanFiles(server.dir, model.pans).length).toBeGreaterThan(0);

    const lines: string[] = [];
    const log = createLogger('info', (line) => lines.push(line));
    const rewritesBefore = await aofRewrites(client);
    expect(await ensureAccountLayout(client, keys, log, () => upgrade(client, keys, log))).toBe(40);
    await expectUpgraded(client, keys, refs, model, metaBefore);
    expect(await aofRewrites(client)).toBeGreaterThan(rewritesBefore);
    // Redis deletes the AOF files the rewrite replaced in a background thread.
    const clean = await waitFor(() => scanFiles(server.dir, model.pans).length === 0, 10_000);
    expect(clean ? [] : scanFiles(server.dir, model.pans)).toEqual([]);
    expect(lines.some((l) => l.includes('store upgraded to layout 3'))).toBe(true);
    expect(leaksIn(Buffer.from(lines.join('')), model.pans, 'log')).toEqual([]);

    // Marked: the next start does nothing, and so does the upgrade run again by hand.
    const before = await snapshot(client);
    expect(await ensureAccountLayout(client, keys, log, () => upgrade(client, keys, log))).toBe(0);
    expect(await upgrade(client, keys)).toBe(0);
    expect(await snapshot(client)).toEqual(before);
    expect(await aofRewrites(client)).toBe(rewritesBefore + 1);
  });

  it('logs its progress with counts only, at most once per interval', async () => {
    const { client } = redis;
    const keys = keySpace('up2');
    const model = await writeLegacyStore(client, keys, new SeededRng(2), {
      accounts: 12,
      commits: 10,
      holdBuckets: 2,
    });
    const lines: string[] = [];
    const log = createLogger('info', (line) => lines.push(line));
    await upgrade(client, keys, log, { ...SMALL_BATCHES, progressEveryMs: 0 });
    const progress = lines
      .filter((l) => l.includes('upgrading the store to layout 3'))
      .map((l) => JSON.parse(l));
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['accounts', 'journals', 'holds']));
    expect(progress.at(-1)).toMatchObject({ accounts: 12 });
    expect(leaksIn(Buffer.from(lines.join('')), model.pans, 'log')).toEqual([]);
  });

  it('hold expiry finds every hold of the upgraded journal and buckets by (shard, ref), whatever partition they sit in', async () => {
    const { client } = redis;
    const keys = keySpace('up3');
    const model = await writeLegacyStore(client, keys, new SeededRng(3), {
      accounts: 20,
      commits: 40,
      holdBuckets: 4,
    });
    // Cursors before every entry, so the pass reads every journal entry.
    for (const key of model.untouched.keys()) if (key.endsWith('hold-expiry-cursor')) await client.del(key);
    await upgrade(client, keys);
    const asked: string[] = [];
    const expiry = new HoldExpiry({
      connection: client,
      keys,
      ledger: {
        expire: async (account, recordKey) => {
          asked.push(holdMember(account.shard, account.ref, recordKey));
          return 'closed';
        },
      },
      holdTtlMs: 1_000,
      everyMs: 60_000,
      nowMs: () => LEGACY_T0_MS + 10 * 86_400_000,
      log: silentLogger,
    });
    await expiry.runOnce();
    await expiry.close();
    const fromJournal = [...model.journals.values()].flatMap((entries) =>
      entries.flatMap((e) =>
        e.records
          .filter((r) => r.kind === 'hold')
          .map((r) => holdMember(refs.shardOf(r.pan), refs.refOf(r.pan), r.key)),
      ),
    );
    const fromBuckets = [...model.holdBuckets.values()].flatMap((members) =>
      members.flatMap((m) => {
        const cut = m.indexOf('#');
        return cut < 0
          ? []
          : [holdMember(refs.shardOf(m.slice(0, cut)), refs.refOf(m.slice(0, cut)), m.slice(cut + 1))];
      }),
    );
    // Some accounts' new partition differs from the stream their records stay in: still asked about.
    const moved = [...model.journals].some(([partition, entries]) =>
      entries.some((e) => e.records.some((r) => r.kind === 'hold' && refs.shardOf(r.pan) % 16 !== partition)),
    );
    expect(moved).toBe(true);
    expect(asked.sort()).toEqual([...fromJournal, ...fromBuckets].sort());
  });

  it('refuses an account log it cannot read, naming the account masked, with nothing of it written', async () => {
    const { client } = redis;
    const keys = keySpace('up4');
    const pan = '4111110000000009';
    const oldKey = keys.account(legacyShardOf(pan), pan);
    const log = Buffer.concat([
      encodeLegacyAccount(pan, {
        currency: 'USD',
        balance: 1,
        held: 0,
        status: 'active',
        limits: {},
        day: 1,
        dayAmount: 0,
        dayCount: 0,
      }),
      Buffer.from([0x92, 0x09, 0xc0]), // [9, nil]: no format layout 2 knows
    ]);
    await client.set(oldKey, log);
    await client.set(keys.accountLayout(), '2');
    const failure = upgrade(client, keys);
    await expect(failure).rejects.toThrow(AccountLayoutError);
    await expect(failure).rejects.toThrow(
      /account 411111\*+0009: its log cannot be read \(an entry of format 9/,
    );
    await expect(failure).rejects.not.toThrow(new RegExp(pan));
    expect((await client.getBuffer(oldKey))!.equals(log)).toBe(true);
    expect(await client.exists(keys.account(refs.shardOf(pan), refs.refOf(pan)))).toBe(0);
    expect(await client.get(keys.accountLayout())).toBe('2');
  });

  it('refuses a journal entry it cannot read, naming its partition and id', async () => {
    const { client } = redis;
    const keys = keySpace('up5');
    await client.set(keys.accountLayout(), '2');
    const good = encodeLegacyJournalRecord({
      kind: 'debit',
      pan: '4111110000000017',
      amount: 5,
      currency: 'USD',
      proc: '00',
      key: 'acq|1|1',
      origKey: undefined,
      rrn: '000000000001',
      atMs: 1,
    });
    await client.xadd(keys.journal(6), '5-0', 'd', good);
    await client.xadd(keys.journal(6), '6-0', 'd', Buffer.from([0xc1, 0xc1]));
    await expect(upgrade(client, keys)).rejects.toThrow(/journal 6, entry 6-0: cannot be read/);
    expect(await client.get(keys.accountLayout())).toBe('2');
  });

  it('an account in both layouts: the old key goes when the new one holds the same, else the upgrade stops', async () => {
    const { client } = redis;
    const upgradedKey = (keys: KeySpace, pan: string) => keys.account(refs.shardOf(pan), refs.refOf(pan));
    // Beside an old key (no MULTI/EXEC of the upgrade leaves that): what the upgrade would write ...
    const keys = keySpace('up6');
    const [same] = (
      await writeLegacyStore(client, keys, new SeededRng(6), { accounts: 2, commits: 0, holdBuckets: 0 })
    ).accounts;
    const written = upgradeAccountLog(same!.legacyLog, same!.pan, new PanRefs(refs)).log;
    await client.set(upgradedKey(keys, same!.pan), written);
    expect(await upgrade(client, keys)).toBe(2);
    expect(await client.exists(same!.oldKey)).toBe(0);
    expect((await client.getBuffer(upgradedKey(keys, same!.pan)))!.equals(written)).toBe(true);
    // ... or something else.
    const other = keySpace('up7');
    const [differs] = (
      await writeLegacyStore(client, other, new SeededRng(7), { accounts: 1, commits: 0, holdBuckets: 0 })
    ).accounts;
    await client.set(upgradedKey(other, differs!.pan), 'something else');
    const failure = upgrade(client, other);
    await expect(failure).rejects.toThrow(AccountLayoutError);
    await expect(failure).rejects.toThrow(
      `account ${maskPan(differs!.pan)} is stored in layout 2 and, differently, in layout 3`,
    );
    expect(await client.exists(differs!.oldKey)).toBe(1);
    expect(await client.get(upgradedKey(other, differs!.pan))).toBe('something else');
    expect(await client.get(other.accountLayout())).toBe('2');
  });
});

/** A redis-server of the test's own on a fixed directory, so it can be killed and started again on its files. */
class RestartableRedis {
  private server: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  client: Redis | undefined;

  constructor(readonly dir: string) {}

  get url(): string {
    return this.server!.url;
  }

  async start(): Promise<Redis> {
    this.server = await startRedisServer({
      dir: this.dir,
      fsync: 'always',
      startTimeoutMs: 30_000,
      stopGraceMs: 5_000,
    });
    trackRedisPid(this.server.pid);
    this.client = new Redis(this.server.url);
    return this.client;
  }

  /** SIGKILL, as a crash of the machine's Redis: only what the AOF fsynced survives. */
  async kill(): Promise<void> {
    this.client?.disconnect();
    killRedisServer(this.server!.pid);
    await this.server!.exited;
  }

  async stop(): Promise<void> {
    this.client?.disconnect();
    await this.server?.stop();
  }
}

describe('upgrade to layout 3, killed at random points', () => {
  const seed = seedFromEnv(Date.now() % 0xffff_ffff);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-upgrade-'));
  trackDir(dir);
  const redis = new RestartableRedis(dir);
  beforeAll(async () => {
    await redis.start();
  });
  afterAll(async () => {
    await redis.stop();
    removeDir(dir);
  });

  it('finishes every time it is run again, with nothing lost or doubled (replay: SWITCHYARD_SEED)', {
    timeout: 240_000,
  }, async () => {
    console.log(`layout upgrade crash test: SWITCHYARD_SEED=${seed}`);
    const rng = new SeededRng(seed);
    const keys = keySpace('uc');
    const size = { accounts: 24, commits: 30, holdBuckets: 5 };
    const trials = 30;
    let crashes = 0;
    let redisKills = 0;
    /** Where the kills fell, by the phase the progress marker names. */
    const crashPhases = new Map<string, number>();
    for (let trial = 0; trial < trials; trial++) {
      const context = `seed ${seed}, trial ${trial}`;
      // A full run on the trial's store first tells where its upgrade's writes end: the kill points are
      // drawn across them. Then the same store again (writeLegacyStore is deterministic), to be killed.
      await redis.client!.flushall();
      await writeLegacyStore(redis.client!, keys, new SeededRng(seed + trial), size);
      const probe = await crashingRedis(redis.url, Number.MAX_SAFE_INTEGER);
      await upgrade(probe.client, keys);
      const runBytes = probe.sentBytes();
      const commandEnds = probe.writeEnds();
      await probe.settle(redis.client!);
      await redis.client!.flushall();
      const model: LegacyStoreModel = await writeLegacyStore(
        redis.client!,
        keys,
        new SeededRng(seed + trial),
        size,
      );
      const metaBefore = await journalMeta(redis.client!, keys);
      // Up to three kills in a row before a run that finishes, each at a random byte of what the upgrade
      // sends (inside a command, a pipeline or a MULTI), or between two of its writes, or between two of
      // its last writes (the files phase and the end, which send few bytes, get their share of kills).
      for (let kill = rng.int(1, 3); kill > 0; kill--) {
        const budget = rng.weighted<() => number>([
          [() => rng.int(0, runBytes), 1],
          [() => rng.pick(commandEnds), 1],
          [() => rng.pick(commandEnds.slice(-12)), 1],
        ])();
        const crashing = await crashingRedis(redis.url, budget);
        const outcome = await upgrade(crashing.client, keys).then(
          () => 'finished',
          (error: Error) => error,
        );
        const crashed = crashing.crashed();
        await crashing.settle(redis.client!);
        if (!crashed) expect(outcome, context).toBe('finished');
        else {
          crashes++;
          if (outcome !== 'finished') expect(outcome, context).not.toBeInstanceOf(AccountLayoutError);
          const phase =
            (await redis.client!.hget(upgradeProgressKey(keys), 'phase')) ?? 'finished or not begun';
          crashPhases.set(phase, (crashPhases.get(phase) ?? 0) + 1);
        }
        if (rng.chance(0.25)) {
          await redis.kill();
          await redis.start();
          redisKills++;
        }
      }
      await upgrade(redis.client!, keys);
      try {
        await expectUpgraded(redis.client!, keys, refs, model, metaBefore);
        await waitFor(() => scanFiles(dir, model.pans).length === 0, 10_000);
        expect(scanFiles(dir, model.pans)).toEqual([]);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`, { cause: error });
      }
    }
    console.log(
      `layout upgrade crash test: ${crashes} kills of the upgrade (by phase: ${JSON.stringify(Object.fromEntries(crashPhases))}), ${redisKills} of Redis, ${trials} trials`,
    );
    expect(crashes).toBeGreaterThan(trials / 2);
  });
});
