import type { TxnClass } from '../protocol/mti.js';
import type { Proc } from '../protocol/request.js';
import type { OriginalState, TxnRecord } from './txn-record.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One account's durable transaction records, packed: numbers in one
 * Float64Array and strings (shared ones: institution, currency, rc, code
 * heads) in one array, a fixed stride of each per slot. A kept record is no
 * object of its own: with ~64 records per actor and 100,000 actors, records
 * kept as objects were most of what the garbage collector walked and moved,
 * and halved the ledger's decision rate (docs/performance.md, change 28).
 *
 * Slots of the same stan are chained (`NEXT`); free slots are chained the
 * same way from `free`. This class knows slots only; RecordIndex decides
 * what is packed.
 */

// Number fields, per slot.
const STAN = 0;
const TIME = 1;
const TOMBSTONE = 2;
const AMOUNT = 3;
const RRN_TAIL = 4;
const AUTH_TAIL = 5;
/** NaN stands for undefined (respAmount, respBalance, batch). */
const RESP_AMOUNT = 6;
const RESP_BALANCE = 7;
const APPROVED_AMOUNT = 8;
const POSTED_AMOUNT = 9;
const COUNTED_DAY = 10;
const COUNTED_AMOUNT = 11;
const AT_MS = 12;
const HOLD_EXPIRES_AT_MS = 13;
const BATCH = 14;
/** The next slot of the same stan, or of the free list; -1 ends a chain. */
const NEXT = 15;
const NUM_STRIDE = 16;

// String fields, per slot.
const INSTITUTION = 0;
const TXN_CLASS = 1;
const CURRENCY = 2;
const PROC = 3;
const RC = 4;
const RRN_HEAD = 5;
const AUTH_HEAD = 6;
const ERROR = 7;
const STATE = 8;
const REVERSED_RC = 9;
const STR_STRIDE = 10;

const SLOTS_INITIAL = 4;

export class PackedRecords {
  private num = new Float64Array(SLOTS_INITIAL * NUM_STRIDE);
  private str: (string | undefined)[] = new Array(SLOTS_INITIAL * STR_STRIDE).fill(undefined);
  private capacity = SLOTS_INITIAL;
  /** Slots ever used (those at and above it are free and unchained). */
  private used = 0;
  private free = -1;

  /** Packs a transaction record (not a reference-keyed one) into a new slot, chained before `next`. */
  add(r: TxnRecord, next: number): number {
    const slot = this.take();
    const n = this.num;
    const o = slot * NUM_STRIDE;
    n[o + STAN] = r.stan;
    n[o + TIME] = r.time;
    n[o + TOMBSTONE] = r.tombstone ? 1 : 0;
    n[o + AMOUNT] = r.amount;
    n[o + RRN_TAIL] = r.rrnTail;
    n[o + AUTH_TAIL] = r.authTail;
    n[o + RESP_AMOUNT] = r.respAmount ?? Number.NaN;
    n[o + RESP_BALANCE] = r.respBalance ?? Number.NaN;
    n[o + APPROVED_AMOUNT] = r.approvedAmount;
    n[o + POSTED_AMOUNT] = r.postedAmount;
    n[o + COUNTED_DAY] = r.countedDay;
    n[o + COUNTED_AMOUNT] = r.countedAmount;
    n[o + AT_MS] = r.atMs;
    n[o + HOLD_EXPIRES_AT_MS] = r.holdExpiresAtMs;
    n[o + BATCH] = r.batch ?? Number.NaN;
    n[o + NEXT] = next;
    const s = this.str;
    const p = slot * STR_STRIDE;
    s[p + INSTITUTION] = r.institution;
    s[p + TXN_CLASS] = r.txnClass;
    s[p + CURRENCY] = r.currency;
    s[p + PROC] = r.proc;
    s[p + RC] = r.rc;
    s[p + RRN_HEAD] = r.rrnHead;
    s[p + AUTH_HEAD] = r.authHead;
    s[p + ERROR] = r.error;
    s[p + STATE] = r.state;
    s[p + REVERSED_RC] = r.reversedRc;
    return slot;
  }

  /** A new object with the slot's record (a copy: changing it changes nothing here). */
  record(slot: number): TxnRecord {
    return new SealedRecordCopy(this.num, this.str, slot);
  }

  /** True when the slot holds the transaction (institution, stan, time). */
  isKey(slot: number, institution: string, stan: number, time: number): boolean {
    const o = slot * NUM_STRIDE;
    return (
      this.num[o + STAN] === stan &&
      this.num[o + TIME] === time &&
      this.str[slot * STR_STRIDE + INSTITUTION] === institution
    );
  }

  next(slot: number): number {
    return this.num[slot * NUM_STRIDE + NEXT]!;
  }

  setNext(slot: number, next: number): void {
    this.num[slot * NUM_STRIDE + NEXT] = next;
  }

  /**
   * The slot's record as a view with no copy: one object shared by every
   * PackedRecords, valid until the next view() or a change to this slot.
   */
  view(slot: number): Readonly<TxnRecord> {
    sharedView.n = this.num;
    sharedView.s = this.str;
    sharedView.o = slot * NUM_STRIDE;
    sharedView.p = slot * STR_STRIDE;
    return sharedView;
  }

  /**
   * Frees a slot (already unchained). Its strings stay until the slot is
   * reused: they are shared ones (institution, currency, rc, code heads),
   * and clearing ten entries per eviction cost more than keeping them.
   */
  release(slot: number): void {
    this.num[slot * NUM_STRIDE + NEXT] = this.free;
    this.free = slot;
  }

  private take(): number {
    if (this.free >= 0) {
      const slot = this.free;
      this.free = this.num[slot * NUM_STRIDE + NEXT]!;
      return slot;
    }
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  private grow(): void {
    // By half, not double: an actor holds recordsPerActorMax (64) plus a batch or two before
    // eviction, and doubling would leave most actors with room for 128.
    this.capacity = Math.ceil(this.capacity * 1.5);
    const num = new Float64Array(this.capacity * NUM_STRIDE);
    num.set(this.num);
    this.num = num;
    const str = new Array<string | undefined>(this.capacity * STR_STRIDE).fill(undefined);
    for (let i = 0; i < this.str.length; i++) str[i] = this.str[i];
    this.str = str;
  }
}

/**
 * A sealed record as an object again. A class of its own, not a literal
 * like the records decide() makes: numbers read from a Float64Array come
 * back as doubles, and had the copies shared the literals' hidden class,
 * V8 would have turned every number field of every record into a boxed
 * double (a heap object each, and a map migration per record: it made
 * deciding three times slower when tried).
 */
// The fields are TxnRecord's, declared once there (declaration merging); written only here.
// biome-ignore lint/correctness/noUnusedVariables: merged into the class below.
interface SealedRecordCopy extends Mutable<TxnRecord> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor assigns every field.
class SealedRecordCopy {
  constructor(n: Float64Array, s: readonly (string | undefined)[], slot: number) {
    const o = slot * NUM_STRIDE;
    const p = slot * STR_STRIDE;
    const respAmount = n[o + RESP_AMOUNT]!;
    const respBalance = n[o + RESP_BALANCE]!;
    const batch = n[o + BATCH]!;
    this.institution = s[p + INSTITUTION]!;
    this.stan = n[o + STAN]!;
    this.time = n[o + TIME]!;
    this.refKey = undefined;
    this.tombstone = n[o + TOMBSTONE] === 1;
    this.txnClass = s[p + TXN_CLASS] as TxnClass;
    this.amount = n[o + AMOUNT]!;
    this.currency = s[p + CURRENCY]!;
    this.proc = s[p + PROC] as Proc | '';
    this.rc = s[p + RC]!;
    this.rrnHead = s[p + RRN_HEAD]!;
    this.rrnTail = n[o + RRN_TAIL]!;
    this.authHead = s[p + AUTH_HEAD];
    this.authTail = n[o + AUTH_TAIL]!;
    this.respAmount = orUndefined(respAmount);
    this.respBalance = orUndefined(respBalance);
    this.error = s[p + ERROR];
    this.state = s[p + STATE] as OriginalState;
    this.approvedAmount = n[o + APPROVED_AMOUNT]!;
    this.postedAmount = n[o + POSTED_AMOUNT]!;
    this.reversedRc = s[p + REVERSED_RC];
    this.countedDay = n[o + COUNTED_DAY]!;
    this.countedAmount = n[o + COUNTED_AMOUNT]!;
    this.atMs = n[o + AT_MS]!;
    this.holdExpiresAtMs = n[o + HOLD_EXPIRES_AT_MS]!;
    this.batch = orUndefined(batch);
    this.nextSameStan = undefined;
  }
}

/** A slot seen in place: getters over the packed arrays (see PackedRecords.view). */
class SealedRecordView implements Readonly<TxnRecord> {
  n = new Float64Array(0);
  s: readonly (string | undefined)[] = [];
  o = 0;
  p = 0;

  get institution(): string {
    return this.s[this.p + INSTITUTION]!;
  }
  get stan(): number {
    return this.n[this.o + STAN]!;
  }
  get time(): number {
    return this.n[this.o + TIME]!;
  }
  get refKey(): undefined {
    return undefined;
  }
  get tombstone(): boolean {
    return this.n[this.o + TOMBSTONE] === 1;
  }
  get txnClass(): TxnClass {
    return this.s[this.p + TXN_CLASS] as TxnClass;
  }
  get amount(): number {
    return this.n[this.o + AMOUNT]!;
  }
  get currency(): string {
    return this.s[this.p + CURRENCY]!;
  }
  get proc(): Proc | '' {
    return this.s[this.p + PROC] as Proc | '';
  }
  get rc(): string {
    return this.s[this.p + RC]!;
  }
  get rrnHead(): string {
    return this.s[this.p + RRN_HEAD]!;
  }
  get rrnTail(): number {
    return this.n[this.o + RRN_TAIL]!;
  }
  get authHead(): string | undefined {
    return this.s[this.p + AUTH_HEAD];
  }
  get authTail(): number {
    return this.n[this.o + AUTH_TAIL]!;
  }
  get respAmount(): number | undefined {
    return orUndefined(this.n[this.o + RESP_AMOUNT]!);
  }
  get respBalance(): number | undefined {
    return orUndefined(this.n[this.o + RESP_BALANCE]!);
  }
  get error(): string | undefined {
    return this.s[this.p + ERROR];
  }
  get state(): OriginalState {
    return this.s[this.p + STATE] as OriginalState;
  }
  get approvedAmount(): number {
    return this.n[this.o + APPROVED_AMOUNT]!;
  }
  get postedAmount(): number {
    return this.n[this.o + POSTED_AMOUNT]!;
  }
  get reversedRc(): string | undefined {
    return this.s[this.p + REVERSED_RC];
  }
  get countedDay(): number {
    return this.n[this.o + COUNTED_DAY]!;
  }
  get countedAmount(): number {
    return this.n[this.o + COUNTED_AMOUNT]!;
  }
  get atMs(): number {
    return this.n[this.o + AT_MS]!;
  }
  get holdExpiresAtMs(): number {
    return this.n[this.o + HOLD_EXPIRES_AT_MS]!;
  }
  get batch(): number | undefined {
    return orUndefined(this.n[this.o + BATCH]!);
  }
  get nextSameStan(): undefined {
    return undefined;
  }
}

const sharedView = new SealedRecordView();

function orUndefined(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}
