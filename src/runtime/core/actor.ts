import { maskPan } from '../../util/pan.js';
import { RingQueue } from '../../util/ring-queue.js';
import type { AccountState } from '../account.js';
import type { EvictedKeys } from '../records/evicted-keys.js';
import type { LiveRecords } from '../records/live-records.js';
import { RecordIndex } from '../records/record-index.js';
import type { WorkItem } from '../worker/worker-protocol.js';
import type { PendingForward, StandInDay } from './pending-forward.js';

/**
 * One account's actor: its state, its recent transaction records, and a
 * mailbox of work waiting while it loads. Exactly one worker owns an account
 * (its shard's), and that worker runs the actor's messages one at a time,
 * synchronously: no await inside a turn.
 */
export class Actor {
  /**
   * loading: state (or an evicted record) being read from Redis, work waits in the
   * mailbox; ready: account exists; absent: no such account.
   */
  status: 'loading' | 'ready' | 'absent' = 'loading';
  account: AccountState | undefined;
  readonly records: RecordIndex;
  /**
   * Records changed since the open batch began, written with the account at
   * commit: their positions in the batch's `records` (numbers, not the
   * records: see LiveRecords for why an old object should not hold young ones).
   */
  readonly dirtyAt: number[] = [];
  readonly mailbox = new RingQueue<WorkItem>();
  /** Id of the last batch this actor joined (so a batch lists it once). */
  batchId = 0;
  /** Record keys pruned from memory that the next commit drops from the log. */
  prunedKeys: string[] = [];
  /** Record count after the last prune: prune again when it doubles. */
  prunedAtSize = 0;
  /** Work taken out of turn while its records are fetched; runs before the mailbox. */
  head: WorkItem | undefined;
  /** The item whose missing records were just fetched (so it is not fetched for again). */
  fetchedFor: WorkItem | undefined;
  /**
   * Brought into memory by a background pass (the record sweep, the re-seal
   * job) and used by nothing else since: dropped once its turn is durable.
   */
  backgroundOnly = false;
  /** LedgerCore's use count when this actor last moved to the back of the LRU order. */
  touchedAt = 0;
  /** The account's Redis key (its log: account-log.ts), built once by the first commit that writes it. */
  accountKey: string | undefined;
  /**
   * Transactions of this PAN with their issuer now, by key (docs/issuers.md):
   * in memory only; an actor with any stays in memory until they are answered.
   */
  forwards: PendingForward[] | undefined;
  /** An issuer-routed PAN's stand-in approvals of their UTC day (docs/issuers.md), as its log holds them. */
  standIn: StandInDay | undefined;
  /** standIn changed: the next commit appends it. */
  standInDirty = false;
  /** The log holds a stand-in entry (a new one makes it dead). */
  standInWritten = false;
  /** The account's identity (its PAN sealed and masked) is new or re-sealed: the next commit writes it. */
  identityDirty = false;
  /** The log's length in Redis once every commit built so far has applied. */
  logBytes = 0;
  /** How much of the log is dead (an estimate: account-log.ts); it is compacted once that is half. */
  deadBytes = 0;
  /** Records of the open batch written before (their older versions in the log are dead). */
  rewrittenRecords = 0;
  /** A compaction read and computed, for the next commit to carry. */
  compaction: { readonly prefixBytes: number; readonly data: Buffer } | undefined;
  /** A compaction is being read, waits for a commit, or is in one not yet released: no second one. */
  compacting = false;
  /** The batch that carries the compaction (compacting ends when it is released). */
  compactionBatch = 0;
  /** Compact at the next commit once half the log is dead, however small it is (the record sweep asks). */
  compactAnySize = false;
  /** Records past the window that the activation's compaction leaves out (the record sweep counts them). */
  expiredByCompaction = 0;

  /**
   * The PAN, once a transaction or an admin call named it (the actor is found
   * by it from then on, with no hash per message); undefined for an actor a
   * background job brought in by its ref.
   */
  pan: string | undefined;

  /**
   * Other refs the cache finds this actor by (ActorCache.alsoKnownAs): the
   * PAN's ref under the previous token key while a PAN-named actor loads, the
   * ref it had before a re-key moved it (journal records and hold buckets
   * still name that one).
   */
  readonly aliases: string[] = [];
  /** Loading: the PAN's ref under the previous token key, looked up when `ref` holds no account. */
  fallbackRef: string | undefined;
  /** Loading: `ref` may have been moved by a re-key; where it went is looked up when it holds no account. */
  followAlias = false;
  /**
   * A re-key moves the account from this key (and ref) with the next commit
   * (commit-builder.ts: RENAME and an alias in the commit script).
   */
  moveFrom: { readonly key: string; readonly ref: string } | undefined;
  /**
   * The batch that carries this actor's move: until it is released the
   * actor waits (status loading, its work in the mailbox), so nothing reads
   * its log by a key the move has not yet made.
   */
  moveBatch = 0;
  /** A re-key's target key, and whether the read before the move found it taken. */
  moveTarget: { readonly key: string; readonly taken: boolean } | undefined;

  constructor(
    pan: string | undefined,
    /** The account's shard (a keyed hash of the PAN): a token key rotation never changes it. */
    readonly shard: number,
    /**
     * The account's ref (its token and the token key's id): with the shard,
     * its stored reference. Changed only by ActorCache (a re-key, or a load
     * that found the account under another ref).
     */
    public ref: string,
    /**
     * The records that are only in Redis, evicted to keep `records` bounded: a
     * key missing from `records` that may be here must be fetched before
     * deciding. A new key needs no read. Forgotten (and deleted from Redis)
     * once past the dedupe window.
     */
    readonly evicted: EvictedKeys,
    /** The worker's live records, which this actor's index keeps its own in (released when it is dropped). */
    live: LiveRecords,
  ) {
    this.pan = pan;
    this.records = new RecordIndex(live);
  }

  private maskedPan: string | undefined;

  /**
   * The masked PAN the journal names the account by: the account's, or, for
   * a PAN on an issuer route (no account here), the PAN masked, so clearing
   * files show it; '' when neither is known (an actor a background job
   * brought in by its ref, before its account is read).
   */
  get panMasked(): string {
    if (this.account !== undefined) return this.account.panMasked;
    if (this.pan === undefined) return '';
    this.maskedPan ??= maskPan(this.pan);
    return this.maskedPan;
  }
}
