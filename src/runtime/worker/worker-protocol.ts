import type { LogLevel } from '../../config/types.js';
import type { LedgerErrorCode } from '../../errors/codes.js';
import type { WorkerStats } from '../../observability/switch-metrics.js';
import type { Role } from '../../protocol/mti.js';
import type { TxnRequest } from '../../protocol/request.js';
import type { AccountLimits, AccountStatus, AccountView } from '../account.js';
import type { ResponseFields } from '../records/stored-response.js';

/**
 * The main thread <-> ledger worker protocol, typed in one place (the habit
 * of piscina's types.ts). Both directions carry batches: one postMessage per
 * event-loop turn per worker.
 */

export interface LedgerWorkerData {
  readonly workerId: number;
  /** Workers in all: worker w owns the shards with shard % workerCount === w. */
  readonly workerCount: number;
  readonly redisUrl: string;
  readonly epoch: number;
  readonly holdTtlMs: number;
  readonly dedupeWindowMs: number;
  /** Active actors kept in memory before idle ones are passivated. */
  readonly actorsMax: number;
  /**
   * Transaction records an actor keeps in memory; older ones (once durable)
   * are evicted and fetched from the account log when a key needs them.
   */
  readonly recordsPerActorMax: number;
  /** Evicted keys the owner files for all its actors (EvictedKeys; LedgerConfig.evictedKeysMax); past it they go blind. */
  readonly evictedKeysMax: number;
  /** A commit not answered within this is treated as failed (96) and its accounts reloaded. */
  readonly commitTimeoutMs: number;
  readonly keyPrefix: string;
  /**
   * The data keys (security/key-file.ts), as the key file's JSON: the owner
   * makes shards, refs and sealed PANs with them. Replaced on SIGHUP by a
   * `keys` message. Never logged.
   */
  readonly dataKeysJson: string;
  /**
   * Start without owning the shards (no core, no connections) until told to
   * acquire them: a host whose slot another host owns (ledger-engine.ts).
   */
  readonly idle?: boolean;
}

/**
 * What a worker thread is started with: its ledger data plus the main
 * thread's log level (the host takes it from its logger), so `log.level`
 * holds on every thread.
 */
export interface LedgerWorkerInit extends LedgerWorkerData {
  readonly logLevel: LogLevel;
}

export type WorkItem =
  | {
      readonly k: 'txn';
      readonly seq: number;
      readonly institution: string;
      readonly role?: Role;
      readonly req: TxnRequest;
      /** The route's issuer institution; absent for the on-us ledger (`local`). */
      readonly issuer?: string;
    }
  | {
      /** What became of a forward (docs/issuers.md): the actor of `pan` finishes the transaction under the key. */
      readonly k: 'issuerAnswer';
      readonly seq: number;
      readonly pan: string;
      /** The forwarded transaction's key: the acquirer's institution, stan and time. */
      readonly institution: string;
      readonly stan: number;
      readonly time: number;
      readonly outcome: IssuerOutcome;
    }
  | { readonly k: 'get'; readonly seq: number; readonly pan: string }
  | {
      readonly k: 'put';
      readonly seq: number;
      readonly pan: string;
      readonly currency: string;
      readonly balance: number;
      readonly limits: AccountLimits | undefined;
      readonly status: AccountStatus | undefined;
      /** Bulk seeding: create only; an existing account is left alone. */
      readonly createOnly: boolean;
    }
  | {
      readonly k: 'adjust';
      readonly seq: number;
      readonly pan: string;
      readonly amount: number;
      readonly reference: string;
    }
  | {
      readonly k: 'expire';
      readonly seq: number;
      readonly shard: number;
      readonly ref: string;
      readonly recordKey: string;
    }
  | { readonly k: 'sweep'; readonly seq: number; readonly shard: number; readonly ref: string }
  /**
   * Key rotation (docs/security.md "Rotation"), asked by the rotation jobs of
   * the account at (shard, ref): reseal, its sealed PAN under the current
   * data key if an older one sealed it; rekey, the account moved to its ref
   * under the current token key if an older one made its ref.
   */
  | { readonly k: 'reseal'; readonly seq: number; readonly shard: number; readonly ref: string }
  | { readonly k: 'rekey'; readonly seq: number; readonly shard: number; readonly ref: string }
  /**
   * Answered once every batch the owner decided before it is released
   * (durable, or failed): a job that starts after a key reload waits on it,
   * so nothing decided under the old keys is still on its way to Redis.
   * (Work that arrived before it but waits for its actor to load is decided
   * after it, under the keys in use by then.)
   */
  | { readonly k: 'barrier'; readonly seq: number };

export type AdminOutcome =
  | { readonly ok: true; readonly created?: boolean; readonly account: AccountView }
  | { readonly ok: false; readonly code: LedgerErrorCode; readonly message: string };

/**
 * The issuer's answer as the main thread checked it (a known rc, an amount
 * no larger than the request's, ...), or why there is none: no answer
 * within issuerTimeoutMs, or no signed-on connection to forward it on.
 */
export type IssuerOutcome =
  | {
      readonly k: 'answered';
      readonly rc: string;
      readonly authCode: string | undefined;
      readonly amount: number | undefined;
      readonly balance: number | undefined;
    }
  | { readonly k: 'timeout'; readonly standIn: StandInLimits | undefined }
  | { readonly k: 'unavailable'; readonly standIn: StandInLimits | undefined };

/** An issuer institution's `standIn` (docs/protocol.md section 4), minor units. */
export interface StandInLimits {
  readonly perTxnMax: number;
  readonly dailyMax: number;
}

/**
 * A transaction the issuer rules send to the issuer: the request, with the
 * switch's rrn. The worker names it by the work item's seq and the rrn (a
 * `forward` result); the main thread, which submitted the item, makes the
 * order from what it submitted.
 */
export interface ForwardOrder {
  /** The PAN's shard, as the main thread found it for the request: the answer goes to the same owner. */
  readonly shard: number;
  readonly issuer: string;
  /** The acquirer's institution (the forward's `acquirer`). */
  readonly institution: string;
  readonly req: TxnRequest;
  readonly rrn: string;
}

export type WorkResult =
  | { readonly seq: number; readonly k: 'txn'; readonly response: ResponseFields }
  /**
   * Not an answer: the main thread forwards the transaction it submitted as
   * `seq` (its institution, issuer and request), with the switch's `rrn`;
   * the txn's answer comes with the issuerAnswer's turn.
   */
  | { readonly seq: number; readonly k: 'forward'; readonly rrn: string }
  /** The issuerAnswer's own result: whether a pending forward took it (false: unknown or already finished). */
  | { readonly seq: number; readonly k: 'issuerAnswer'; readonly taken: boolean }
  | { readonly seq: number; readonly k: 'admin'; readonly outcome: AdminOutcome }
  | { readonly seq: number; readonly k: 'expire'; readonly outcome: ExpireOutcome }
  | { readonly seq: number; readonly k: 'sweep'; readonly outcome: SweepOutcome }
  | { readonly seq: number; readonly k: 'rotation'; readonly outcome: RotationOutcome }
  | { readonly seq: number; readonly k: 'barrier' };

/**
 * What happened to a hold the expiry job asked about: released now; closed
 * already (completed, reversed, expired: nothing to do); not due yet (its
 * record's expiry, placed with a longer holdTtlMs than today's, or judged by
 * a clock behind the job's), so the job files it for then; or retry (the
 * worker could not answer), so the job asks again on a later pass.
 */
export type ExpireOutcome = 'released' | 'closed' | 'retry' | NotDueYet;

export interface NotDueYet {
  /** When the hold expires (epoch ms), as its record says. */
  readonly dueAtMs: number;
}

/**
 * What the record sweep did to one account: how many of its records past the
 * dedupe window are now deleted from Redis (durably: answered after the
 * commit), or retry (the worker could not answer; the next cycle asks again).
 */
export type SweepOutcome = number | 'retry';

/**
 * What a reseal or rekey did to one account, answered after the commit that
 * made it durable: done (re-sealed, or moved to its ref under the current
 * token key); current (nothing under an older key); absent (no account
 * there); unreadable (its sealed PAN does not open under the key file's
 * keys: logged, left as it is); conflict (rekey: an account is at the new
 * ref already; logged, left as it is); retry (the worker could not answer;
 * the job asks again).
 */
export type RotationOutcome = 'done' | 'current' | 'absent' | 'unreadable' | 'conflict' | 'retry';

/**
 * An account a handover's old owner had in memory for traffic: the new
 * owner loads it before it is asked for, so the first transactions after a
 * move do not each wait for a read (and the account's ref is not computed
 * again on the main thread's time).
 */
export interface WarmRef {
  readonly shard: number;
  readonly ref: string;
}

/** `items` are packed with worker-codec.ts (packWork / packResults). */
export type ToWorker =
  | { readonly t: 'work'; readonly items: Uint8Array }
  /** New data keys (SIGHUP): the key file's JSON. */
  | { readonly t: 'keys'; readonly json: string }
  | { readonly t: 'stop' }
  /** Hand the shards over: drop every actor and record, close the connections, answer `released`. */
  | { readonly t: 'release' }
  /** Take the shards: a fresh core under a new epoch, answer `acquired` (or `acquireFailed`); then load `warm`'s accounts. */
  | { readonly t: 'acquire'; readonly warm: readonly WarmRef[] };

export type FromWorker =
  | { readonly t: 'ready' }
  /** `warm`: the accounts it had in memory for traffic, most recently used first (for the next owner). */
  | { readonly t: 'released'; readonly warm: readonly WarmRef[] }
  | { readonly t: 'acquired' }
  | { readonly t: 'acquireFailed'; readonly message: string }
  | { readonly t: 'results'; readonly items: Uint8Array }
  /**
   * Once a second (core-runtime.ts): gauges now, counts since the last stats,
   * as the metrics take them (a worker thread's ledger-worker.ts adds its event loop).
   */
  | ({ readonly t: 'stats' } & WorkerStats)
  | { readonly t: 'fatal'; readonly message: string }
  /**
   * Whether the owner can commit now: its Redis connections up and no
   * re-fence under way (StoreState). Sent on each change, first before
   * `ready`; never per transaction.
   */
  | { readonly t: 'store'; readonly ready: boolean; readonly reason?: string };
