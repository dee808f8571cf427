import type { TxnClass } from '../protocol/mti.js';
import type { Proc } from '../protocol/request.js';

/**
 * What the ledger remembers per transaction key (institution, pan, stan,
 * time): the content to compare repeats against, the response to replay
 * field for field, and, for originals, what later completions and reversals
 * need. Keyed within its account by `recordKey` (the PAN is the account's).
 */

/** Lifecycle of an original: what a 0220/0400 naming it finds. */
export type OriginalState =
  /** Declined: a reversal of it answers 00 and changes nothing. */
  | 'declined'
  /** 0100 hold still placed. */
  | 'open'
  /** 0100 hold completed by a 0220 (postedAmount posted). */
  | 'completed'
  /** 0100 hold released by expiry. */
  | 'expired'
  /** 0200 posted (purchase/cash debit or refund credit). */
  | 'posted'
  /** Not an original (completion, reversal, inquiry, tombstone). */
  | 'none';

export interface StoredResponse {
  rc: string;
  rrn: string;
  authCode?: string;
  amount?: number;
  balance?: number;
  error?: string;
}

export interface TxnRecord {
  /** `${institution}|${stan}|${time}` */
  readonly key: string;
  /** A tombstone stands for an original that a reversal named before it arrived. */
  readonly tombstone: boolean;
  readonly txnClass: TxnClass;
  readonly amount: number;
  readonly currency: string;
  /** '' on 0220/0400: their proc is the original's, not part of their content. */
  readonly proc: Proc | '';
  readonly stan: number;
  readonly response: StoredResponse;
  state: OriginalState;
  /** The approved amount of an original (0 when declined). */
  readonly approvedAmount: number;
  /** What was posted: a 0200's amount, or a completion's amount. */
  postedAmount: number;
  /** rc of the reversal that reversed this original; undefined while not reversed. */
  reversedRc: string | undefined;
  /** UTC day and amount this original counted toward the daily limits (0 = not counted). */
  readonly countedDay: number;
  readonly countedAmount: number;
  /** When it was recorded (epoch ms): pruning after dedupeWindowMs. */
  readonly atMs: number;
  /** For open holds: when the hold expires (epoch ms); 0 otherwise. */
  readonly holdExpiresAtMs: number;
  /**
   * The owner's batch that last wrote it (LedgerCore bookkeeping, not stored):
   * a record may leave memory only once that batch is confirmed durable.
   */
  batch?: number;
}

export function recordKey(institution: string, stan: number, time: number): string {
  return `${institution}|${stan}|${time}`;
}

/**
 * A record that is not an original: a tombstone, or an operations'
 * adjustment. The hot path (decide's finish) builds its records literally.
 */
export function sideRecord(fields: {
  key: string;
  tombstone: boolean;
  amount: number;
  currency: string;
  stan: number;
  response: StoredResponse;
  atMs: number;
}): TxnRecord {
  return {
    key: fields.key,
    tombstone: fields.tombstone,
    // Not an original: class and proc only matter for content comparison, which never reaches these.
    txnClass: '0200',
    amount: fields.amount,
    currency: fields.currency,
    proc: '',
    stan: fields.stan,
    response: fields.response,
    state: 'none',
    approvedAmount: 0,
    postedAmount: 0,
    reversedRc: undefined,
    countedDay: 0,
    countedAmount: 0,
    atMs: fields.atMs,
    holdExpiresAtMs: 0,
  };
}
