/**
 * Hold expiry's passes (src/jobs/hold-expiry.ts) against a real redis-server, with a ledger
 * that only records what it is asked: the holds are found in the journal streams (entries
 * written here as commits write them, with chosen ids so that "committed holdTtlMs ago" is
 * exact), read on from a saved cursor, never past an entry whose hold the ledger could not
 * answer, holds not due yet filed into an expiry bucket, unreadable entries passed over, and
 * the buckets earlier builds filed every hold into still read. The end-to-end behaviour (holds
 * released through the wire, across a restart) is in ledger-hold-expiry.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { HoldExpiry, type HoldExpiryPass, JOURNAL_ENTRIES_PER_READ } from '../../src/jobs/hold-expiry.js';
import { createLogger, silentLogger } from '../../src/observability/log.js';
import type { LedgerEffect } from '../../src/runtime/effects.js';
import { encodeJournal } from '../../src/runtime/storage/state-codec.js';
import type { ExpireOutcome } from '../../src/runtime/worker/worker-protocol.js';
import { holdBucketOf, holdMember, keySpace, type StoredAccountRef } from '../../src/store/keys.js';
import { useRedisServer } from '../helpers/redis-fixture.js';

const TTL_MS = 60_000;
/** Stream ids are `<ms>-<n>`: entries here are committed at T0 + i seconds. */
const T0 = 1_800_000_000_000;

const redis = useRedisServer();

function effect(kind: LedgerEffect['kind'], stan: number): LedgerEffect {
  return {
    kind,
    amount: 100,
    issuer: 'local',
    mti: '0100',
    institution: 'acq',
    stan,
    time: 1_764_000_000_000,
    refKey: undefined,
    original: undefined,
    proc: '00',
    currency: 'USD',
    atMs: T0,
    rrnHead: 'r',
    rrnTail: stan,
  };
}

/**
 * The hold bucket member a hold of `stan` on account `ref` (a label here: the job never reads
 * into it) is asked about as; every account of these tests is in shard SHARD.
 */
const SHARD = 7;
const holdOf = (ref: string, stan: number): string => holdMember(SHARD, ref, `acq|${stan}|1764000000000`);

/** A journal entry committed at T0 + `second` s: the effects of several accounts, concatenated. */
async function commit(prefix: string, partition: number, second: number, effects: [string, LedgerEffect][]) {
  const data = Buffer.concat(
    effects.map(([ref, e]) => encodeJournal({ shard: SHARD, ref, panMasked: '400000******0000' }, e)),
  );
  await redis.client.xadd(keySpace(prefix).journal(partition), `${T0 + second * 1000}-0`, 'd', data);
}

function expiryOf(
  prefix: string,
  answer: (hold: string) => ExpireOutcome,
  log = silentLogger,
  holdsPerPassMax?: number,
) {
  const asked: string[] = [];
  const passes: HoldExpiryPass[] = [];
  const clock = { nowMs: T0 };
  const expiry = new HoldExpiry({
    connection: redis.client,
    keys: keySpace(prefix),
    ledger: {
      expire: async (account: StoredAccountRef, key: string) => {
        const hold = holdMember(account.shard, account.ref, key);
        asked.push(hold);
        return answer(hold);
      },
    },
    holdTtlMs: TTL_MS,
    ...(holdsPerPassMax === undefined ? {} : { holdsPerPassMax }),
    onPass: (pass) => passes.push({ ...pass }),
    everyMs: 60_000,
    nowMs: () => clock.nowMs,
    log,
  });
  return { expiry, asked, clock, passes };
}

describe('hold expiry reads the journal', () => {
  it('asks about the holds committed holdTtlMs ago or earlier, once each, and nothing else', async () => {
    const prefix = 'he1';
    await commit(prefix, 3, 0, [
      ['4000000000000001', effect('hold', 1)],
      ['4000000000000002', effect('debit', 2)],
      ['4000000000000003', effect('hold', 3)],
    ]);
    await commit(prefix, 3, 10, [['4000000000000001', effect('release', 1)]]);
    await commit(prefix, 5, 20, [['4000000000000005', effect('hold', 5)]]);
    await commit(prefix, 3, 30, [['4000000000000006', effect('hold', 6)]]);
    const { expiry, asked, clock, passes } = expiryOf(prefix, () => 'released');

    clock.nowMs = T0 + TTL_MS - 1;
    expect(await expiry.runOnce()).toBe(0);
    expect(asked, 'nothing is due a millisecond early').toEqual([]);

    clock.nowMs = T0 + TTL_MS + 20_000;
    expect(await expiry.runOnce()).toBe(3);
    expect(asked.sort()).toEqual(
      [holdOf('4000000000000001', 1), holdOf('4000000000000003', 3), holdOf('4000000000000005', 5)].sort(),
    );
    expect(await redis.client.get(keySpace(prefix).holdExpiryCursor(3))).toBe(`${T0 + 10_000}-0`);
    expect(await redis.client.get(keySpace(prefix).holdExpiryCursor(5))).toBe(`${T0 + 20_000}-0`);

    asked.length = 0;
    expect(await expiry.runOnce()).toBe(0);
    expect(asked, 'a second pass asks nothing again').toEqual([]);

    clock.nowMs = T0 + TTL_MS + 30_000;
    expect(await expiry.runOnce()).toBe(1);
    expect(asked).toEqual([holdOf('4000000000000006', 6)]);
    expect(passes.map((p) => [p.asked, p.released, p.retries, p.behindMs])).toEqual([
      [0, 0, 0, 0],
      [3, 3, 0, 0],
      [0, 0, 0, 0],
      [1, 1, 0, 0],
    ]);
  });

  it('stops a pass after the holds it may ask about, and says how far behind it is', async () => {
    const prefix = 'he7';
    for (let i = 0; i < 6; i++) {
      await commit(prefix, 11, i, [[`40000000000001${i}0`, effect('hold', 100 + i)]]);
    }
    const { expiry, asked, clock, passes } = expiryOf(prefix, () => 'released', silentLogger, 1);
    clock.nowMs = T0 + TTL_MS + 10_000;
    // One XRANGE reads all six; then the pass is over its limit of one hold.
    expect(await expiry.runOnce()).toBe(6);
    expect(passes.at(-1)).toEqual({ asked: 6, released: 6, retries: 0, behindMs: 0 });
    await commit(prefix, 11, 20, [['4000000000000200', effect('hold', 200)]]);
    await commit(prefix, 12, 21, [['4000000000000210', effect('hold', 210)]]);
    clock.nowMs = T0 + TTL_MS + 30_000;
    asked.length = 0;
    // Partition 11 uses up the pass; partition 12's entry, due for 9 s, waits for the next one.
    expect(await expiry.runOnce()).toBe(1);
    expect(asked).toEqual([holdOf('4000000000000200', 200)]);
    expect(passes.at(-1)).toEqual({ asked: 1, released: 1, retries: 0, behindMs: 9_000 });
    asked.length = 0;
    expect(await expiry.runOnce()).toBe(1);
    expect(asked).toEqual([holdOf('4000000000000210', 210)]);
    expect(passes.at(-1)?.behindMs).toBe(0);
  });

  it('reads on over many entries in one pass', async () => {
    const prefix = 'he2';
    const entries = JOURNAL_ENTRIES_PER_READ * 2 + 17;
    for (let i = 0; i < entries; i++) {
      await commit(prefix, 0, i / 1000, [[`40000000${String(i).padStart(8, '0')}`, effect('hold', i)]]);
    }
    const { expiry, asked, clock } = expiryOf(prefix, () => 'closed');
    clock.nowMs = T0 + TTL_MS + 1_000;
    expect(await expiry.runOnce()).toBe(0);
    expect(asked).toHaveLength(entries);
    expect(new Set(asked).size).toBe(entries);
  });

  it('never moves its cursor past an entry with a hold the ledger could not answer', async () => {
    const prefix = 'he3';
    for (let i = 0; i < 5; i++) {
      await commit(prefix, 7, i, [
        [`400000000000001${i}`, effect('hold', 10 + i)],
        [`400000000000002${i}`, effect('hold', 20 + i)],
      ]);
    }
    const failing = holdOf('4000000000000022', 22);
    let workerDown = true;
    const expiryOfPasses = expiryOf(prefix, (hold) =>
      workerDown && hold === failing ? 'retry' : 'released',
    );
    const { expiry, asked, clock } = expiryOfPasses;
    clock.nowMs = T0 + TTL_MS + 10_000;
    // Everything read is asked at once; the two entries before the failing one count as done.
    const { passes } = expiryOfPasses;
    expect(await expiry.runOnce()).toBe(4);
    expect(asked).toHaveLength(10);
    expect(await redis.client.get(keySpace(prefix).holdExpiryCursor(7))).toBe(`${T0 + 1_000}-0`);
    // The failing hold's entry, committed at T0 + 2 s, was due 8 s before "now".
    expect(passes.at(-1)).toMatchObject({ retries: 1, behindMs: 8_000 });

    asked.length = 0;
    workerDown = false;
    await expiry.runOnce();
    expect(asked.sort(), 'the next pass asks again from the failing entry on').toEqual(
      [2, 3, 4]
        .flatMap((i) => [holdOf(`400000000000001${i}`, 10 + i), holdOf(`400000000000002${i}`, 20 + i)])
        .sort(),
    );
    expect(await redis.client.get(keySpace(prefix).holdExpiryCursor(7))).toBe(`${T0 + 4_000}-0`);
  });

  it('files a hold that is not due yet into the bucket of its time, and asks again then', async () => {
    const prefix = 'he4';
    const keys = keySpace(prefix);
    await commit(prefix, 2, 0, [
      ['4000000000000041', effect('hold', 41)],
      ['4000000000000042', effect('hold', 42)],
    ]);
    // Placed with a TTL 30 s longer than today's.
    const dueAtMs = T0 + TTL_MS + 30_000;
    const later = holdOf('4000000000000042', 42);
    const { expiry, asked, clock } = expiryOf(prefix, (hold) =>
      hold === later && clock.nowMs < dueAtMs ? { dueAtMs } : 'released',
    );
    clock.nowMs = T0 + TTL_MS;
    expect(await expiry.runOnce()).toBe(1);
    expect(await redis.client.lrange(keys.holdBucket(2, holdBucketOf(dueAtMs)), 0, -1)).toEqual([later]);
    expect(await redis.client.smembers(keys.holdBuckets(2))).toEqual([String(holdBucketOf(dueAtMs))]);

    asked.length = 0;
    clock.nowMs = dueAtMs;
    expect(await expiry.runOnce()).toBe(0);
    expect(asked, 'not before its bucket is entirely past').toEqual([]);

    clock.nowMs = dueAtMs + 1_000;
    expect(await expiry.runOnce()).toBe(1);
    expect(asked).toEqual([later]);
    expect(await redis.client.exists(keys.holdBucket(2, holdBucketOf(dueAtMs)))).toBe(0);
    expect(await redis.client.smembers(keys.holdBuckets(2))).toEqual([]);
  });

  it('passes over an entry it cannot read, with a warning that names the entry and no PAN', async () => {
    const prefix = 'he5';
    // Undecodable, with the bytes of 'hold' in it (so it is decoded), then without a d field.
    const holdBytes = Buffer.from([0xa4, ...Buffer.from('hold')]);
    await redis.client.xadd(
      keySpace(prefix).journal(9),
      `${T0}-0`,
      'd',
      Buffer.concat([Buffer.from([0xc1]), holdBytes]),
    );
    await redis.client.xadd(keySpace(prefix).journal(9), `${T0 + 1}-0`, 'x', 'no d field');
    // Undecodable without them: it places no hold, so it is passed over unread.
    await redis.client.xadd(keySpace(prefix).journal(9), `${T0 + 2}-0`, 'd', Buffer.from([0xc1, 0xc1]));
    await commit(prefix, 9, 2, [['4000000000000091', effect('hold', 91)]]);
    const lines: string[] = [];
    const { expiry, asked, clock } = expiryOf(
      prefix,
      () => 'released',
      createLogger('warn', (line) => lines.push(line)),
    );
    clock.nowMs = T0 + TTL_MS + 5_000;
    expect(await expiry.runOnce()).toBe(1);
    expect(asked).toEqual([holdOf('4000000000000091', 91)]);
    const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warnings.map((w) => w['entry'])).toEqual([`${T0}-0`, `${T0 + 1}-0`]);
    expect(warnings.every((w) => w['msg'] === 'journal entry not readable; hold expiry passes over it')).toBe(
      true,
    );
    expect(lines.join('')).not.toContain('4000000000000091');
    expect(await redis.client.get(keySpace(prefix).holdExpiryCursor(9))).toBe(`${T0 + 2_000}-0`);
  });

  it('still reads the buckets earlier builds filed every hold into, keeping one whose hold could not be answered', async () => {
    const prefix = 'he6';
    const keys = keySpace(prefix);
    const bucket = holdBucketOf(T0);
    await redis.client.rpush(
      keys.holdBucket(4, bucket),
      holdOf('4000000000000061', 61),
      holdOf('4000000000000062', 62),
    );
    await redis.client.rpush(keys.holdBucket(4, bucket + 1), holdOf('4000000000000063', 63));
    await redis.client.sadd(keys.holdBuckets(4), String(bucket), String(bucket + 1));
    const stuck = holdOf('4000000000000063', 63);
    const { expiry, asked, clock } = expiryOf(prefix, (hold) => (hold === stuck ? 'retry' : 'released'));
    clock.nowMs = T0 + 5_000;
    expect(await expiry.runOnce()).toBe(2);
    expect(asked.sort()).toEqual(
      [holdOf('4000000000000061', 61), holdOf('4000000000000062', 62), stuck].sort(),
    );
    expect(await redis.client.exists(keys.holdBucket(4, bucket))).toBe(0);
    expect(await redis.client.lrange(keys.holdBucket(4, bucket + 1), 0, -1)).toEqual([stuck]);
    expect(await redis.client.smembers(keys.holdBuckets(4))).toEqual([String(bucket + 1)]);
  });
});
