/**
 * Every Redis key the switch uses, built here and nowhere else (the habit of
 * BullMQ's queue-keys.ts). Per-shard keys carry the `{shard}` hash tag so a
 * shard's keys share one Redis Cluster slot when scale-out comes.
 */

export const SHARD_COUNT = 1024;

/** Width of a hold expiry bucket: holds are released at most this much (plus the job interval) after they expire. */
export const HOLD_BUCKET_MS = 1_000;

export function holdBucketOf(expiresAtMs: number): number {
  return Math.floor(expiresAtMs / HOLD_BUCKET_MS);
}

export interface KeySpace {
  /**
   * Account hash: field `d` = the account state; every other field is one of
   * its transaction records (field = record key, which always holds a '|').
   * One hash per account: a commit writes an account and its records in one
   * HSET, and activation reads them with one HGETALL.
   */
  account(shard: number, pan: string): string;
  /**
   * Holds expiring within one HOLD_BUCKET_MS window: a list of `${pan}#${recordKey}`.
   * Appended once when a hold is placed; never edited (the expiry job asks the owning
   * actor whether each is still open). Cheaper than a sorted set by a wide margin.
   */
  holdBucket(shard: number, bucket: number): string;
  /** The shard's set of non-empty hold buckets (bucket numbers), so the expiry job never scans. */
  holdBuckets(shard: number): string;
  /** The shard's journal stream: one entry per balance effect. */
  journal(shard: number): string;
  /** The shard's fencing epoch: commits carry it and are refused when it moved on. */
  epoch(shard: number): string;
  /** Commit guard: set once per applied batch, so a resent batch is not applied twice. */
  commitGuard(shard: number, batchId: string): string;
  /** Counter handing out fencing epochs (to switch processes, and to workers re-fencing after a failed commit). */
  epochCounter(): string;
  /** Counter leasing rrn source ids: every rrn generator instance takes a fresh one. */
  rrnSourceCounter(): string;
  /** Every shard key pattern, for tests and tooling. */
  readonly prefix: string;
}

export function keySpace(prefix = 'sy'): KeySpace {
  const tag = (shard: number): string => `${prefix}:{${shard}}`;
  return {
    prefix,
    account: (shard, pan) => `${tag(shard)}:acct:${pan}`,
    holdBucket: (shard, bucket) => `${tag(shard)}:holds:${bucket}`,
    holdBuckets: (shard) => `${tag(shard)}:hold-buckets`,
    journal: (shard) => `${tag(shard)}:journal`,
    epoch: (shard) => `${tag(shard)}:epoch`,
    commitGuard: (shard, batchId) => `${tag(shard)}:commit:${batchId}`,
    epochCounter: () => `${prefix}:epoch-counter`,
    rrnSourceCounter: () => `${prefix}:rrn-source-counter`,
  };
}

/**
 * FNV-1a over the PAN's characters, modulo the shard count. Stable forever:
 * changing it would move accounts between shards (and their keys).
 */
export function shardOf(pan: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < pan.length; i++) {
    hash ^= pan.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SHARD_COUNT;
}
