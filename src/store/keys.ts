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
  account(shard: number, ref: string): string;
  /** SCAN MATCH pattern of every account key (the record sweep walks them). */
  accountPattern(): string;
  /**
   * The stored reference (shard and ref, or a PAN in the layouts before 3) an
   * account key names, or undefined for any other key.
   */
  accountOfKey(key: string): StoredAccountRef | undefined;
  /**
   * Where a re-key moved the account that was at (shard, ref): the new ref, as a string.
   * Journal records and hold bucket members are never edited, so those written before the
   * move still name the old ref; the loader follows this to the account. Same hash tag as
   * the account key (the commit script renames the one and sets the other together).
   * Deleted when the old ref's token key is retired (jobs/key-rotation.ts).
   */
  accountAlias(shard: number, ref: string): string;
  /** SCAN MATCH pattern of every account alias. */
  accountAliasPattern(): string;
  /** The stored reference (shard and old ref) an alias key names, or undefined for any other key. */
  aliasOfKey(key: string): StoredAccountRef | undefined;
  /** Which layout the accounts are stored in (runtime/storage/account-layout.ts). */
  accountLayout(): string;
  /** The record sweep's SCAN cursor: a pass goes on where the last one stopped. */
  sweepCursor(): string;
  /**
   * A key rotation job's SCAN cursor, by job id (jobs/key-rotation.ts): saved after each
   * step, so a job stopped or killed midway goes on where it stopped; deleted when it ends.
   */
  rotationCursor(jobId: string): string;
  /**
   * Holds of one log partition expiring within one HOLD_BUCKET_MS window: a list of
   * `${shard}:${ref}#${recordKey}` (holdMember), filed by the expiry job for holds its journal pass found not
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
  /**
   * An issuer's store-and-forward advices (docs/issuers.md): a stream, one
   * entry per advice, appended in the commit of the answer it belongs to,
   * in the order the advices were decided. Tagged by issuer, so its delivery
   * (cursor, lease) shares its slot.
   */
  advices(issuer: string): string;
  /** SCAN MATCH pattern of every issuer's advice stream (removed institutions' too). */
  advicesPattern(): string;
  /** The issuer an advice stream's key names, or undefined for any other key. */
  issuerOfAdvices(key: string): string | undefined;
  /**
   * An issuer's re-sealed advice PANs (runtime/storage/advice-seals.ts): a hash
   * from advice id to its PAN sealed under a newer data key than the stream
   * entry's own, written by the re-seal job (a stream entry cannot be
   * rewritten) and preferred by the delivery; a field goes when its entry is
   * deleted from the stream. Same hash tag as the stream.
   */
  adviceSeals(issuer: string): string;
  /**
   * Clearing cycles (docs/clearing.md), one hash tag for all so each cut is
   * one atomic script: the open cycle (`cycle`, `startMs`), the closed
   * cycles (field: cycle number, value: its range as JSON) and their
   * settlements (field: cycle number, value: the settlement JSON).
   */
  clearingOpen(): string;
  clearingCycles(): string;
  clearingSettlements(): string;
  /**
   * Clearing's progress, kept by the same scripts so /metrics reads it in
   * constant time: a sorted set of the closed cycles not `done` (member:
   * cycle number, score: its cutMs), and a hash with `lastDone` (the
   * highest cycle done) and `indexed` (the set was built from the
   * settlements once, for stores older than it).
   */
  clearingNotDone(): string;
  clearingProgress(): string;
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

/**
 * Where an account lives: its shard (a keyed hash of the PAN: security/shard-hash.ts)
 * and its ref (`<tokenKeyId>.<token>`: security/account-refs.ts). What background
 * jobs address actors by; they never have the PAN.
 */
export interface StoredAccountRef {
  readonly shard: number;
  readonly ref: string;
}

/** A hold bucket's member: the account's stored reference and the hold's record key. */
export function holdMember(shard: number, ref: string, recordKey: string): string {
  return `${shard}:${ref}#${recordKey}`;
}

/** A hold bucket member's parts, or undefined when it is not one (refs hold no ':' or '#'). */
export function parseHoldMember(
  member: string,
): (StoredAccountRef & { readonly recordKey: string }) | undefined {
  const colon = member.indexOf(':');
  const hash = member.indexOf('#', colon);
  if (colon <= 0 || hash <= colon + 1) return undefined;
  const shard = Number(member.slice(0, colon));
  if (!Number.isInteger(shard) || shard < 0 || shard >= SHARD_COUNT) return undefined;
  return { shard, ref: member.slice(colon + 1, hash), recordKey: member.slice(hash + 1) };
}

const ACCOUNT_INFIX = '}:acct:';
const ALIAS_INFIX = '}:acct-moved:';
const ADVICES_SUFFIX = '}:advices';

/** A literal for a Redis MATCH glob: its special characters escaped. */
function globEscaped(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** The (shard, ref) of a key `${prefix}:{shard}${infix}ref`, or undefined for any other key. */
function refOfKey(prefix: string, infix: string, key: string): StoredAccountRef | undefined {
  const head = `${prefix}:{`;
  const at = key.indexOf(infix, head.length);
  if (at < 0 || !key.startsWith(head)) return undefined;
  const shard = Number(key.slice(head.length, at));
  const ref = key.slice(at + infix.length);
  if (!Number.isInteger(shard) || shard < 0 || shard >= SHARD_COUNT || ref === '') return undefined;
  return { shard, ref };
}

export function keySpace(prefix = 'sy'): KeySpace {
  const tag = (shard: number): string => `${prefix}:{${shard}}`;
  return {
    prefix,
    // Built and parsed (accountOfKey) with the same infix, so the two cannot drift apart.
    account: (shard, ref) => `${prefix}:{${shard}${ACCOUNT_INFIX}${ref}`,
    accountPattern: () => `${globEscaped(prefix)}:{*}:acct:*`,
    accountOfKey: (key) => refOfKey(prefix, ACCOUNT_INFIX, key),
    accountAlias: (shard, ref) => `${prefix}:{${shard}${ALIAS_INFIX}${ref}`,
    accountAliasPattern: () => `${globEscaped(prefix)}:{*}:acct-moved:*`,
    aliasOfKey: (key) => refOfKey(prefix, ALIAS_INFIX, key),
    accountLayout: () => `${prefix}:account-layout`,
    sweepCursor: () => `${prefix}:record-sweep-cursor`,
    rotationCursor: (jobId) => `${prefix}:rotation-cursor:${jobId}`,
    holdBucket: (partition, bucket) => `${prefix}:{j${partition}}:holds:${bucket}`,
    holdBuckets: (partition) => `${prefix}:{j${partition}}:hold-buckets`,
    holdExpiryCursor: (partition) => `${prefix}:{j${partition}}:hold-expiry-cursor`,
    journal: (partition) => `${prefix}:{j${partition}}:journal`,
    advices: (issuer) => `${prefix}:{i:${issuer}${ADVICES_SUFFIX}`,
    advicesPattern: () => `${globEscaped(prefix)}:{i:*${ADVICES_SUFFIX}`,
    issuerOfAdvices: (key) => {
      const head = `${prefix}:{i:`;
      if (!key.startsWith(head) || !key.endsWith(ADVICES_SUFFIX)) return undefined;
      const issuer = key.slice(head.length, key.length - ADVICES_SUFFIX.length);
      // Institution ids hold no braces (config/settings.ts): anything else is not a stream of ours.
      return issuer === '' || /[{}]/.test(issuer) ? undefined : issuer;
    },
    adviceSeals: (issuer) => `${prefix}:{i:${issuer}${ADVICES_SUFFIX}:resealed`,
    clearingOpen: () => `${prefix}:{clearing}:open`,
    clearingCycles: () => `${prefix}:{clearing}:cycles`,
    clearingSettlements: () => `${prefix}:{clearing}:settlements`,
    clearingNotDone: () => `${prefix}:{clearing}:not-done`,
    clearingProgress: () => `${prefix}:{clearing}:progress`,
    epoch: (shard) => `${tag(shard)}:epoch`,
    appliedSeq: (owner) => `${prefix}:{o${owner}}:applied-seq`,
    ownerCounter: () => `${prefix}:owner-counter`,
    epochCounter: () => `${prefix}:epoch-counter`,
    rrnSourceCounter: () => `${prefix}:rrn-source-counter`,
    authCodeBlockCounter: () => `${prefix}:auth-code-block-counter`,
  };
}

/**
 * The shard of a PAN in the layouts before 3 (FNV-1a, unkeyed): only the
 * upgrade reads it, from the key names it rewrites. Layout 3 shards by a
 * keyed hash (security/shard-hash.ts).
 */
export function legacyShardOf(pan: string): number {
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
