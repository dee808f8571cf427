import type { Proc } from '../protocol/request.js';
import { LOCAL_ISSUER } from '../protocol/txn-context.js';
import type { LedgerEffect } from '../runtime/effects.js';
import { parseKey } from '../runtime/records/txn-record.js';
import type { JournalEntry } from '../runtime/storage/state-codec.js';

/** The MTI of a cleared item's effect (docs/protocol.md section 7). */
export type ClearedMti = '0200' | '0220' | '0400';

/** Which side of an item pays the amount; the other is paid. */
export type Payer = 'acquirer' | 'issuer';

/**
 * One cleared item (docs/clearing.md): an approved effect that moves money
 * between the acquirer and the issuer of a transaction.
 */
export interface ClearedItem {
  /** The rrn of the response that made the effect: a reversal's own, a completion's own. */
  readonly rrn: string;
  /** The stan and time of the request that made it (a 0400's own, not its original's). */
  readonly stan: number;
  readonly time: number;
  readonly panMasked: string;
  readonly mti: ClearedMti;
  /** The original's processing code. */
  readonly proc: Proc;
  /** The money the effect moved, minor units, positive. */
  readonly amount: number;
  readonly currency: string;
  readonly acquirer: string;
  /** The issuer institution; the switch's own id for the on-us ledger. */
  readonly issuer: string;
  readonly payer: Payer;
}

/**
 * What clears, by (kind, mti, proc) of a journal record: the rules write
 * exactly these for approved purchases, cash, refunds, completions and the
 * reversals of each, on-us and on issuer routes alike (src/rules/onus/decide.ts,
 * src/rules/issuer/issuer-rules.ts). The kind is the card's side: a debit or
 * a completion's posting takes money from the cardholder, so the issuer pays
 * the acquirer; a credit gives it back, so the acquirer pays the issuer.
 * docs/clearing.md "What clears" is this table for readers.
 */
const CLEARED: Readonly<Record<string, Payer>> = {
  'debit 0200 00': 'issuer', // purchase
  'debit 0200 01': 'issuer', // cash
  'credit 0200 20': 'acquirer', // refund
  'complete 0220 00': 'issuer', // completion's posted amount (of a purchase authorization)
  'complete 0220 01': 'issuer', // completion's posted amount (of a cash authorization)
  'credit 0400 00': 'acquirer', // reversal of a purchase, or of a completed purchase authorization
  'credit 0400 01': 'acquirer', // reversal of cash, or of a completed cash authorization
  'debit 0400 20': 'issuer', // reversal of a refund
};

/**
 * Kinds that never clear, whatever their MTI: a hold and its release or
 * expiry move no money between institutions (a completion's posting does,
 * as its own `complete` record); adjustments and openings are the switch's
 * own bookkeeping.
 */
const NEVER_CLEARED: ReadonlySet<LedgerEffect['kind']> = new Set([
  'hold',
  'release',
  'expire',
  'adjust',
  'open',
]);

/**
 * Only masked PANs reach a clearing file: digits, at least one `*`, digits.
 * Or none: records of issuer-routed PANs journaled before their actors named
 * them by the masked PAN (they had no account to take it from) carry ''.
 */
const MASKED_PAN = /^(?:[0-9]*\*+[0-9]*)?$/;

/**
 * The cleared item a journal record is, or undefined when it clears nothing.
 * A money-moving record (debit, credit, complete) the table does not name
 * throws: a cycle fails rather than clear without it.
 */
export function clearedItemOf(record: JournalEntry, switchId: string): ClearedItem | undefined {
  if (NEVER_CLEARED.has(record.kind)) return undefined;
  const payer = CLEARED[`${record.kind} ${record.mti} ${record.proc}`];
  if (payer === undefined)
    throw new Error(
      `journal record rrn ${record.rrn}: ${record.kind} with mti ${String(record.mti)} and proc ${record.proc} is not a known cleared item`,
    );
  const key = parseKey(record.key);
  if (key.refKey !== undefined)
    throw new Error(`journal record rrn ${record.rrn}: ${record.kind} without a transaction key`);
  if (!Number.isSafeInteger(record.amount) || record.amount <= 0)
    throw new Error(
      `journal record rrn ${record.rrn}: amount ${record.amount} is not a positive whole number`,
    );
  if (!MASKED_PAN.test(record.panMasked))
    throw new Error(`journal record rrn ${record.rrn}: its PAN is not masked`);
  return {
    rrn: record.rrn,
    stan: key.stan,
    time: key.time,
    panMasked: record.panMasked,
    mti: record.mti as ClearedMti,
    proc: record.proc,
    amount: record.amount,
    currency: record.currency,
    acquirer: key.institution,
    issuer: record.issuer === LOCAL_ISSUER ? switchId : record.issuer,
    payer,
  };
}

/** The cleared items among `records`, in their order. */
export function clearedItemsIn(records: readonly JournalEntry[], switchId: string): ClearedItem[] {
  const items: ClearedItem[] = [];
  for (const record of records) {
    const item = clearedItemOf(record, switchId);
    if (item !== undefined) items.push(item);
  }
  return items;
}

/**
 * A cycle's items in journal order, in batches (one per journal entry, say):
 * what the file writer and reconciliation take, so the pipeline awaits once
 * per batch, not once per item.
 */
export type ItemBatches = AsyncIterable<readonly ClearedItem[]> | Iterable<readonly ClearedItem[]>;
