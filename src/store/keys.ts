/**
 * Every Redis key the switch uses, built here and nowhere else (the habit of
 * BullMQ's queue-keys.ts). Per-shard keys carry the `{shard}` hash tag so a
 * shard's keys share one Redis Cluster slot when scale-out comes.
 */

export const SHARD_COUNT = 1024;

/**
 * Append-only logs (journal streams, hold expiry buckets) are kept per log
 * partition, a fixed group of shards (shard % LOG_PARTITION_COUNT), not per
 * shard: a commit then appends one stream entry (and one bucket push) per
 * partition it touches instead of per shard, ~16 per batch instead of
 * hundreds. Per-shard keys (accounts, epochs) stay per shard, so shard
 * leasing is unchanged: logs are read by PAN, never owned by one shard.
 * Stable forever, like the shard hash.
 */
export const LOG_PARTITION_COUNT = 16;

export function logPartitionOf(shard: number): number {
  return shard % LOG_PARTITION_COUNT;
}

/** Width of a hold expiry bucket: holds are released at most this much (plus the job interval) after they expire. */
export const HOLD_BUCKET_MS = 1_000;

export function holdBucketOf(expiresAtMs: number): number {
  return Math.floor(expiresAtMs / HOLD_BUCKET_MS);
}

export interface KeySpace {
  /**
   * An account's log (runtime/storage/account-log.ts): one string of MessagePack entries, its
   * states, transaction records and drops in the order they were committed. A commit
   * APPENDs one piece per account it touches; activation reads it with one GET.
   */
  account(shard: number, pan: string): string;
  /** SCAN MATCH pattern of every account key (the record sweep walks them). */
  accountPattern(): string;
  /** The PAN of an account key, or undefined for any other key. */
  panOfAccountKey(key: string): string | undefined;
  /** Which layout the accounts are stored in (runtime/storage/account-layout.ts). */
  accountLayout(): string;
  /** The record sweep's SCAN cursor: a pass goes on where the last one stopped. */
  sweepCursor(): string;
  /**
   * Holds of one log partition expiring within one HOLD_BUCKET_MS window: a list of
   * `${pan}#${recordKey}`, filed by the expiry job for holds its journal pass found not
   * due yet (placed with a longer holdTtlMs than today's), and by builds before 2026-11-27
   * for every hold they placed. Never edited (the job asks the owning actor whether each
   * is still open).
   */
  holdBucket(partition: number, bucket: number): string;
  /** The log partition's set of non-empty hold buckets (bucket numbers), so the expiry job never scans. */
  holdBuckets(partition: number): string;
  /** The id of the last journal entry of the log partition that hold expiry has read (a stream id). */
  holdExpiryCursor(partition: number): string;
  /**
   * The log partition's journal stream: one entry per commit touching the partition,
   * holding that commit's balance effects for the partition's shards, in order.
   */
  journal(partition: number): string;
  /** The shard's fencing epoch: commits carry it and are refused when it moved on. */
  epoch(shard: number): string;
  /**
   * The last batch sequence number applied by one ledger owner incarnation (a LedgerCore
   * start: a worker, its restart, a re-fence keeps it). Commits check it, so a resent
   * batch is not applied twice and a chained batch applies only after its predecessor.
   */
  appliedSeq(owner: number): string;
  /** Counter handing out owner incarnation ids: every LedgerCore start takes a fresh one. */
  ownerCounter(): string;
  /** Counter handing out fencing epochs (to switch processes, and to workers re-fencing after a failed commit). */
  epochCounter(): string;
  /** Counter leasing rrn source ids: every rrn generator instance takes a fresh one. */
  rrnSourceCounter(): string;
  /** Counter leasing blocks of the authCode sequence (runtime/auth-code.ts): each INCR is the next block. */
  authCodeBlockCounter(): string;
  /** Every shard key pattern, for tests and tooling. */
  readonly prefix: string;
}

const ACCOUNT_INFIX = '}:acct:';

/** A literal for a Redis MATCH glob: its special characters escaped. */
function globEscaped(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export function keySpace(prefix = 'sy'): KeySpace {
  const tag = (shard: number): string => `${prefix}:{${shard}}`;
  return {
    prefix,
    // Built and parsed (panOfAccountKey) with the same infix, so the two cannot drift apart.
    account: (shard, pan) => `${prefix}:{${shard}${ACCOUNT_INFIX}${pan}`,
    accountPattern: () => `${globEscaped(prefix)}:{*}:acct:*`,
    panOfAccountKey: (key) => {
      const at = key.lastIndexOf(ACCOUNT_INFIX);
      return at > 0 && key.startsWith(`${prefix}:{`) ? key.slice(at + ACCOUNT_INFIX.length) : undefined;
    },
    accountLayout: () => `${prefix}:account-layout`,
    sweepCursor: () => `${prefix}:record-sweep-cursor`,
    holdBucket: (partition, bucket) => `${prefix}:{j${partition}}:holds:${bucket}`,
    holdBuckets: (partition) => `${prefix}:{j${partition}}:hold-buckets`,
    holdExpiryCursor: (partition) => `${prefix}:{j${partition}}:hold-expiry-cursor`,
    journal: (partition) => `${prefix}:{j${partition}}:journal`,
    epoch: (shard) => `${tag(shard)}:epoch`,
    appliedSeq: (owner) => `${prefix}:{o${owner}}:applied-seq`,
    ownerCounter: () => `${prefix}:owner-counter`,
    epochCounter: () => `${prefix}:epoch-counter`,
    rrnSourceCounter: () => `${prefix}:rrn-source-counter`,
    authCodeBlockCounter: () => `${prefix}:auth-code-block-counter`,
  };
}

/**
 * FNV-1a over the PAN's characters, modulo the shard count. Stable forever:
 * changing it would move accounts between shards (and their keys).
 */
export function shardOf(pan: string): number {
  return fnv1a32(pan) % SHARD_COUNT;
}

/** FNV-1a over a string's UTF-16 code units, 32 bits, unsigned. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
