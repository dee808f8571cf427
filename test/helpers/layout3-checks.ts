import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import { LOCAL_ISSUER } from '../../src/protocol/txn-context.js';
import { ACCOUNT_LAYOUT } from '../../src/runtime/storage/account-layout.js';
import { readAccountLog } from '../../src/runtime/storage/account-log.js';
import {
  decodeIdentityFields,
  decodeJournalEntry,
  forEachValue,
  type JournalEntry,
} from '../../src/runtime/storage/state-codec.js';
import { journalRewriteKey, upgradeProgressKey } from '../../src/runtime/storage/upgrade/upgrade-progress.js';
import type { AccountRefs } from '../../src/security/account-refs.js';
import { holdMember, type KeySpace, LOG_PARTITION_COUNT } from '../../src/store/keys.js';
import { maskPan } from '../../src/util/pan.js';
import type { LegacyStoreModel } from './legacy-store.js';
import { scanRedis } from './pan-leaks.js';

/**
 * What the upgrade to layout 3 must have made of a layout 2 store
 * (legacy-store.ts): checked against the model it was built from.
 */

/** A journal stream's metadata, which its rewrite must keep (new XADD * ids grow past every id handed out). */
export interface StreamMeta {
  readonly lastGeneratedId: string;
  readonly entriesAdded: string;
  readonly maxDeletedId: string;
  readonly length: number;
}

export async function journalMeta(redis: Redis, keys: KeySpace): Promise<Map<number, StreamMeta>> {
  const meta = new Map<number, StreamMeta>();
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    if ((await redis.type(keys.journal(partition))) !== 'stream') continue;
    const reply = (await redis.xinfo('STREAM', keys.journal(partition))) as unknown[];
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) info.set(String(reply[i]), reply[i + 1]);
    meta.set(partition, {
      lastGeneratedId: String(info.get('last-generated-id')),
      entriesAdded: String(info.get('entries-added')),
      maxDeletedId: String(info.get('max-deleted-entry-id')),
      length: Number(info.get('length')),
    });
  }
  return meta;
}

/** Every check; `metaBefore` is journalMeta() of the store before the upgrade. */
export async function expectUpgraded(
  redis: Redis,
  keys: KeySpace,
  refs: AccountRefs,
  model: LegacyStoreModel,
  metaBefore: Map<number, StreamMeta>,
): Promise<void> {
  expect(await redis.get(keys.accountLayout())).toBe(String(ACCOUNT_LAYOUT));
  expect(await redis.exists(upgradeProgressKey(keys))).toBe(0);
  await expectAccounts(redis, keys, refs, model);
  await expectJournals(redis, keys, refs, model, metaBefore);
  await expectHoldBuckets(redis, keys, refs, model);
  for (const [key, value] of model.untouched) expect(await redis.get(key), key).toBe(value);
  expect(await scanRedis(redis, model.pans)).toEqual([]);
}

async function accountKeys(redis: Redis, keys: KeySpace): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', keys.accountPattern(), 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

async function expectAccounts(redis: Redis, keys: KeySpace, refs: AccountRefs, model: LegacyStoreModel) {
  const stored = await accountKeys(redis, keys);
  expect(stored.length, 'one account key per account').toBe(model.accounts.length);
  for (const a of model.accounts) {
    const ref = refs.refOf(a.pan);
    const key = keys.account(refs.shardOf(a.pan), ref);
    const data = await redis.getBuffer(key);
    expect(data, `account ${maskPan(a.pan)} at its layout 3 key`).not.toBeNull();
    let identityEnd = -1;
    let identityFields: unknown[] = [];
    forEachValue(data!, (value, _start, end) => {
      if (identityEnd >= 0) return;
      identityEnd = end;
      identityFields = value as unknown[];
    });
    const identity = decodeIdentityFields(identityFields);
    expect(refs.openPan(identity.panSealed, ref)).toBe(a.pan);
    expect(identity.panMasked).toBe(maskPan(a.pan));
    // The rest of the log: every old entry in order, states in format 6, records and drops as they were.
    expect(data!.subarray(identityEnd).equals(a.upgradedTail), `log of ${maskPan(a.pan)}`).toBe(true);
    const log = readAccountLog(data!, 0);
    expect(log.account).toEqual({ ...a.state, ...identity });
    expect(log.records).toEqual(a.records);
  }
}

async function expectJournals(
  redis: Redis,
  keys: KeySpace,
  refs: AccountRefs,
  model: LegacyStoreModel,
  metaBefore: Map<number, StreamMeta>,
) {
  expect(await journalMeta(redis, keys)).toEqual(metaBefore);
  for (let partition = 0; partition < LOG_PARTITION_COUNT; partition++) {
    expect(await redis.exists(journalRewriteKey(keys, partition))).toBe(0);
    const want = model.journals.get(partition) ?? [];
    const entries = (await redis.xrangeBuffer(keys.journal(partition), '-', '+')) as [Buffer, Buffer[]][];
    expect(
      entries.map(([id]) => id.toString()),
      `journal ${partition} ids`,
    ).toEqual(want.map((e) => e.id));
    entries.forEach(([, fields], i) => {
      expect(fields[0]!.toString()).toBe('d');
      const expected: JournalEntry[] = want[i]!.records.map(({ pan, ...rest }) => ({
        ...rest,
        shard: refs.shardOf(pan),
        ref: refs.refOf(pan),
        panMasked: maskPan(pan),
        issuer: LOCAL_ISSUER,
        mti: undefined,
      }));
      expect(decodeJournalEntry(fields[1]!)).toEqual(expected);
    });
  }
}

async function expectHoldBuckets(redis: Redis, keys: KeySpace, refs: AccountRefs, model: LegacyStoreModel) {
  for (const [bucket, members] of model.holdBuckets) {
    const want = members.map((member) => {
      const cut = member.indexOf('#');
      if (cut < 0) return member;
      const pan = member.slice(0, cut);
      return holdMember(refs.shardOf(pan), refs.refOf(pan), member.slice(cut + 1));
    });
    expect(await redis.lrange(bucket, 0, -1), bucket).toEqual(want);
    const partition = Number(/\{j(\d+)\}/.exec(bucket)![1]);
    const number = bucket.slice(bucket.lastIndexOf(':') + 1);
    expect(await redis.sismember(keys.holdBuckets(partition), number)).toBe(1);
  }
}
