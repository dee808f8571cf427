/**
 * Reference model of the on-us ledger, written from docs/protocol.md sections 3 and 5
 * alone (not from src/runtime or src/rules). Deliberately naive: each account keeps the list
 * of the requests it recorded, and every figure (balance, held, available, the
 * daily counters, whether an original is completed or reversed) is recomputed
 * from that list on demand. Slow and obviously correct is the point.
 *
 * Readings of the contract this model takes (where docs/protocol.md is silent):
 * - A 0220/0400 naming a key that holds a 0220/0400 (not a 0100/0200) is answered
 *   12 or 25 (either is accepted), with no effect and no tombstone.
 * - A 0220/0400 naming a balance inquiry (0100 proc 31) gets 12: an inquiry is
 *   neither an open authorization nor something to reverse. Exception, by the
 *   check order (already reversed before 12): an inquiry that arrived on a key an
 *   earlier reversal named (05) gets 25 again, like any such original.
 * - A hold is "expired" once the hold-expiry job released it (expireHolds), not
 *   merely because its time is up.
 * - The reversal of a declined original counts as "the first reversal": later
 *   reversals of it get 00 again with no effect.
 */

export type ModelClass = '0100' | '0200' | '0220' | '0400';
export type ModelProc = '00' | '01' | '20' | '31';

export interface ModelLimits {
  perTxnMax?: number | undefined;
  dailyMax?: number | undefined;
  dailyCountMax?: number | undefined;
}

export interface ModelRequest {
  readonly institution: string;
  readonly pan: string;
  readonly cls: ModelClass;
  readonly stan: number;
  readonly time: number;
  readonly amount: number;
  readonly currency: string;
  /** Ignored on 0220/0400. */
  readonly proc: ModelProc;
  readonly partial: boolean;
  /** The original's stan/time on 0220/0400. */
  readonly origStan: number;
  readonly origTime: number;
}

/** What the contract says the answer must be. */
export interface Expectation {
  /** Acceptable response codes (more than one only where the contract is silent). */
  readonly rcs: readonly string[];
  /** On approvals: the approved amount. */
  readonly amount: number | undefined;
  /** On approvals: available after the transaction. */
  readonly balance: number | undefined;
  /** The request is a duplicate of a recorded one with the same content. */
  readonly replay: boolean;
  /** Same key, other content (94). */
  readonly mismatch: boolean;
}

const DAY_MS = 86_400_000;

function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

type Role = 'hold' | 'debit' | 'refund' | 'inquiry' | 'completion' | 'reversal';

interface Entry {
  readonly key: string;
  readonly req: ModelRequest;
  readonly role: Role;
  readonly rcs: readonly string[];
  /** 00 or 10. */
  readonly ok: boolean;
  /** The approved amount (approvals only, else 0). */
  readonly approved: number;
  readonly atMs: number;
  /** The key of the original a 0220/0400 names. */
  readonly origKey: string | undefined;
  /** A reversal that reversed its original (with or without a balance effect). */
  readonly reverses: boolean;
  /** This key had been named by a reversal before it arrived (answered 05). */
  readonly tombstoned: boolean;
  readonly amountField: number | undefined;
  readonly balanceField: number | undefined;
}

interface Account {
  readonly pan: string;
  readonly currency: string;
  readonly opening: number;
  blocked: boolean;
  limits: ModelLimits;
  readonly log: Entry[];
  /** Keys named by a reversal while unknown. */
  readonly tombstones: Set<string>;
  /** Keys of holds the expiry job released. */
  readonly expired: Set<string>;
}

function keyOf(institution: string, stan: number, time: number): string {
  return `${institution}|${stan}|${time}`;
}

function roleOf(req: ModelRequest): Role {
  if (req.cls === '0220') return 'completion';
  if (req.cls === '0400') return 'reversal';
  if (req.cls === '0100') return req.proc === '31' ? 'inquiry' : 'hold';
  return req.proc === '20' ? 'refund' : 'debit';
}

function sameContent(a: ModelRequest, b: ModelRequest): boolean {
  if (a.cls !== b.cls || a.amount !== b.amount || a.currency !== b.currency) return false;
  // 0220/0400 take their proc from the original: theirs is not content.
  return a.cls === '0220' || a.cls === '0400' || a.proc === b.proc;
}

export class LedgerModel {
  private readonly accounts = new Map<string, Account>();

  constructor(readonly holdTtlMs: number) {}

  open(pan: string, currency: string, opening: number, limits: ModelLimits, blocked: boolean): void {
    this.accounts.set(pan, {
      pan,
      currency,
      opening,
      blocked,
      limits: { ...limits },
      log: [],
      tombstones: new Set(),
      expired: new Set(),
    });
  }

  setBlocked(pan: string, blocked: boolean): void {
    this.account(pan).blocked = blocked;
  }

  setLimits(pan: string, limits: ModelLimits): void {
    this.account(pan).limits = { ...limits };
  }

  private account(pan: string): Account {
    const a = this.accounts.get(pan);
    if (a === undefined) throw new Error(`model: no account ${pan}`);
    return a;
  }

  // --- figures, recomputed from the log every time ------------------------

  private find(a: Account, key: string): Entry | undefined {
    return a.log.find((e) => e.key === key);
  }

  private completionOf(a: Account, original: Entry): Entry | undefined {
    return a.log.find((e) => e.role === 'completion' && e.ok && e.origKey === original.key);
  }

  private reversalOf(a: Account, original: Entry): Entry | undefined {
    return a.log.find((e) => e.role === 'reversal' && e.reverses && e.origKey === original.key);
  }

  /** rc of the first reversal of an original, or undefined while it is not reversed. */
  private reversedRc(a: Account, original: Entry): string | undefined {
    if (original.tombstoned) return '25';
    return this.reversalOf(a, original) !== undefined ? '00' : undefined;
  }

  balance(pan: string): number {
    const a = this.account(pan);
    let balance = a.opening;
    for (const e of a.log) {
      if (!e.ok) continue;
      if (e.role === 'debit' || e.role === 'completion') balance -= e.approved;
      else if (e.role === 'refund') balance += e.approved;
      else if (e.role === 'reversal' && e.reverses) {
        const original = this.find(a, e.origKey ?? '');
        if (original === undefined || !original.ok) continue;
        if (original.role === 'debit') balance += original.approved;
        else if (original.role === 'refund') balance -= original.approved;
        else if (original.role === 'hold') balance += this.completionOf(a, original)?.approved ?? 0;
      }
    }
    return balance;
  }

  held(pan: string): number {
    const a = this.account(pan);
    let held = 0;
    for (const e of a.log) {
      if (e.role !== 'hold' || !e.ok) continue;
      if (a.expired.has(e.key)) continue;
      if (this.completionOf(a, e) !== undefined || this.reversalOf(a, e) !== undefined) continue;
      held += e.approved;
    }
    return held;
  }

  available(pan: string): number {
    return this.balance(pan) - this.held(pan);
  }

  /** Approved purchases, cash and holds of that UTC day, less those reversed that same day. */
  dayTotals(pan: string, day: number): { amount: number; count: number } {
    const a = this.account(pan);
    let amount = 0;
    let count = 0;
    for (const e of a.log) {
      if ((e.role !== 'hold' && e.role !== 'debit') || !e.ok || dayOf(e.atMs) !== day) continue;
      const reversal = this.reversalOf(a, e);
      if (reversal !== undefined && dayOf(reversal.atMs) === day) continue;
      amount += e.approved;
      count += 1;
    }
    return { amount, count };
  }

  /** The hold-expiry job: releases approved holds past their time that are still open. Returns their keys. */
  expireHolds(pan: string, nowMs: number): string[] {
    const a = this.account(pan);
    const released: string[] = [];
    for (const e of a.log) {
      if (e.role !== 'hold' || !e.ok || a.expired.has(e.key)) continue;
      if (this.completionOf(a, e) !== undefined || this.reversalOf(a, e) !== undefined) continue;
      if (e.atMs + this.holdTtlMs > nowMs) continue;
      a.expired.add(e.key);
      released.push(e.key);
    }
    return released;
  }

  // --- the decision ----------------------------------------------------------

  process(req: ModelRequest, nowMs: number): Expectation {
    const a = this.account(req.pan);
    const key = keyOf(req.institution, req.stan, req.time);

    // Duplicate handling: same key recorded before.
    const recorded = this.find(a, key);
    if (recorded !== undefined) {
      if (sameContent(recorded.req, req)) {
        return {
          rcs: recorded.rcs,
          amount: recorded.amountField,
          balance: recorded.balanceField,
          replay: true,
          mismatch: false,
        };
      }
      return { rcs: ['94'], amount: undefined, balance: undefined, replay: false, mismatch: true };
    }

    const role = roleOf(req);
    const origKey =
      role === 'completion' || role === 'reversal'
        ? keyOf(req.institution, req.origStan, req.origTime)
        : undefined;
    const tombstoned = a.tombstones.has(key);
    const verdict = tombstoned
      ? { rcs: ['05'], approved: 0, reverses: false }
      : this.judge(a, req, role, origKey, nowMs);
    const ok = verdict.rcs.length === 1 && (verdict.rcs[0] === '00' || verdict.rcs[0] === '10');
    const entry: Entry = {
      key,
      req,
      role,
      rcs: verdict.rcs,
      ok,
      approved: verdict.approved,
      atMs: nowMs,
      origKey,
      reverses: verdict.reverses,
      tombstoned,
      amountField: undefined,
      balanceField: undefined,
    };
    a.log.push(entry);
    // Fields of an approval: the approved amount (a reversal echoes its own) and available after it.
    const amountField = ok ? (role === 'reversal' ? req.amount : verdict.approved) : undefined;
    const balanceField = ok ? this.available(req.pan) : undefined;
    a.log[a.log.length - 1] = { ...entry, amountField, balanceField };
    return { rcs: verdict.rcs, amount: amountField, balance: balanceField, replay: false, mismatch: false };
  }

  private judge(
    a: Account,
    req: ModelRequest,
    role: Role,
    origKey: string | undefined,
    nowMs: number,
  ): { rcs: string[]; approved: number; reverses: boolean } {
    const decline = (rc: string) => ({ rcs: [rc], approved: 0, reverses: false });
    const wrongCurrency = req.currency !== a.currency;

    if (role === 'completion') {
      const original = this.find(a, origKey ?? '');
      if (original === undefined) return decline('25');
      if (original.req.cls === '0220' || original.req.cls === '0400')
        return { rcs: ['12', '25'], approved: 0, reverses: false };
      if (original.role !== 'hold') return decline('12'); // a 0200, or an inquiry
      if (!original.ok) return decline('12'); // declined (05 included)
      if (this.completionOf(a, original) !== undefined) return decline('12');
      if (this.reversedRc(a, original) !== undefined) return decline('12');
      if (a.expired.has(original.key)) return decline('12');
      if (wrongCurrency) return decline('12');
      if (req.amount === 0 || req.amount > original.approved) return decline('13');
      return { rcs: ['00'], approved: req.amount, reverses: false };
    }

    if (role === 'reversal') {
      const original = this.find(a, origKey ?? '');
      if (original === undefined) {
        if (origKey !== undefined) a.tombstones.add(origKey);
        return decline('25');
      }
      if (original.req.cls === '0220' || original.req.cls === '0400')
        return { rcs: ['12', '25'], approved: 0, reverses: false };
      // Already reversed comes before 12 in the check order (an inquiry answered 05 included).
      const first = this.reversedRc(a, original);
      if (first !== undefined) return { rcs: [first], approved: 0, reverses: false };
      if (original.role === 'inquiry') return decline('12');
      if (a.expired.has(original.key)) return decline('12');
      // Reversal of a declined original: 00, no effect, but it is reversed now.
      if (!original.ok) return { rcs: ['00'], approved: 0, reverses: true };
      if (wrongCurrency) return decline('12');
      if (req.amount !== original.approved) return decline('13');
      if (original.role === 'refund' && this.available(a.pan) < original.approved) return decline('51');
      return { rcs: ['00'], approved: req.amount, reverses: true };
    }

    if (role === 'inquiry') {
      if (a.blocked) return decline('57');
      if (wrongCurrency) return decline('12');
      if (req.amount !== 0) return decline('13');
      return { rcs: ['00'], approved: 0, reverses: false };
    }

    if (role === 'refund') {
      if (wrongCurrency) return decline('12');
      if (req.amount === 0) return decline('13');
      return { rcs: ['00'], approved: req.amount, reverses: false };
    }

    // New hold (0100) or debit (0200), proc 00/01.
    if (a.blocked) return decline('57');
    if (wrongCurrency) return decline('12');
    if (req.amount === 0) return decline('13');
    const today = this.dayTotals(a.pan, dayOf(nowMs));
    const { perTxnMax, dailyMax, dailyCountMax } = a.limits;
    if (perTxnMax !== undefined && req.amount > perTxnMax) return decline('61');
    if (dailyMax !== undefined && today.amount + req.amount > dailyMax) return decline('61');
    if (dailyCountMax !== undefined && today.count + 1 > dailyCountMax) return decline('65');
    const available = this.available(a.pan);
    if (available >= req.amount) return { rcs: ['00'], approved: req.amount, reverses: false };
    if (req.partial && available > 0) return { rcs: ['10'], approved: available, reverses: false };
    return decline('51');
  }
}
