/**
 * Data keys for tests: the demo config's development keys (config/dev-data-keys.json), which
 * every switch a test starts uses unless the test says otherwise (switch-process.ts), so a
 * test can find what the switch stored for a PAN (src/security/account-refs.ts does the
 * hashing; nothing here re-implements it).
 */
import { readFileSync } from 'node:fs';
import type { AccountState } from '../../src/runtime/account.js';
import { AccountRefs } from '../../src/security/account-refs.js';
import { parseKeyFile } from '../../src/security/key-file.js';
import type { KeySpace } from '../../src/store/keys.js';
import { maskPan } from '../../src/util/pan.js';

/** The development keys' JSON, as a ledger owner is handed it (LedgerWorkerData.dataKeysJson). */
export const DEV_KEYS_JSON = readFileSync(
  new URL('../../config/dev-data-keys.json', import.meta.url),
  'utf8',
);

/** Shards, refs and seals under the development keys. */
export const devRefs = new AccountRefs(parseKeyFile(DEV_KEYS_JSON, 'config/dev-data-keys.json'));

/** The Redis key of `pan`'s account under `refs`. */
export function accountKeyOf(keys: KeySpace, pan: string, refs: AccountRefs = devRefs): string {
  return keys.account(refs.shardOf(pan), refs.refOf(pan));
}

/** What an account of `pan` stores of it (sealed under `refs`' current data key, and masked). */
export function identityOf(
  pan: string,
  refs: AccountRefs = devRefs,
): Pick<AccountState, 'panSealed' | 'panMasked'> {
  return { panSealed: refs.sealPan(pan, refs.refOf(pan)), panMasked: maskPan(pan) };
}
