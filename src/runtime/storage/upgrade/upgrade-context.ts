import type { Redis } from 'ioredis';
import type { KeySpace } from '../../../store/keys.js';
import type { PanRefs } from './pan-refs.js';
import type { ProgressReport } from './progress-report.js';
import type { UpgradeProgress } from './upgrade-progress.js';

/** How much the upgrade asks of Redis at a time (tests make them small to cross many batches). */
export interface UpgradeBatchSizes {
  /** SCAN's COUNT hint while looking for account keys and hold buckets. */
  readonly scanCount: number;
  /** Journal entries read (and written) per round trip. */
  readonly journalEntriesPerRead: number;
}

export const DEFAULT_BATCH_SIZES: UpgradeBatchSizes = { scanCount: 1_000, journalEntriesPerRead: 500 };

/** What every phase of the upgrade works with. */
export interface UpgradeContext {
  readonly redis: Redis;
  readonly keys: KeySpace;
  readonly refs: PanRefs;
  readonly progress: UpgradeProgress;
  readonly report: ProgressReport;
  /** The Redis process's run id, which a saved SCAN cursor must match. */
  readonly runId: string;
  readonly batch: UpgradeBatchSizes;
}
