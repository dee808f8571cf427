import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import type { AccountRefs } from '../../security/account-refs.js';
import type { KeySpace } from '../../store/keys.js';
import { ACCOUNT_LAYOUT } from './account-layout.js';
import { PanRefs } from './upgrade/pan-refs.js';
import {
  DEFAULT_PERSISTENCE_WAIT,
  type PersistenceWait,
  rewritePersistence,
} from './upgrade/persistence-rewrite.js';
import { PROGRESS_EVERY_MS, ProgressReport } from './upgrade/progress-report.js';
import { upgradeAccounts } from './upgrade/upgrade-accounts.js';
import {
  DEFAULT_BATCH_SIZES,
  type UpgradeBatchSizes,
  type UpgradeContext,
} from './upgrade/upgrade-context.js';
import { upgradeHolds } from './upgrade/upgrade-holds.js';
import { upgradeJournals } from './upgrade/upgrade-journals.js';
import { redisRunId, UPGRADE_PHASES, UpgradeProgress } from './upgrade/upgrade-progress.js';

export interface LayoutUpgradeOptions {
  readonly batch?: Partial<UpgradeBatchSizes>;
  /** Time between two progress lines (default PROGRESS_EVERY_MS). */
  readonly progressEveryMs?: number;
  readonly persistence?: Partial<PersistenceWait>;
}

/**
 * Layout 2 to 3 (docs/security.md "The upgrade to layout 3"): every PAN out
 * of Redis and its files. Runs at start, before any ledger owner exists, so
 * nothing else writes meanwhile. In phases (upgrade/upgrade-progress.ts):
 *
 * 1. accounts: each log re-encoded under its new key (upgrade-accounts.ts);
 * 2. journals: each stream rewritten with the same entry ids (upgrade-journals.ts);
 * 3. holds: each hold bucket's members re-made (upgrade-holds.ts);
 * 4. files: the AOF rewritten, and the RDB if snapshots are on (persistence-rewrite.ts);
 *
 * then the layout marker set to 3 and the progress marker deleted, in one
 * transaction. Every write is one atomic command or MULTI/EXEC that leaves
 * the store readable by this upgrade, and every phase tells converted data
 * from unconverted by looking at it, so the upgrade can be killed between
 * any two commands and run again: it finishes what is left, converting
 * nothing twice and losing nothing. Returns the accounts upgraded by this run.
 */
export async function upgradeToLayout3(
  redis: Redis,
  keys: KeySpace,
  refs: AccountRefs,
  log: Logger,
  options: LayoutUpgradeOptions = {},
): Promise<number> {
  const progress = new UpgradeProgress(redis, keys);
  const state = await progress.read();
  const report = new ProgressReport(log, options.progressEveryMs ?? PROGRESS_EVERY_MS);
  const ctx: UpgradeContext = {
    redis,
    keys,
    refs: new PanRefs(refs),
    progress,
    report,
    runId: await redisRunId(redis),
    batch: { ...DEFAULT_BATCH_SIZES, ...options.batch },
  };
  const resumed = state.phase !== 'accounts' || state.converted;
  if (resumed) log.info('resuming the upgrade of the store to layout 3', { phase: state.phase });
  const from = UPGRADE_PHASES.indexOf(state.phase);
  let accounts = 0;
  if (from <= UPGRADE_PHASES.indexOf('accounts')) {
    accounts = await upgradeAccounts(ctx, state);
    await progress.enter('journals');
  }
  if (from <= UPGRADE_PHASES.indexOf('journals')) {
    await upgradeJournals(ctx, state);
    await progress.enter('holds');
  }
  if (from <= UPGRADE_PHASES.indexOf('holds')) {
    await upgradeHolds(ctx, state);
    await progress.enter('files');
  }
  // Nothing was ever converted (a new Redis): no old bytes on disk, no rewrite to wait for.
  if (progress.converted) {
    log.info('rewriting Redis files so the layout 2 bytes leave the disk', { ...report.counts });
    await rewritePersistence(redis, log, {
      ...DEFAULT_PERSISTENCE_WAIT,
      ...options.persistence,
      onPoll: () => report.tick('files'),
    });
  }
  await progress.finish(ACCOUNT_LAYOUT);
  if (progress.converted)
    log.info('store upgraded to layout 3', { ...report.counts, elapsedMs: report.elapsedMs });
  return accounts;
}
