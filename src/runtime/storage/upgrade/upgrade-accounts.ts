import { isPanShaped, maskPan } from '../../../util/pan.js';
import { AccountLayoutError } from '../account-layout.js';
import { decodeIdentityFields, forEachValue } from '../state-codec.js';
import { execChecked } from './exec-checked.js';
import { isLegacyAccountRef, type UpgradedLog, upgradeAccountLog } from './legacy-values.js';
import type { UpgradeContext } from './upgrade-context.js';
import { resumeCursor, type UpgradeState } from './upgrade-progress.js';

/** A layout 2 account found by the scan: its key, PAN and layout 3 key. */
interface LegacyAccount {
  readonly oldKey: string;
  readonly pan: string;
  readonly newKey: string;
}

/**
 * The accounts phase: every layout 2 account key (`{fnvShard}:acct:<PAN>`)
 * becomes its layout 3 key (`{shard}:acct:<ref>`), its log re-encoded
 * (legacy-values.ts), the new key written and the old one deleted in one
 * MULTI/EXEC, so an account is in exactly one of the two layouts whenever
 * the upgrade stops. SCAN returns every key present from the start of a
 * pass to its end, so one pass finds every old key; the keys it writes are
 * layout 3 ones, which it passes over. The cursor is saved after each step
 * (UpgradeProgress) and resumed while Redis is the same process. Returns the
 * accounts upgraded.
 */
export async function upgradeAccounts(ctx: UpgradeContext, state: UpgradeState): Promise<number> {
  const { redis, keys, progress, report, runId } = ctx;
  let cursor = resumeCursor(state, 'accounts', runId);
  let upgraded = 0;
  do {
    const [next, found] = await redis.scan(
      cursor,
      'MATCH',
      keys.accountPattern(),
      'COUNT',
      ctx.batch.scanCount,
      'TYPE',
      'string',
    );
    const legacy = legacyAccountsAmong(ctx, found);
    if (legacy.length > 0) {
      await progress.noteConverting();
      upgraded += await upgradeBatch(ctx, legacy);
      report.counts.accounts += legacy.length;
      report.tick('accounts');
    }
    cursor = next;
    await progress.scanned('accounts', cursor, runId);
  } while (cursor !== '0');
  return upgraded;
}

function legacyAccountsAmong(ctx: UpgradeContext, found: readonly string[]): LegacyAccount[] {
  const accounts: LegacyAccount[] = [];
  for (const oldKey of found) {
    const stored = ctx.keys.accountOfKey(oldKey);
    if (stored === undefined || !isLegacyAccountRef(stored.ref)) continue;
    const pan = stored.ref;
    if (!isPanShaped(pan))
      throw new AccountLayoutError(
        `account key ${maskPan(pan)}: neither a layout 2 PAN nor a layout 3 ref; the upgrade stops`,
      );
    const { shard, ref } = ctx.refs.of(pan);
    accounts.push({ oldKey, pan, newKey: ctx.keys.account(shard, ref) });
  }
  return accounts;
}

/**
 * Upgrades a batch of accounts: their logs and whether their new keys exist
 * read in one pipeline, every log converted before anything is written (an
 * unreadable one stops the upgrade with nothing of the batch written), then
 * one MULTI/EXEC per account, all sent together.
 */
async function upgradeBatch(ctx: UpgradeContext, accounts: readonly LegacyAccount[]): Promise<number> {
  const { redis } = ctx;
  const reading = redis.pipeline();
  for (const account of accounts) reading.getBuffer(account.oldKey).exists(account.newKey);
  const replies = await execChecked(reading, 'reading layout 2 accounts');
  const moves: { account: LegacyAccount; upgraded: UpgradedLog; newKeyExists: boolean }[] = [];
  accounts.forEach((account, i) => {
    const data = replies[2 * i] as Buffer | null;
    // Gone since the scan saw it: nothing else writes accounts during the upgrade, so never in practice.
    if (data === null) return;
    moves.push({
      account,
      upgraded: upgradeAccountLog(data, account.pan, ctx.refs),
      newKeyExists: replies[2 * i + 1] === 1,
    });
  });
  await Promise.all(
    moves.map(({ account, upgraded, newKeyExists }) =>
      newKeyExists
        ? settleBothLayouts(ctx, account, upgraded)
        : execChecked(
            redis.multi().set(account.newKey, upgraded.log).del(account.oldKey),
            `upgrading account ${maskPan(account.pan)}`,
          ),
    ),
  );
  return moves.length;
}

/**
 * Both keys exist: the MULTI/EXEC above never leaves that, so some other
 * writer made the new key. If it holds what the upgrade would write (the
 * same entries after an identity sealing this PAN), the old key is merely
 * deleted; anything else is refused rather than guessed at.
 */
async function settleBothLayouts(
  ctx: UpgradeContext,
  account: LegacyAccount,
  upgraded: UpgradedLog,
): Promise<void> {
  const masked = maskPan(account.pan);
  const existing = await ctx.redis.getBuffer(account.newKey);
  if (existing === null) {
    // Deleted between the read and now (nothing else should be writing): write ours.
    await execChecked(
      ctx.redis.multi().set(account.newKey, upgraded.log).del(account.oldKey),
      `upgrading account ${masked}`,
    );
    return;
  }
  if (!sameAccount(ctx, account, existing, upgraded))
    throw new AccountLayoutError(
      `account ${masked} is stored in layout 2 and, differently, in layout 3; the upgrade stops rather than pick one`,
    );
  await ctx.redis.del(account.oldKey);
}

/** Whether a layout 3 log is what the upgrade makes of the account: an identity sealing its PAN, then the same bytes. */
function sameAccount(
  ctx: UpgradeContext,
  account: LegacyAccount,
  existing: Buffer,
  upgraded: UpgradedLog,
): boolean {
  let identity: { readonly fields: unknown; readonly end: number } | undefined;
  try {
    forEachValue(existing, (value, _start, end) => {
      identity ??= { fields: value, end };
    });
    if (identity === undefined || !Array.isArray(identity.fields)) return false;
    const { panSealed } = decodeIdentityFields(identity.fields);
    if (ctx.refs.open(panSealed, ctx.refs.of(account.pan).ref) !== account.pan) return false;
  } catch {
    return false;
  }
  return existing.subarray(identity.end).equals(upgraded.log.subarray(upgraded.identityBytes));
}
