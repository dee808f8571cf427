import type { TxnClass } from './mti.js';

/** Processing codes of docs/protocol.md section 3. */
export type Proc = '00' | '01' | '20' | '31';

/**
 * A transaction request that passed the format checks (30) and the MTI/proc
 * check (12). Fixed shape (every field always present) so the object stays
 * monomorphic on the hot path and cheap to post to a worker.
 */
export interface TxnRequest {
  /** 0100/0200/0220/0400; a repeat (0101...) is its original class with `repeat` set. */
  readonly txnClass: TxnClass;
  readonly repeat: boolean;
  readonly id: number | string;
  readonly stan: number;
  readonly time: number;
  readonly pan: string;
  readonly amount: number;
  readonly currency: string;
  /** Defaulted to '00'; for 0220/0400 the ledger takes it from the original instead. */
  readonly proc: Proc;
  readonly partial: boolean;
  readonly merchant: string | undefined;
  readonly terminal: string | undefined;
  readonly mcc: string | undefined;
  /** The original's stan and time on 0220/0400, else 0. */
  readonly origStan: number;
  readonly origTime: number;
}

/** A response as it goes on the wire. Absent fields are left undefined and not encoded. */
export interface TxnResponse {
  mti: string;
  id: unknown;
  stan?: number | undefined;
  rc: string;
  rrn?: string | undefined;
  authCode?: string | undefined;
  amount?: number | undefined;
  balance?: number | undefined;
  error?: string | undefined;
}

/** Anything the switch writes to a host: responses, its own 0800s, rejects. */
export interface OutboundMessage {
  mti: string;
  rc?: string | undefined;
  [field: string]: unknown;
}
