import { BucketCounts, type BucketSnapshot } from '../../observability/bucket-counts.js';
import { BATCH_SIZE_BUCKETS, LATENCY_BUCKETS_S } from '../../observability/metric-buckets.js';

/** What one owner counted since its stats were last taken (shipped to the main thread for metrics). */
export interface LedgerCoreStats {
  actorsActive: number;
  mailboxDepth: number;
  /** Keys of evicted records filed now (against evictedKeysMax). */
  evictedKeys: number;
  /** Records read back from Redis since the last stats (evicted, or looked up blind). */
  recordReads: number;
  /** Group commits failed or unconfirmed since the last stats (their work answered 96). */
  commitFailures: number;
  /** Work items per confirmed commit, bucketed. */
  batchSizes: BucketSnapshot;
  /** Seconds from a commit sent to Redis's confirmation, bucketed. */
  commitSeconds: BucketSnapshot;
  /** Stand-in approvals released since the last stats, by issuer (none listed: none). */
  standInApprovals: [issuer: string, approvals: number][];
}

/**
 * The commit counters an owner keeps between two stats: fixed-size bucket
 * counts, so a commit costs a few additions and no array growth however
 * many commits a second there are; stand-in approvals by issuer (a few
 * configured issuers at most).
 */
export class CommitCounters {
  private readonly batchSizes = new BucketCounts(BATCH_SIZE_BUCKETS);
  private readonly commitSeconds = new BucketCounts(LATENCY_BUCKETS_S);
  private failures = 0;
  private readonly standIns = new Map<string, number>();

  committed(items: number, seconds: number): void {
    this.batchSizes.observe(items);
    this.commitSeconds.observe(seconds);
  }

  failed(commits: number): void {
    this.failures += commits;
  }

  /** A released batch's stand-in approvals (durable, answered): their issuers. */
  standInsReleased(issuers: readonly string[]): void {
    for (const issuer of issuers) this.standIns.set(issuer, (this.standIns.get(issuer) ?? 0) + 1);
  }

  /** Since the last take(); counting starts again from zero. */
  take(): Pick<LedgerCoreStats, 'commitFailures' | 'batchSizes' | 'commitSeconds' | 'standInApprovals'> {
    const commitFailures = this.failures;
    this.failures = 0;
    const standInApprovals = [...this.standIns];
    this.standIns.clear();
    return {
      commitFailures,
      batchSizes: this.batchSizes.take(),
      commitSeconds: this.commitSeconds.take(),
      standInApprovals,
    };
  }
}
