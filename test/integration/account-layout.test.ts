/**
 * Accounts stored as hashes by builds before 2026-11-27 (layout 1) are rewritten as account
 * logs at start (src/runtime/storage/account-layout.ts), against a real redis-server.
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
import { encodeAccount, encodeRecord } from '../../src/runtime/storage/state-codec.js';
import { keySpace, shardOf } from '../../src/store/keys.js';
import { largestState } from '../helpers/account-log.js';
import { useRedisServer } from '../helpers/redis-fixture.js';

const unpackr = new Unpackr({ useRecords: false });

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

describe('account layout', () => {
  const redis = useRedisServer();

  it('rewrites layout-1 account hashes as logs: same state, same records, then marks the layout', async () => {
    const keys = keySpace('lay1');
    const pans = ['4111110000000001', '4111110000000002'];
    const records = [
      record('acq|1|1764000000001', 1_764_000_000_001),
      record('#adj|ref-7', 1_764_000_000_002),
    ];
    for (const pan of pans) {
      await redis.client.hset(
        keys.account(shardOf(pan), pan),
        'd',
        encodeAccount(largestState(pan)),
        keyOf(records[0]!),
        layoutOneRecord(records[0]!, 3),
        keyOf(records[1]!),
        layoutOneRecord(records[1]!, 2),
      );
    }
    // Records of no account (no state): nothing to carry over.
    const orphan = keys.account(shardOf('4111110000000003'), '4111110000000003');
    await redis.client.hset(orphan, 'acq|9|9', layoutOneRecord(record('acq|9|9', 9), 3));

    expect(await ensureAccountLayout(redis.client, keys, silentLogger)).toBe(3);
    for (const pan of pans) {
      const key = keys.account(shardOf(pan), pan);
      expect(await redis.client.type(key)).toBe('string');
      const log = readAccountLog((await redis.client.getBuffer(key))!, 0);
      expect(log.account).toEqual(largestState(pan));
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
      keys.account(1, '4111110000000004'),
      'd',
      encodeAccount(largestState('4111110000000004')),
    );
    expect(await ensureAccountLayout(redis.client, keys, silentLogger)).toBe(0);
  });

  it('stops at a record it cannot read, naming the account masked, and leaves its hash as it was', async () => {
    const keys = keySpace('lay4');
    const pan = '4111110000000009';
    const key = keys.account(shardOf(pan), pan);
    await redis.client.hset(key, 'd', encodeAccount(largestState(pan)), 'acq|1|1', pack([9, null]));
    const failure = ensureAccountLayout(redis.client, keys, silentLogger);
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
    expect(await ensureAccountLayout(redis.client, fresh, silentLogger)).toBe(0);
    expect(await redis.client.get(fresh.accountLayout())).toBe(String(ACCOUNT_LAYOUT));
    const newer = keySpace('lay3');
    await redis.client.set(newer.accountLayout(), String(ACCOUNT_LAYOUT + 1));
    await expect(ensureAccountLayout(redis.client, newer, silentLogger)).rejects.toThrow(AccountLayoutError);
  });
});
