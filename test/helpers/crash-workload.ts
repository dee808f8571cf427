/**
 * The workload and the reference model of the kill -9 test (test/integration/crash-kill9.test.ts).
 *
 * The workload is a list of distinct on-us transactions built up front from a seed: holds (0100),
 * purchases and cash (0200 proc 00/01), refunds (0200 proc 20), completions (0220) and full
 * reversals (0400) that name an earlier transaction of the list. Every original has at most one
 * completion and at most one reversal, so the model never has to guess an order: the switch's
 * final answer per key decides, and docs/protocol.md section 3 fixes what an approval did:
 *
 * - hold approved for `a`: held += a, until completed or reversed;
 * - completion approved for `c`: balance -= c and the whole hold is released;
 * - purchase/cash approved for `a`: balance -= a; refund approved: balance += a;
 * - reversal approved of an approved original: undoes it whole (a completed hold: its posting is
 *   credited back; a completion approved next to an approved reversal must have come first, as a
 *   reversed hold is not open); reversal of a declined original: 00, no effect.
 */
import { luhnDigit } from './messages.js';
import type { SeededRng } from './seeded-rng.js';
import type { Msg } from './wire.js';

export const CURRENCY = 'EUR';

export type TxnKind = 'hold' | 'purchase' | 'cash' | 'refund' | 'completion' | 'reversal';

export interface AccountSpec {
  readonly pan: string;
  readonly opening: number;
  readonly limits?: { readonly dailyCountMax?: number };
}

export interface PlannedTxn {
  readonly index: number;
  readonly kind: TxnKind;
  /** Request MTI class: 0100, 0200, 0220, 0400. */
  readonly mti: string;
  readonly pan: string;
  readonly stan: number;
  readonly time: number;
  readonly amount: number;
  /** 0100/0200 only. */
  readonly proc?: '00' | '01' | '20';
  readonly partial?: boolean;
  /** Completions and reversals: index of the original in the workload. */
  readonly orig?: number;
  /** The journal's transaction key: `${institution}|${stan}|${time}`. */
  readonly key: string;
}

export interface Workload {
  readonly accounts: readonly AccountSpec[];
  readonly txns: readonly PlannedTxn[];
}

const REPEAT: Record<string, string> = { '0100': '0101', '0200': '0201', '0220': '0221', '0400': '0401' };

/** A Luhn-valid 16-digit PAN starting with `prefix` (the route: "4" local), from the generator. */
function seededPan(rng: SeededRng, prefix: string): string {
  let body = prefix;
  while (body.length < 15) body += String(rng.int(0, 9));
  return body + luhnDigit(body);
}

function amountFor(rng: SeededRng): number {
  return rng.weighted<() => number>([
    [() => rng.int(1, 99), 1],
    [() => rng.int(100, 2_500), 6],
    [() => rng.int(2_500, 12_000), 2],
    [() => rng.int(20_000, 90_000), 1],
  ])();
}

/**
 * `count` transactions over 20 accounts: 12 rich ones, 6 with small balances (declines 51 and, with
 * `partial`, approvals 10), one empty one that only refunds feed, and one rich one with a daily
 * count limit (declines 65).
 */
export interface WorkloadOptions {
  /** The PANs' first digits: their route ("4", the default, is on-us). */
  readonly panPrefix?: string;
  /** The index of the first transaction, so two workloads can share one index space (and keys). */
  readonly firstIndex?: number;
}

export function buildWorkload(
  rng: SeededRng,
  institution: string,
  count: number,
  baseTimeMs: number,
  o: WorkloadOptions = {},
): Workload {
  const first = o.firstIndex ?? 0;
  const pans = new Set<string>();
  while (pans.size < 20) pans.add(seededPan(rng, o.panPrefix ?? '4'));
  const panList = [...pans];
  const accounts: AccountSpec[] = panList.map((pan, i) => {
    if (i < 12) return { pan, opening: rng.int(200_000, 2_000_000) };
    if (i < 18) return { pan, opening: rng.int(1_000, 15_000) };
    if (i === 18) return { pan, opening: 0 };
    return { pan, opening: 5_000_000, limits: { dailyCountMax: 7 } };
  });
  const accountWeights = accounts.map((a, i) => [a.pan, i === 19 ? 3 : i >= 12 ? 2 : 1] as const);

  const txns: PlannedTxn[] = [];
  const planned = (index: number): PlannedTxn => txns[index - first]!;
  /** Originals still free for a completion (holds) / a reversal (any original). */
  const completable: number[] = [];
  const reversible: number[] = [];
  /** Take a random one of the last `window` candidates (keeps references near, so races happen). */
  const takeRecent = (list: number[], window: number): number | undefined => {
    if (list.length === 0) return undefined;
    const from = Math.max(0, list.length - window);
    const at = rng.int(from, list.length - 1);
    return list.splice(at, 1)[0];
  };

  for (let index = first; index < first + count; index++) {
    const stan = (index % 999_999) + 1;
    const time = baseTimeMs + index * 3;
    const key = `${institution}|${stan}|${time}`;
    let kind = rng.weighted<TxnKind>([
      ['hold', 30],
      ['purchase', 24],
      ['cash', 5],
      ['refund', 9],
      ['completion', 15],
      ['reversal', 17],
    ]);
    if (kind === 'completion') {
      const orig = takeRecent(completable, 400);
      if (orig !== undefined) {
        const o = planned(orig);
        const amount = rng.weighted<() => number>([
          [() => o.amount, 6],
          [() => Math.max(1, rng.int(1, o.amount)), 3],
          [() => o.amount + rng.int(1, 500), 1], // above the approved amount: 13
        ])();
        txns.push({ index, kind, mti: '0220', pan: o.pan, stan, time, amount, orig, key });
        continue;
      }
      kind = 'hold';
    }
    if (kind === 'reversal') {
      const orig = takeRecent(reversible, 400);
      if (orig !== undefined) {
        const o = planned(orig);
        const amount = rng.chance(0.92) ? o.amount : o.amount + rng.int(1, 300); // else 13
        txns.push({ index, kind, mti: '0400', pan: o.pan, stan, time, amount, orig, key });
        continue;
      }
      kind = 'purchase';
    }
    const pan = rng.weighted(accountWeights);
    const amount = amountFor(rng);
    const proc = kind === 'refund' ? '20' : kind === 'cash' ? '01' : '00';
    const mti = kind === 'hold' ? '0100' : '0200';
    const partial = kind !== 'refund' && rng.chance(0.15) ? true : undefined;
    txns.push({ index, kind, mti, pan, stan, time, amount, proc, partial, key });
    if (kind === 'hold') completable.push(index);
    reversible.push(index);
  }
  return { accounts, txns };
}

/**
 * The request for `t`, as its MTI or as a repeat (0101, 0201, 0221, 0401): same key, same content.
 * `txns` is indexed by transaction index (every workload sharing the index space).
 */
export function requestOf(t: PlannedTxn, txns: readonly PlannedTxn[], id: number, repeat: boolean): Msg {
  const m: Msg = {
    mti: repeat ? REPEAT[t.mti]! : t.mti,
    id,
    stan: t.stan,
    time: t.time,
    pan: t.pan,
    amount: t.amount,
    currency: CURRENCY,
  };
  if (t.proc !== undefined) m['proc'] = t.proc;
  if (t.partial) m['partial'] = true;
  if (t.orig !== undefined) {
    const o = txns[t.orig]!;
    m['orig'] = { stan: o.stan, time: o.time };
  }
  return m;
}

export const isApproval = (rc: unknown): boolean => rc === '00' || rc === '10';

export interface ExpectedEffect {
  readonly pan: string;
  readonly kind: 'open' | 'hold' | 'release' | 'debit' | 'credit' | 'complete';
  readonly amount: number;
  readonly key: string;
  readonly origKey: string | undefined;
  /** Workload index whose response carries the rrn of this effect (undefined for 'open'). */
  readonly index: number | undefined;
}

export interface ModelResult {
  readonly balances: Map<string, { balance: number; held: number }>;
  readonly effects: ExpectedEffect[];
  /** Approvals that change nothing by the contract (reversal of a declined original). */
  readonly noEffectApprovals: Set<number>;
  /** Per account: approved holds/purchases/cash not reversed (what daily count limits count). */
  readonly counted: Map<string, number>;
  /** Outcomes that contradict the contract whatever the processing order was. */
  readonly contradictions: string[];
}

/**
 * Expected ledger from the final response per key (`finals`: workload index -> response). Only
 * transactions with a final response take part; an unsent transaction did nothing.
 */
export function model(workload: Workload, finals: ReadonlyMap<number, Msg>): ModelResult {
  const { accounts, txns } = workload;
  const byIndex = new Map(txns.map((t) => [t.index, t]));
  const txn = (i: number): PlannedTxn => byIndex.get(i)!;
  const balances = new Map(accounts.map((a) => [a.pan, { balance: a.opening, held: 0 }]));
  const counted = new Map(accounts.map((a) => [a.pan, 0]));
  const effects: ExpectedEffect[] = accounts.map((a) => ({
    pan: a.pan,
    kind: 'open',
    amount: a.opening,
    key: '#open',
    origKey: undefined,
    index: undefined,
  }));
  const noEffectApprovals = new Set<number>();
  const contradictions: string[] = [];

  const completionOf = new Map<number, number>();
  const reversalOf = new Map<number, number>();
  for (const t of txns) {
    if (t.kind === 'completion') completionOf.set(t.orig!, t.index);
    if (t.kind === 'reversal') reversalOf.set(t.orig!, t.index);
  }
  const approved = (i: number | undefined): boolean => i !== undefined && isApproval(finals.get(i)?.['rc']);
  const approvedAmount = (i: number): number => {
    const amount = finals.get(i)?.['amount'];
    if (typeof amount !== 'number') {
      contradictions.push(`#${i} approved without a numeric amount: ${JSON.stringify(finals.get(i))}`);
      return txn(i).amount;
    }
    return amount;
  };

  for (const t of txns) {
    if (t.kind === 'completion' || t.kind === 'reversal') {
      // Approvals that cannot stand next to their original's outcome.
      const f = finals.get(t.index);
      if (!f || !isApproval(f['rc'])) continue;
      const o = finals.get(t.orig!);
      if (t.kind === 'completion') {
        if (!o || !isApproval(o['rc'])) {
          contradictions.push(`completion #${t.index} approved but original #${t.orig} is ${o?.['rc']}`);
        } else if (t.amount > approvedAmount(t.orig!)) {
          contradictions.push(
            `completion #${t.index} of ${t.amount} approved above hold #${t.orig}'s amount`,
          );
        }
      } else if (!o) {
        contradictions.push(`reversal #${t.index} approved but original #${t.orig} was never answered`);
      } else if (isApproval(o['rc']) && t.amount !== approvedAmount(t.orig!)) {
        contradictions.push(
          `reversal #${t.index} of ${t.amount} approved, original #${t.orig} was ${o['amount']}`,
        );
      } else if (!isApproval(o['rc'])) {
        noEffectApprovals.add(t.index);
      }
      continue;
    }
    if (!approved(t.index)) continue;
    const a = approvedAmount(t.index);
    const acct = balances.get(t.pan)!;
    const rev = reversalOf.get(t.index);
    const reversed = approved(rev);
    const origKey = t.key;
    if (t.kind !== 'refund' && !reversed) counted.set(t.pan, counted.get(t.pan)! + 1);
    const push = (
      kind: ExpectedEffect['kind'],
      amount: number,
      key: string,
      ok: string | undefined,
      i: number,
    ) => effects.push({ pan: t.pan, kind, amount, key, origKey: ok, index: i });
    const revKey = rev === undefined ? '' : txn(rev).key;

    if (t.kind === 'hold') {
      push('hold', a, t.key, undefined, t.index);
      const comp = completionOf.get(t.index);
      const completed = approved(comp);
      const posted = completed ? txn(comp!).amount : 0;
      if (completed) {
        push('complete', posted, txn(comp!).key, origKey, comp!);
        push('release', a, txn(comp!).key, origKey, comp!);
      }
      if (reversed) {
        // After a completion the reversal credits the posting back; else it releases the hold.
        if (completed) push('credit', posted, revKey, origKey, rev!);
        else push('release', a, revKey, origKey, rev!);
      } else if (completed) {
        acct.balance -= posted;
      } else {
        acct.held += a;
      }
    } else if (t.kind === 'refund') {
      push('credit', a, t.key, undefined, t.index);
      if (reversed) push('debit', a, revKey, origKey, rev!);
      else acct.balance += a;
    } else {
      push('debit', a, t.key, undefined, t.index);
      if (reversed) push('credit', a, revKey, origKey, rev!);
      else acct.balance -= a;
    }
  }
  return { balances, effects, noEffectApprovals, counted, contradictions };
}
