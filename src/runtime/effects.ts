import type { Proc } from '../protocol/request.js';
import { codeString } from '../util/code-source.js';
import { type KeyParts, keyOf } from './records/txn-record.js';

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
 *
 * The keys are kept in parts (KeyParts, the original as its record) and
 * made into strings only where written: writeKey (state-codec) for the journal, journaled() for tests and tools.
 */
export interface LedgerEffect extends KeyParts {
  readonly kind: 'hold' | 'release' | 'expire' | 'debit' | 'credit' | 'complete' | 'adjust' | 'open';
  readonly amount: number;
  /** Who decided it: `local` (the ledger) or an issuer institution (issuer routing). */
  readonly issuer: string;
  /** The MTI (class) of the request that caused it; undefined for the switch's own (admin, hold expiry). */
  readonly mti: string | undefined;
  /** For completions, reversals and expiries: the original's record (its key parts). */
  readonly original: KeyParts | undefined;
  readonly proc: Proc;
  readonly currency: string;
  readonly atMs: number;
  /**
   * The rrn of the response that caused it, as head and tail
   * (util/code-source.ts): filled by the actor before persisting.
   */
  rrnHead: string;
  rrnTail: number;
}

/** An effect with its keys and rrn as strings (what the journal holds): the shape tests and tools read. */
export type JournaledEffect = Omit<
  LedgerEffect,
  keyof KeyParts | 'original' | 'rrnHead' | 'rrnTail' | 'issuer' | 'mti'
> & {
  readonly key: string;
  readonly origKey: string | undefined;
  readonly rrn: string;
};

export function journaled(e: LedgerEffect): JournaledEffect {
  return {
    kind: e.kind,
    amount: e.amount,
    key: keyOf(e),
    origKey: e.original === undefined ? undefined : keyOf(e.original),
    proc: e.proc,
    currency: e.currency,
    atMs: e.atMs,
    rrn: codeString(e.rrnHead, e.rrnTail),
  };
}
