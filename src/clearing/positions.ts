import type { ClearedItem } from './cleared-item.js';

/**
 * An institution's settlement position in one currency over a cycle (docs/protocol.md
 * section 7). Sums are bigint: a cycle's totals may pass 2^53 minor units,
 * where a double would round them, and money is never rounded.
 */
export interface Position {
  readonly institution: string;
  readonly currency: string;
  /** What it pays. */
  readonly debit: bigint;
  /** What it is paid. */
  readonly credit: bigint;
  /** credit - debit. */
  readonly net: bigint;
  /** Its rows in this currency (one per item it is a side of). */
  readonly count: number;
}

interface Sums {
  debit: bigint;
  credit: bigint;
  count: number;
}

/** Adds items up into positions per institution and currency, as they come. */
export class PositionTally {
  private readonly byInstitution = new Map<string, Map<string, Sums>>();
  private itemCount = 0;

  add(item: ClearedItem): void {
    const amount = BigInt(item.amount);
    const acquirer = this.sumsOf(item.acquirer, item.currency);
    const issuer = this.sumsOf(item.issuer, item.currency);
    const [payer, payee] = item.payer === 'acquirer' ? [acquirer, issuer] : [issuer, acquirer];
    payer.debit += amount;
    payee.credit += amount;
    acquirer.count++;
    issuer.count++;
    this.itemCount++;
  }

  get items(): number {
    return this.itemCount;
  }

  /** The positions, by institution then currency (code unit order: the same on every machine). */
  positions(): Position[] {
    const positions: Position[] = [];
    for (const [institution, byCurrency] of this.byInstitution) {
      for (const [currency, s] of byCurrency) {
        positions.push({
          institution,
          currency,
          debit: s.debit,
          credit: s.credit,
          net: s.credit - s.debit,
          count: s.count,
        });
      }
    }
    return positions.sort(
      (a, b) => compareText(a.institution, b.institution) || compareText(a.currency, b.currency),
    );
  }

  private sumsOf(institution: string, currency: string): Sums {
    let byCurrency = this.byInstitution.get(institution);
    if (byCurrency === undefined) {
      byCurrency = new Map();
      this.byInstitution.set(institution, byCurrency);
    }
    let sums = byCurrency.get(currency);
    if (sums === undefined) {
      sums = { debit: 0n, credit: 0n, count: 0 };
      byCurrency.set(currency, sums);
    }
    return sums;
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A currency whose nets do not sum to zero, with what they sum to. */
export interface Imbalance {
  readonly currency: string;
  readonly netSum: bigint;
}

/**
 * The currencies whose nets do not sum to zero over all institutions; empty
 * when the settlement balances (every item is one institution's debit and
 * another's credit, so anything else is a fault, and the cycle fails).
 */
export function imbalances(positions: readonly Position[]): Imbalance[] {
  const sums = new Map<string, bigint>();
  for (const p of positions) sums.set(p.currency, (sums.get(p.currency) ?? 0n) + p.net);
  return [...sums]
    .filter(([, netSum]) => netSum !== 0n)
    .sort(([a], [b]) => compareText(a, b))
    .map(([currency, netSum]) => ({ currency, netSum }));
}
