/**
 * Accounts stored as hashes by builds before 2026-11-27 (layout 1) are rewritten as account
 * logs at start (src/runtime/storage/account-layout.ts), then upgraded to layout 3
 * (layout-upgrade.ts, tested on its own in layout-upgrade.test.ts), against a real redis-server.
 */
import { pack, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/log.js';
import { StoredResponse } from '../../src/runtime/records/stored-response.js';
import { keyOf, parseKey, sideRecord, type TxnRecord } from '../../src/runtime/records/txn-record.js';
import {
  ACCOUNT_LAYOUT,
  AccountLayoutError,
  ensureAccountLayout,
} from '../../src/runtime/storage/account-layout.js';
import { readAccountLog } from '../../src/runtime/storage/account-log.js';
import { upgradeToLayout3 } from '../../src/runtime/storage/layout-upgrade.js';
import { encodeRecord } from '../../src/runtime/storage/state-codec.js';
import { AccountRefs } from '../../src/security/account-refs.js';
import { newKeyFileText, parseKeyFile } from '../../src/security/key-file.js';
import { type KeySpace, keySpace, legacyShardOf } from '../../src/store/keys.js';
import { maskPan } from '../../src/util/pan.js';
import { encodeLegacyAccount, type LegacyState } from '../helpers/legacy-layout.js';
import { useRedisServer } from '../helpers/redis-fixture.js';

const unpackr = new Unpackr({ useRecords: false });
const refs = new AccountRefs(parseKeyFile(newKeyFileText(true), 'test'));

/** An account state as large as one gets: every limit set, amounts beyond 32 bits. */
const LARGEST_STATE: LegacyState = {
  currency: 'USD',
  balance: 2 ** 52,
  held: 2 ** 51,
  status: 'blocked',
  limits: { perTxnMax: 2 ** 50, dailyMax: 2 ** 50, dailyCountMax: 2 ** 31 },
  day: 20_000,
  dayAmount: 2 ** 49,
  dayCount: 2 ** 31,
};

/** A layout 1 (and 2) account key: the PAN in clear, under its FNV shard. */
const layoutOneKey = (keys: KeySpace, pan: string): string => keys.account(legacyShardOf(pan), pan);

/** ensureAccountLayout with the real upgrade to layout 3 behind it. */
function ensureLayout(keys: KeySpace) {
  return ensureAccountLayout(redis.client, keys, silentLogger, () =>
    upgradeToLayout3(redis.client, keys, refs, silentLogger),
  );
}

function record(key: string, atMs: number): TxnRecord {
  const response = StoredResponse.of({ rc: '00', rrn: '000000000042', authCode: 'A1B2C3', amount: 5 });
  return sideRecord({ key: parseKey(key), tombstone: false, amount: 5, currency: 'USD', response, atMs });
}

/** A record as layout 1 stored it: format 3 (the key left out: it was the field name) or 2 (key inside). */
function layoutOneRecord(r: TxnRecord, format: 2 | 3): Buffer {
  const fields = unpackr.unpack(encodeRecord(r)) as unknown[];
  fields[0] = format;
  if (format === 3) fields[1] = null;
  return pack(fields);
}

const redis = useRedisServer();

describe('account layout', () => {
  it('rewrites layout-1 account hashes as logs (same state, same records), upgrades them to layout 3, then marks the layout', async () => {
    const keys = keySpace('lay1');
    const pans = ['4111110000000001', '4111110000000002'];
    const records = [
      record('acq|1|1764000000001', 1_764_000_000_001),
      record('#adj|ref-7', 1_764_000_000_002),
    ];
    for (const pan of pans) {
      await redis.client.hset(
        layoutOneKey(keys, pan),
        'd',
        encodeLegacyAccount(pan, LARGEST_STATE),
        keyOf(records[0]!),
        layoutOneRecord(records[0]!, 3),
        keyOf(records[1]!),
        layoutOneRecord(records[1]!, 2),
      );
    }
    // Records of no account (no state): nothing to carry over.
    const orphan = layoutOneKey(keys, '4111110000000003');
    await redis.client.hset(orphan, 'acq|9|9', layoutOneRecord(record('acq|9|9', 9), 3));

    // Migrated (3 hashes, the orphan too) and upgraded (the 2 logs left).
    expect(await ensureLayout(keys)).toBe(3 + 2);
    for (const pan of pans) {
      expect(await redis.client.exists(layoutOneKey(keys, pan))).toBe(0);
      const ref = refs.refOf(pan);
      const key = keys.account(refs.shardOf(pan), ref);
      expect(await redis.client.type(key)).toBe('string');
      const log = readAccountLog((await redis.client.getBuffer(key))!, 0);
      expect(log.account).toMatchObject({ ...LARGEST_STATE, panMasked: maskPan(pan) });
      expect(refs.openPan(log.account!.panSealed, ref)).toBe(pan);
      const byKey = new Map(log.records.map((r) => [keyOf(r), r]));
      expect([...byKey.keys()].sort()).toEqual(records.map(keyOf).sort());
      for (const original of records) {
        const { batch: _batch, ...migrated } = byKey.get(keyOf(original))!;
        const { batch: _b, rrnHead: _h, rrnTail: _t, authHead: _ah, authTail: _at, ...want } = original;
        expect(migrated).toMatchObject(want);
        expect(migrated.rrnHead).toBe('000000000042');
        expect(migrated.authHead).toBe('A1B2C3');
      }
    }
    expect(await redis.client.exists(orphan)).toBe(0);
    expect(await redis.client.get(keys.accountLayout())).toBe(String(ACCOUNT_LAYOUT));
    // Marked: the next start does not scan again.
    await redis.client.hset(
      layoutOneKey(keys, '4111110000000004'),
      'd',
      encodeLegacyAccount('4111110000000004', LARGEST_STATE),
    );
    expect(await ensureLayout(keys)).toBe(0);
  });

  it('stops at a record it cannot read, naming the account masked, and leaves its hash as it was', async () => {
    const keys = keySpace('lay4');
    const pan = '4111110000000009';
    const key = layoutOneKey(keys, pan);
    await redis.client.hset(key, 'd', encodeLegacyAccount(pan, LARGEST_STATE), 'acq|1|1', pack([9, null]));
    const failure = ensureLayout(keys);
    await expect(failure).rejects.toThrow(AccountLayoutError);
    await expect(failure).rejects.toThrow(
      /411111\*+0009: a record cannot be read \(Error: unknown record format 9\)/,
    );
    expect(await redis.client.type(key)).toBe('hash');
    expect(await redis.client.hlen(key)).toBe(2);
    expect(await redis.client.get(keys.accountLayout())).toBeNull();
  });

  it('marks a Redis with no accounts, and refuses a layout newer than this build', async () => {
    const fresh = keySpace('lay2');
    expect(await ensureLayout(fresh)).toBe(0);
    expect(await redis.client.get(fresh.accountLayout())).toBe(String(ACCOUNT_LAYOUT));
    const newer = keySpace('lay3');
    await redis.client.set(newer.accountLayout(), String(ACCOUNT_LAYOUT + 1));
    await expect(ensureLayout(newer)).rejects.toThrow(AccountLayoutError);
  });

  it('runs only the upgrade on a store marked layout 2, and nothing on one marked layout 3', async () => {
    const keys = keySpace('lay5');
    const layoutOne = layoutOneKey(keys, '4111110000000012');
    await redis.client.hset(layoutOne, 'd', encodeLegacyAccount('4111110000000012', LARGEST_STATE));
    let upgrades = 0;
    const upgrade = async () => {
      upgrades++;
      return 7;
    };
    await redis.client.set(keys.accountLayout(), '2');
    expect(await ensureAccountLayout(redis.client, keys, silentLogger, upgrade)).toBe(7);
    // Marked 2: no layout 1 scan (the hash stays a hash), only the upgrade.
    expect(await redis.client.type(layoutOne)).toBe('hash');
    await redis.client.set(keys.accountLayout(), String(ACCOUNT_LAYOUT));
    expect(await ensureAccountLayout(redis.client, keys, silentLogger, upgrade)).toBe(0);
    expect(upgrades).toBe(1);
  });
});
