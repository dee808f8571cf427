import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TxnClass } from '../../src/protocol/mti.js';
import type { Proc, TxnRequest } from '../../src/protocol/request.js';
import { type DecideContext, decide } from '../../src/rules/onus/decide.js';
import { type AccountState, available, utcDay } from '../../src/runtime/account.js';
import { RecordIndex } from '../../src/runtime/records/record-index.js';
import type { ResponseFields as StoredResponse } from '../../src/runtime/records/stored-response.js';
import { keyOf as recordKeyOf } from '../../src/runtime/records/txn-record.js';
import { stringCodeSource } from '../../src/util/code-source.js';
import { identityOf } from '../helpers/test-keys.js';
import { type Expectation, LedgerModel, type ModelLimits } from '../model/ledger-model.js';

/**
 * Property tests of decide() against the reference model (test/model/ledger-model.ts)
 * and the invariants of DESIGN.md section 3: random sequences of 0100/0200/0220/0400,
 * repeats, duplicates, content-changed duplicates, status and limit changes, hold
 * expiry and clock moves across UTC midnight, on 1-3 accounts from 1-2 institutions.
 *
 * Seeded: SWITCHYARD_SEED=<int> replays a run (the seed is printed on failure);
 * SWITCHYARD_RUNS=<int> changes the number of runs.
 */

const SEED = intFromEnv('SWITCHYARD_SEED', 20_260_310);
const RUNS = intFromEnv('SWITCHYARD_RUNS', 500);

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

const DAY_MS = 86_400_000;
const HOLD_TTL_MS = 2 * DAY_MS;
/** 2026-03-10 21:00 UTC: three hours before a day boundary. */
const CLOCK_START = Date.UTC(2026, 2, 10, 21, 0, 0);
const INSTITUTIONS = ['ACQ1', 'ACQ2'] as const;
const PANS = ['4000000000000002', '4000000000000010', '4000000000000028'] as const;
const KEY_TIMES = [CLOCK_START - 4000, CLOCK_START - 3000, CLOCK_START - 2000, CLOCK_START - 1000] as const;

// --- scenario ----------------------------------------------------------------

interface AccountSpec {
  currency: 'EUR' | 'USD';
  opening: number;
  limits: ModelLimits;
  blocked: boolean;
}

/** What a 0220/0400 names: an earlier request of a kind (resolved at run time), or a raw (stan, time). */
type OrigRef = { by: RefKind; ref: number } | { by: 'pair'; stan: number; timeIdx: number };
/** approved*: the first response to it was 00/10. */
type RefKind = 'approvedHold' | 'approvedOriginal' | 'hold' | 'original' | 'any';

type Edge =
  | 'none'
  | 'available'
  | 'availablePlus1'
  | 'perTxnMax'
  | 'perTxnMaxPlus1'
  | 'dailyLeft'
  | 'dailyLeftPlus1';

type Op =
  | {
      t: 'txn';
      acct: number;
      inst: number;
      cls: '0100' | '0200';
      proc: Proc;
      amount: number;
      inquiryAmount: boolean;
      /** Aim the amount at a boundary of the account (available, a limit) instead. */
      edge: Edge;
      otherCurrency: boolean;
      partial: boolean;
      repeat: boolean;
      stan: number;
      timeIdx: number;
    }
  | {
      t: 'complete' | 'reverse';
      acct: number;
      inst: number;
      orig: OrigRef;
      amountMode: 'approved' | 'less' | 'more' | 'zero' | 'requested' | 'random';
      amount: number;
      otherCurrency: boolean;
      repeat: boolean;
      stan: number;
      timeIdx: number;
    }
  | { t: 'resend'; ref: number; repeat: boolean }
  | { t: 'mutate'; ref: number; field: 'amount' | 'currency' | 'proc' | 'class' }
  | { t: 'clock'; step: 'minute' | 'hour' | 'sixHours' | 'toMidnight' | 'justBeforeMidnight' | 'ttl' }
  | { t: 'status'; acct: number; blocked: boolean }
  | { t: 'limits'; acct: number; limits: ModelLimits }
  | { t: 'expire' };

interface Scenario {
  institutions: number;
  accounts: AccountSpec[];
  ops: Op[];
}

const rareTrue = fc.oneof(
  { weight: 9, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);

const amountArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 1500 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1501, max: 6000 }) },
);

/** A limit or (more often) none. */
function limitArb(min: number, max: number): fc.Arbitrary<number | undefined> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  );
}

const limitsArb: fc.Arbitrary<ModelLimits> = fc.record({
  perTxnMax: limitArb(0, 3000),
  dailyMax: limitArb(0, 8000),
  dailyCountMax: limitArb(0, 8),
});

const accountArb: fc.Arbitrary<AccountSpec> = fc.record({
  currency: fc.constantFrom<'EUR' | 'USD'>('EUR', 'EUR', 'USD'),
  opening: fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 8000 }) },
  ),
  limits: limitsArb,
  blocked: rareTrue,
});

function opArb(stanMax: number, timeCount: number): fc.Arbitrary<Op> {
  const stan = fc.integer({ min: 1, max: stanMax });
  const timeIdx = fc.integer({ min: 0, max: timeCount - 1 });
  const acct = fc.nat(2);
  const inst = fc.nat(1);
  const orig: fc.Arbitrary<OrigRef> = fc.oneof(
    {
      weight: 7,
      arbitrary: fc.record({
        by: fc.constantFrom<RefKind>('approvedHold', 'approvedOriginal', 'hold', 'original', 'any'),
        ref: fc.nat(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ by: fc.constant('pair' as const), stan, timeIdx }) },
  );
  const clsProc = fc.constantFrom<['0100' | '0200', Proc]>(
    ['0100', '00'],
    ['0100', '01'],
    ['0100', '31'],
    ['0200', '00'],
    ['0200', '01'],
    ['0200', '20'],
  );
  const txn = fc
    .record({
      acct,
      inst,
      clsProc,
      amount: amountArb,
      inquiryAmount: rareTrue,
      edge: fc.oneof(
        { weight: 6, arbitrary: fc.constant<Edge>('none') },
        {
          weight: 3,
          arbitrary: fc.constantFrom<Edge>(
            'available',
            'availablePlus1',
            'perTxnMax',
            'perTxnMaxPlus1',
            'dailyLeft',
            'dailyLeftPlus1',
          ),
        },
      ),
      otherCurrency: rareTrue,
      partial: fc.boolean(),
      repeat: fc.boolean(),
      stan,
      timeIdx,
    })
    .map(({ clsProc: [cls, proc], ...rest }): Op => ({ t: 'txn', cls, proc, ...rest }));
  const follow = (t: 'complete' | 'reverse') =>
    fc.record({
      t: fc.constant(t),
      acct,
      inst,
      orig,
      amountMode:
        t === 'complete'
          ? fc.constantFrom('approved', 'less', 'less', 'more', 'zero', 'random')
          : fc.constantFrom('approved', 'approved', 'approved', 'requested', 'random'),
      amount: amountArb,
      otherCurrency: rareTrue,
      repeat: fc.boolean(),
      stan,
      timeIdx,
    }) as fc.Arbitrary<Op>;
  return fc.oneof(
    { weight: 10, arbitrary: txn },
    { weight: 4, arbitrary: follow('complete') },
    { weight: 5, arbitrary: follow('reverse') },
    {
      weight: 3,
      arbitrary: fc.record({ t: fc.constant('resend' as const), ref: fc.nat(), repeat: fc.boolean() }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('mutate' as const),
        ref: fc.nat(),
        field: fc.constantFrom('amount', 'currency', 'proc', 'class'),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('clock' as const),
        step: fc.constantFrom('minute', 'hour', 'sixHours', 'toMidnight', 'justBeforeMidnight', 'ttl'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('status' as const),
        acct,
        blocked: fc.constantFrom(true, false, false),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('limits' as const), acct, limits: limitsArb }) },
    { weight: 1, arbitrary: fc.constant({ t: 'expire' as const }) },
  );
}

function scenarioArb(stanMax: number, timeCount: number): fc.Arbitrary<Scenario> {
  return fc.record({
    institutions: fc.integer({ min: 1, max: 2 }),
    accounts: fc.array(accountArb, { minLength: 1, maxLength: 3 }),
    ops: fc.array(opArb(stanMax, timeCount), { minLength: 1, maxLength: 60, size: 'max' }),
  });
}

// --- the run -----------------------------------------------------------------

interface Sent {
  readonly institution: string;
  readonly req: TxnRequest;
}

interface Book {
  readonly pan: string;
  readonly state: AccountState;
  readonly records: RecordIndex;
  readonly opening: number;
  /** Running sums of the effects decide() returned (and the expiry job's releases). */
  credits: number;
  debits: number;
  holds: number;
  releases: number;
}

class Run {
  readonly model = new LedgerModel(HOLD_TTL_MS);
  readonly books: Book[] = [];
  readonly sent: Sent[] = [];
  /** First (recorded) response per `${pan}#${key}`: what replays must equal. */
  readonly firstResponse = new Map<string, StoredResponse>();
  /** Keys whose decision carried effects (I3: at most one per key). */
  readonly effectKeys = new Set<string>();
  readonly trace: string[] = [];
  nowMs = CLOCK_START;
  private rrnSeq = 0;
  private authSeq = 0;
  private nextId = 1;

  constructor(readonly scenario: Scenario) {
    scenario.accounts.forEach((spec, i) => {
      const pan = PANS[i]!;
      this.books.push({
        pan,
        state: {
          ...identityOf(pan),
          currency: spec.currency,
          balance: spec.opening,
          held: 0,
          status: spec.blocked ? 'blocked' : 'active',
          limits: { ...spec.limits },
          day: utcDay(CLOCK_START),
          dayAmount: 0,
          dayCount: 0,
        },
        records: new RecordIndex(),
        opening: spec.opening,
        credits: 0,
        debits: 0,
        holds: 0,
        releases: 0,
      });
      this.model.open(pan, spec.currency, spec.opening, spec.limits, spec.blocked);
    });
  }

  fail(message: string): never {
    throw new Error(`${message}\n--- trace (seed ${SEED}) ---\n${this.trace.join('\n')}`);
  }

  check(ok: boolean, message: string): void {
    if (!ok) this.fail(message);
  }

  book(i: number): Book {
    return this.books[i % this.books.length]!;
  }

  institution(i: number): string {
    return INSTITUTIONS[i % this.scenario.institutions]!;
  }

  request(r: Omit<TxnRequest, 'id' | 'merchant' | 'terminal' | 'mcc'>): TxnRequest {
    return { ...r, id: this.nextId++, merchant: undefined, terminal: undefined, mcc: undefined };
  }

  /** The approved amount of an earlier request (its first response), else what it asked for. */
  approvedOf(sent: Sent): number {
    const first = this.firstResponse.get(`${sent.req.pan}#${keyOf(sent.institution, sent.req)}`);
    return first?.amount ?? sent.req.amount;
  }

  /** An amount on a boundary of the account now (generation only: figures from the model). */
  edgeAmount(book: Book, edge: Edge, fallback: number): number {
    const pan = book.pan;
    const { perTxnMax, dailyMax } = book.state.limits;
    const dailyLeft =
      dailyMax === undefined ? undefined : dailyMax - this.model.dayTotals(pan, utcDay(this.nowMs)).amount;
    const pick = (n: number | undefined, plus: number) =>
      n === undefined ? fallback : Math.max(0, n + plus);
    switch (edge) {
      case 'none':
        return fallback;
      case 'available':
        return pick(this.model.available(pan), 0);
      case 'availablePlus1':
        return pick(this.model.available(pan), 1);
      case 'perTxnMax':
        return pick(perTxnMax, 0);
      case 'perTxnMaxPlus1':
        return pick(perTxnMax, 1);
      case 'dailyLeft':
        return pick(dailyLeft, 0);
      case 'dailyLeftPlus1':
        return pick(dailyLeft, 1);
    }
  }

  kindFilter(by: RefKind): (sent: Sent) => boolean {
    const isHold = ({ req }: Sent) => req.txnClass === '0100' && req.proc !== '31';
    const isOriginal = ({ req }: Sent) => req.txnClass === '0100' || req.txnClass === '0200';
    const approved = ({ institution, req }: Sent) => {
      const rc = this.firstResponse.get(`${req.pan}#${keyOf(institution, req)}`)?.rc;
      return rc === '00' || rc === '10';
    };
    switch (by) {
      case 'approvedHold':
        return (s) => isHold(s) && approved(s);
      case 'approvedOriginal':
        return (s) => isOriginal(s) && approved(s);
      case 'hold':
        return isHold;
      case 'original':
        return isOriginal;
      case 'any':
        return () => true;
    }
  }

  step(op: Op): void {
    switch (op.t) {
      case 'txn': {
        const book = this.book(op.acct);
        const amount = op.proc === '31' && !op.inquiryAmount ? 0 : this.edgeAmount(book, op.edge, op.amount);
        const currency = op.otherCurrency ? otherCurrency(book.state.currency) : book.state.currency;
        const req = this.request({
          txnClass: op.cls,
          repeat: op.repeat,
          stan: op.stan,
          time: KEY_TIMES[op.timeIdx]!,
          pan: book.pan,
          amount,
          currency,
          proc: op.proc,
          partial: op.partial,
          origStan: 0,
          origTime: 0,
        });
        this.send(this.institution(op.inst), req);
        return;
      }
      case 'complete':
      case 'reverse': {
        let book = this.book(op.acct);
        let institution = this.institution(op.inst);
        let origStan: number;
        let origTime: number;
        let named: Sent | undefined;
        const candidates = op.orig.by === 'pair' ? [] : this.sent.filter(this.kindFilter(op.orig.by));
        if (op.orig.by !== 'pair' && candidates.length > 0) {
          named = candidates[op.orig.ref % candidates.length]!;
          // Name it as its acquirer would: same institution, same PAN.
          institution = named.institution;
          book = this.books.find((b) => b.pan === named!.req.pan)!;
          origStan = named.req.stan;
          origTime = named.req.time;
        } else if (op.orig.by === 'pair') {
          origStan = op.orig.stan;
          origTime = KEY_TIMES[op.orig.timeIdx]!;
        } else {
          origStan = 1 + (op.orig.ref % 6);
          origTime = KEY_TIMES[0];
        }
        const approved = named !== undefined ? this.approvedOf(named) : op.amount;
        const amount = amountFor(op.amountMode, approved, named?.req.amount ?? op.amount, op.amount);
        const req = this.request({
          txnClass: op.t === 'complete' ? '0220' : '0400',
          repeat: op.repeat,
          stan: op.stan,
          time: KEY_TIMES[op.timeIdx]!,
          pan: book.pan,
          amount,
          currency: op.otherCurrency ? otherCurrency(book.state.currency) : book.state.currency,
          proc: '00',
          partial: false,
          origStan,
          origTime,
        });
        this.send(institution, req);
        return;
      }
      case 'resend': {
        if (this.sent.length === 0) return;
        const { institution, req } = this.sent[op.ref % this.sent.length]!;
        this.send(institution, { ...req, id: this.nextId++, repeat: op.repeat });
        return;
      }
      case 'mutate': {
        if (this.sent.length === 0) return;
        const { institution, req } = this.sent[op.ref % this.sent.length]!;
        this.send(institution, { ...mutate(req, op.field), id: this.nextId++ });
        return;
      }
      case 'clock': {
        const before = utcDay(this.nowMs);
        this.nowMs = advance(this.nowMs, op.step);
        if (utcDay(this.nowMs) !== before) coverage.set('dayCrossed', (coverage.get('dayCrossed') ?? 0) + 1);
        this.trace.push(`clock ${op.step} -> ${new Date(this.nowMs).toISOString()}`);
        this.checkBooks();
        return;
      }
      case 'status': {
        const book = this.book(op.acct);
        book.state.status = op.blocked ? 'blocked' : 'active';
        this.model.setBlocked(book.pan, op.blocked);
        this.trace.push(`status ${book.pan} ${book.state.status}`);
        return;
      }
      case 'limits': {
        const book = this.book(op.acct);
        book.state.limits = { ...op.limits };
        this.model.setLimits(book.pan, op.limits);
        this.trace.push(`limits ${book.pan} ${JSON.stringify(op.limits)}`);
        return;
      }
      case 'expire':
        this.expire();
        return;
    }
  }

  /** The hold-expiry job (docs/protocol.md section 5), applied to decide()'s records and to the model. */
  expire(): void {
    for (const book of this.books) {
      const released: string[] = [];
      for (const record of book.records.values()) {
        if (record.tombstone || record.state !== 'open' || record.reversedRc !== undefined) continue;
        if (record.holdExpiresAtMs > this.nowMs) continue;
        book.state.held -= record.approvedAmount;
        book.releases += record.approvedAmount;
        record.state = 'expired';
        released.push(recordKeyOf(record));
      }
      const expected = this.model.expireHolds(book.pan, this.nowMs);
      if (released.length > 0) coverage.set('expired', (coverage.get('expired') ?? 0) + 1);
      this.trace.push(`expire ${book.pan}: ${released.join(',') || '-'}`);
      this.check(
        sameSet(released, expected),
        `hold expiry released ${released.join(',')} but the model ${expected.join(',')}`,
      );
    }
    this.checkBooks();
  }

  send(institution: string, req: TxnRequest): void {
    const book = this.books.find((b) => b.pan === req.pan)!;
    const key = keyOf(institution, req);
    const slot = `${req.pan}#${key}`;
    const expected = this.model.process(
      {
        institution,
        pan: req.pan,
        cls: req.txnClass,
        stan: req.stan,
        time: req.time,
        amount: req.amount,
        currency: req.currency,
        proc: req.proc,
        partial: req.partial,
        origStan: req.origStan,
        origTime: req.origTime,
      },
      this.nowMs,
    );
    const before = { balance: book.state.balance, held: book.state.held };
    const ctx: DecideContext = {
      nowMs: this.nowMs,
      holdTtlMs: HOLD_TTL_MS,
      institution,
      rrns: stringCodeSource(() => `R${String(++this.rrnSeq).padStart(11, '0')}`),
      authCodes: stringCodeSource(() => `A${String(++this.authSeq).padStart(5, '0')}`),
    };
    const d = decide(book.state, book.records, req, ctx);
    const r = d.response;
    const label = expected.replay ? 'replay' : `${req.txnClass}:${r.rc}${d.effects.length > 0 ? '+fx' : ''}`;
    coverage.set(label, (coverage.get(label) ?? 0) + 1);
    this.trace.push(
      `${describeReq(institution, req)} @${new Date(this.nowMs).toISOString()} -> ${JSON.stringify(r)}` +
        ` | model ${expected.rcs.join('/')}${expected.amount !== undefined ? ` amount ${expected.amount}` : ''}` +
        ` | account balance ${book.state.balance} held ${book.state.held}`,
    );

    this.check(expected.rcs.includes(r.rc), `rc ${r.rc}, the contract says ${expected.rcs.join(' or ')}`);
    this.check(typeof r.rrn === 'string' && r.rrn.length === 12, 'every response carries a 12-character rrn');

    const inquiry = req.txnClass === '0100' && req.proc === '31';
    if (expected.replay || expected.mismatch) {
      this.check(
        d.records.length === 0 && d.effects.length === 0 && !d.accountChanged,
        'a replay or 94 writes no record and has no effect',
      );
      this.check(
        book.state.balance === before.balance && book.state.held === before.held,
        'a replay or 94 changes nothing',
      );
      if (expected.replay) {
        const first = this.firstResponse.get(slot);
        this.check(first !== undefined, 'a replay of a key with no recorded response');
        this.check(
          sameResponse(r, first!),
          `replay ${JSON.stringify(r)} != original ${JSON.stringify(first)}`,
        );
      } else {
        this.check(
          r.amount === undefined && r.balance === undefined && r.authCode === undefined,
          '94 carries no amount, balance or authCode',
        );
      }
    } else {
      this.check(d.records.length > 0, 'every decision after duplicate handling is recorded');
      this.check(!this.firstResponse.has(slot), 'a key was recorded twice');
      this.firstResponse.set(slot, structuredClone(r));
      this.checkFields(req, r, expected, inquiry);
    }

    // I3: effects belong to this request's key, and a key has at most one effect-bearing decision.
    if (d.effects.length > 0) {
      this.check(
        d.effects.every((e) => e.key === key),
        'effects carry the request key',
      );
      this.check(!this.effectKeys.has(slot), `a second effect-bearing decision for key ${key}`);
      this.effectKeys.add(slot);
      this.check(r.rc === '00' || r.rc === '10', 'only approvals have effects');
    } else {
      this.check(
        book.state.balance === before.balance && book.state.held === before.held,
        'no effects, yet the account changed',
      );
    }
    for (const e of d.effects) {
      this.check(e.amount > 0 && Number.isInteger(e.amount), `effect amount ${e.amount}`);
      this.check(e.currency === book.state.currency, 'effects are in the account currency');
      if (e.kind === 'credit') book.credits += e.amount;
      else if (e.kind === 'debit' || e.kind === 'complete') book.debits += e.amount;
      else if (e.kind === 'hold') book.holds += e.amount;
      else if (e.kind === 'release' || e.kind === 'expire') book.releases += e.amount;
      else this.fail(`decide() returned a ${e.kind} effect`);
    }
    this.sent.push({ institution, req });
    this.checkBooks();
  }

  /** Response fields of a freshly decided request (docs/protocol.md section 3). */
  checkFields(req: TxnRequest, r: StoredResponse, expected: Expectation, inquiry: boolean): void {
    const approval = r.rc === '00' || r.rc === '10';
    if (!approval) {
      this.check(
        r.amount === undefined && r.balance === undefined && r.authCode === undefined,
        'a decline carries no amount, balance or authCode',
      );
      return;
    }
    // amount on inquiries is a reported contract point of the unit tests; not compared here.
    if (!inquiry) this.check(r.amount === expected.amount, `amount ${r.amount}, expected ${expected.amount}`);
    this.check(
      r.balance === expected.balance,
      `balance ${r.balance}, expected available ${expected.balance}`,
    );
    const original = req.txnClass === '0100' || req.txnClass === '0200';
    if (original && !inquiry)
      this.check(r.authCode?.length === 6, 'approvals of 0100/0200 carry an authCode');
    if (!original) this.check(r.authCode === undefined, 'no authCode on 0230/0410');
  }

  /** I2, I4 and the model's figures, on every account. */
  checkBooks(): void {
    for (const book of this.books) {
      const { state } = book;
      const pan = book.pan;
      this.check(
        state.balance === book.opening + book.credits - book.debits,
        `I2: balance ${state.balance} != opening ${book.opening} + credits ${book.credits} - debits ${book.debits}`,
      );
      this.check(
        state.held === book.holds - book.releases,
        `I2: held ${state.held} != holds ${book.holds} - releases ${book.releases}`,
      );
      let openHolds = 0;
      for (const record of book.records.values()) {
        if (!record.tombstone && record.state === 'open' && record.reversedRc === undefined)
          openHolds += record.approvedAmount;
      }
      this.check(state.held === openHolds, `I2: held ${state.held} != open holds ${openHolds}`);
      this.check(available(state) >= 0, `I4: available ${available(state)} < 0`);
      this.check(
        state.balance === this.model.balance(pan),
        `balance ${state.balance}, model ${this.model.balance(pan)}`,
      );
      this.check(state.held === this.model.held(pan), `held ${state.held}, model ${this.model.held(pan)}`);
      const today = utcDay(this.nowMs);
      const totals = this.model.dayTotals(pan, today);
      const counters =
        state.day === today ? { amount: state.dayAmount, count: state.dayCount } : { amount: 0, count: 0 };
      this.check(
        counters.amount === totals.amount && counters.count === totals.count,
        `day counters ${JSON.stringify(counters)} (day ${state.day}), model ${JSON.stringify(totals)} (day ${today})`,
      );
    }
  }
}

function keyOf(institution: string, req: { stan: number; time: number }): string {
  return `${institution}|${req.stan}|${req.time}`;
}

function otherCurrency(currency: string): string {
  return currency === 'EUR' ? 'USD' : 'EUR';
}

function amountFor(
  mode: 'approved' | 'less' | 'more' | 'zero' | 'requested' | 'random',
  approved: number,
  requested: number,
  random: number,
): number {
  switch (mode) {
    case 'approved':
      return approved;
    case 'less':
      return Math.max(1, Math.floor(approved / 2));
    case 'more':
      return approved + 1;
    case 'zero':
      return 0;
    case 'requested':
      return requested;
    case 'random':
      return random;
  }
}

/** Same key, other content: amount, currency, proc (0100/0200 only: 0220/0400 ignore it) or class. */
function mutate(req: TxnRequest, field: 'amount' | 'currency' | 'proc' | 'class'): TxnRequest {
  const follow = req.txnClass === '0220' || req.txnClass === '0400';
  if (field === 'amount') return { ...req, amount: req.amount + 1 };
  if (field === 'currency') return { ...req, currency: otherCurrency(req.currency) };
  if (field === 'proc' && !follow) {
    const next: Record<string, Proc> =
      req.txnClass === '0100'
        ? { '00': '01', '01': '31', '31': '00' }
        : { '00': '01', '01': '20', '20': '00' };
    return { ...req, proc: next[req.proc]!, partial: req.partial };
  }
  const swapped: Record<TxnClass, TxnClass> = {
    '0100': '0200',
    '0200': '0100',
    '0220': '0400',
    '0400': '0220',
  };
  const txnClass = swapped[req.txnClass];
  // Keep the MTI/proc combination valid (the session layer rejects the others before decide()).
  const proc: Proc =
    (txnClass === '0200' && req.proc === '31') || (txnClass === '0100' && req.proc === '20')
      ? '00'
      : req.proc;
  return { ...req, txnClass, proc };
}

function advance(nowMs: number, step: Extract<Op, { t: 'clock' }>['step']): number {
  const nextMidnight = (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS;
  switch (step) {
    case 'minute':
      return nowMs + 60_000;
    case 'hour':
      return nowMs + 3_600_000;
    case 'sixHours':
      return nowMs + 6 * 3_600_000;
    case 'toMidnight':
      return nextMidnight;
    case 'justBeforeMidnight':
      return nextMidnight - 1 > nowMs ? nextMidnight - 1 : nowMs + 1;
    case 'ttl':
      return nowMs + HOLD_TTL_MS + 1;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

function sameResponse(a: StoredResponse, b: StoredResponse): boolean {
  return (
    a.rc === b.rc &&
    a.rrn === b.rrn &&
    a.authCode === b.authCode &&
    a.amount === b.amount &&
    a.balance === b.balance &&
    Object.keys(a).length === Object.keys(b).length
  );
}

function describeReq(institution: string, r: TxnRequest): string {
  const follow = r.txnClass === '0220' || r.txnClass === '0400';
  return (
    `${r.txnClass}${r.repeat ? '(repeat)' : ''} ${institution} pan ..${r.pan.slice(-2)} stan ${r.stan} ` +
    `time ..${String(r.time).slice(-4)} amount ${r.amount} ${r.currency}` +
    (follow
      ? ` orig ${r.origStan}/..${String(r.origTime).slice(-4)}`
      : ` proc ${r.proc}${r.partial ? ' partial' : ''}`)
  );
}

/** How often each outcome (`class:rc`, `+fx` when it had effects) was reached in a property. */
const coverage = new Map<string, number>();

const REQUIRED_OUTCOMES = [
  '0100:00+fx',
  '0100:10+fx',
  '0100:00',
  '0100:05',
  '0100:12',
  '0100:13',
  '0100:51',
  '0100:57',
  '0100:61',
  '0100:65',
  '0200:00+fx',
  '0200:10+fx',
  '0200:13',
  '0200:61',
  '0200:94',
  '0220:00+fx',
  '0220:12',
  '0220:13',
  '0220:25',
  '0400:00+fx',
  '0400:00',
  '0400:12',
  '0400:13',
  '0400:25',
  '0400:51',
  'replay',
  'expired',
  'dayCrossed',
];

function runScenario(scenario: Scenario): void {
  const run = new Run(scenario);
  for (const op of scenario.ops) run.step(op);
}

function assertSeeded(arb: fc.Arbitrary<Scenario>, seed: number): void {
  try {
    fc.assert(fc.property(arb, runScenario), { seed, numRuns: RUNS });
  } catch (error) {
    console.log(
      `ledger property failed: reproduce with SWITCHYARD_SEED=${SEED} (this property's seed: ${seed})`,
    );
    throw error;
  }
}

describe('decide() against the reference model', () => {
  it('agrees on every rc, amount and balance and keeps I2-I4 over random sequences', () => {
    coverage.clear();
    assertSeeded(scenarioArb(30, 4), SEED);
    // Guard against a generator that stopped reaching the interesting outcomes.
    expect(REQUIRED_OUTCOMES.filter((label) => !coverage.has(label))).toEqual([]);
  });

  it('agrees under a dense key space (many duplicates, 94s, tombstones, self-references)', () => {
    assertSeeded(scenarioArb(2, 2), SEED + 1);
  });

  it('the harness itself catches a wrong ledger (a hold decided as a debit)', () => {
    // Guard against a vacuous harness: break the account by hand after a hold and expect a failure.
    const scenario: Scenario = {
      institutions: 1,
      accounts: [{ currency: 'EUR', opening: 1000, limits: {}, blocked: false }],
      ops: [],
    };
    const run = new Run(scenario);
    run.step({
      t: 'txn',
      acct: 0,
      inst: 0,
      cls: '0100',
      proc: '00',
      amount: 100,
      inquiryAmount: false,
      edge: 'none',
      otherCurrency: false,
      partial: false,
      repeat: false,
      stan: 1,
      timeIdx: 0,
    });
    run.books[0]!.state.balance -= 1;
    expect(() => run.checkBooks()).toThrow(/I2: balance 999/);
  });
});
