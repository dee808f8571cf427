import type { Redis } from 'ioredis';
import type { AccountState } from '../../src/runtime/account.js';
import { StoredResponse } from '../../src/runtime/records/stored-response.js';
import { keyOf, parseKey, sideRecord } from '../../src/runtime/records/txn-record.js';
import { type AccountLog, readAccountLog } from '../../src/runtime/storage/account-log.js';
import { encodeAccount, encodeRecord } from '../../src/runtime/storage/state-codec.js';
import { identityOf } from './test-keys.js';

/** An account's log as Redis holds it now (every record, whatever its age), or undefined for none. */
export async function accountLogAt(redis: Redis, accountKey: string): Promise<AccountLog | undefined> {
  const data = await redis.getBuffer(accountKey);
  return data === null ? undefined : readAccountLog(data, 0);
}

/** 1 when the account's log holds a record under `recordKey` (not dropped), else 0 (hexists' answer). */
export async function logHasRecord(redis: Redis, accountKey: string, recordKey: string): Promise<0 | 1> {
  const log = await accountLogAt(redis, accountKey);
  return log?.records.some((record) => keyOf(record) === recordKey) === true ? 1 : 0;
}

/** An account state and identity as large as they get (a 2-character data key id): a 19-digit PAN, every limit set, amounts beyond 32 bits. */
export function largestState(pan: string): AccountState {
  return {
    ...identityOf(pan),
    currency: 'USD',
    balance: 2 ** 52,
    held: 2 ** 51,
    status: 'blocked',
    limits: { perTxnMax: 2 ** 50, dailyMax: 2 ** 50, dailyCountMax: 2 ** 31 },
    day: 20_000,
    dayAmount: 2 ** 49,
    dayCount: 2 ** 31,
  };
}

/** An account log as a commit writes it: the identity and state, then (if given) one small record under `recordKey`. */
export function encodeLog(state: AccountState, recordKey?: string): Buffer {
  const parts = [encodeAccount(state)];
  if (recordKey !== undefined) {
    const response = StoredResponse.of({ rc: '05', rrn: '000000000001' });
    parts.push(
      encodeRecord(
        sideRecord({
          key: parseKey(recordKey),
          tombstone: true,
          amount: 0,
          currency: 'USD',
          response,
          atMs: 0,
        }),
      ),
    );
  }
  return Buffer.concat(parts);
}
