import type { TxnRequest } from '../../protocol/request.js';
import type { WorkItem } from '../worker/worker-protocol.js';

/**
 * A transaction with its issuer, kept by the actor in memory only (a
 * forward is not persisted: docs/issuers.md says why), with the seqs of
 * every copy waiting for its answer.
 */
export interface PendingForward {
  /** The acquirer's institution: with req's stan and time, the transaction's key. */
  readonly institution: string;
  readonly issuer: string;
  readonly req: TxnRequest;
  /** The switch's rrn, given to the issuer with the forward and to the acquirer with the answer. */
  readonly rrnHead: string;
  readonly rrnTail: number;
  readonly waiters: number[];
  /** Completions and reversals of it that arrived meanwhile: run once it is settled. */
  readonly after: WorkItem[];
}

/** A PAN's stand-in approvals of one UTC day (docs/protocol.md section 4's `dailyMax` counts them). */
export interface StandInDay {
  readonly day: number;
  readonly amount: number;
}
