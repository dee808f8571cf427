import type { Proc } from '../protocol/request.js';

/**
 * One balance change, as journaled (DESIGN.md: journal streams are the
 * source of truth for clearing and reconciliation). Amounts are positive
 * minor units; `kind` says the direction for the account:
 * - hold: held += amount            - release: held -= amount
 * - debit: balance -= amount        - credit: balance += amount
 * - complete: balance -= amount (a completion posting; its hold release is a separate 'release')
 * - expire: held -= amount (a hold released by hold expiry)
 * - adjust: balance += amount (signed; operations' adjustment)
 * - open: balance := amount (an account's opening balance)
 */
export interface LedgerEffect {
  readonly kind: 'hold' | 'release' | 'expire' | 'debit' | 'credit' | 'complete' | 'adjust' | 'open';
  readonly amount: number;
  /** The transaction key that caused it (`institution|stan|time`, or the adjust reference). */
  readonly key: string;
  /** For completions and reversals: the original's key. */
  readonly origKey: string | undefined;
  readonly proc: Proc;
  readonly currency: string;
  readonly atMs: number;
  /** Filled by the actor with the response's rrn before persisting. */
  rrn: string;
}
