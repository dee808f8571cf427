import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import type { AccountRefs } from '../../security/account-refs.js';
import type { KeySpace } from '../../store/keys.js';
import { ACCOUNT_LAYOUT, AccountLayoutError } from './account-layout.js';

/**
 * Layout 2 to 3 (docs/security.md "The upgrade"): every PAN out of Redis.
 * Placeholder while the upgrade is built: a store with no layout 2 data is
 * marked 3; one with data is refused.
 */
export async function upgradeToLayout3(
  redis: Redis,
  keys: KeySpace,
  _refs: AccountRefs,
  _log: Logger,
): Promise<number> {
  const [, found] = await redis.scan('0', 'MATCH', keys.accountPattern(), 'COUNT', 1000);
  if (found.length > 0)
    throw new AccountLayoutError('layout 2 store: the upgrade to layout 3 is not built yet');
  await redis.set(keys.accountLayout(), String(ACCOUNT_LAYOUT));
  return 0;
}
