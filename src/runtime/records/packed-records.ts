import type { TxnClass } from '../../protocol/mti.js';
import type { Proc } from '../../protocol/request.js';
import { base36, parseBase36 } from '../../util/base36.js';
import type { Mutable } from '../../util/mutable.js';
import { unaccountedFloat64Array, unaccountedInt32Array } from '../../util/unaccounted-arrays.js';
import type { OriginalState, TxnRecord } from './txn-record.js';

/**
 * One account's durable transaction records, packed: one Float64Array, a
 * fixed stride of numbers per slot, strings included as codes (below) and
 * the rrn and authCode heads as base-36 numbers. A kept record is no
 * object of its own: with ~64 records per actor and 100,000 actors, records
 * kept as objects were most of what the garbage collector walked and moved,
 * and held the ledger's decision rate down (docs/performance-log.md, change 28).
 *
 * Found by key through an open-addressing table (Int32Array, linear
 * probing on the stan, deletion by backward shift): no Map, whose tables
 * were reallocated as keys came and went. Slots are also linked oldest
 * first (eviction's order) and free slots chained for reuse, the links
 * beside the table. This class knows slots only; RecordIndex decides what
 * is packed.
 *
 * One file past the ~500-line mark on purpose: the slot layout, the probe
 * table and the links are one data structure whose invariants every method
 * shares (a slot's offsets, the backward-shift deletion, the free chain);
 * split across files, each part would have to know the others' layout.
 */

// Number fields, per slot. What eviction reads (key, batch, time, state) comes first, so
// that it is one cache line of a slot that is otherwise cold.
const STAN = 0;
const TIME = 1;
/** NaN stands for undefined (batch, respAmount, respBalance). */
const BATCH = 2;
const AT_MS = 3;
/** Two string codes (codeOf) per field: low 16 bits and high 16 bits. */
const INSTITUTION_STATE = 4;
const REVERSED_RC_TXN_CLASS = 5;
const APPROVED_AMOUNT = 6;
const HOLD_EXPIRES_AT_MS = 7;
const TOMBSTONE = 8;
const AMOUNT = 9;
const RRN_TAIL = 10;
const AUTH_TAIL = 11;
const RESP_AMOUNT = 12;
const RESP_BALANCE = 13;
const POSTED_AMOUNT = 14;
const COUNTED_DAY = 15;
const COUNTED_AMOUNT = 16;
const CURRENCY_PROC = 17;
const RC_ERROR = 18;
/**
 * The rrn and authCode heads read as base-36 numbers (RRN_HEAD_WIDTH and
 * AUTH_HEAD_WIDTH digits, as the ledger's generators make them); NaN when a
 * head is not of that form (then it is in the slot's strings), and -1 for
 * no authCode.
 */
const RRN_HEAD = 19;
const AUTH_HEAD = 20;
const NUM_STRIDE = 21;

const RRN_HEAD_WIDTH = 10;
const AUTH_HEAD_WIDTH = 4;

// String fields, per slot, for heads of another form only (tests' generators, old data).
const RRN_HEAD_STR = 0;
const AUTH_HEAD_STR = 1;
const STR_STRIDE = 2;

/**
 * Codes for the strings a record repeats (institution, state, rc, class,
 * currency, proc, error): one table per worker, code 0 for undefined. Held
 * in the slot's numbers, they spare a slot eight references (a cache line
 * of a cold slot when it is written, and one when eviction reads it).
 * Bounded by what validation lets through: configured institutions, 3-letter
 * currencies (17,576 at most), 2-character response codes and a handful of
 * classes, procs, states and error texts, well inside 16 bits.
 */
const CODE_MAX = 0xffff;
const codeStrings: (string | undefined)[] = [undefined];
const codeOfString = new Map<string, number>();

/** The code of a string, given one if it has none yet. */
function codeOf(value: string | undefined): number {
  if (value === undefined) return 0;
  let code = codeOfString.get(value);
  if (code === undefined) {
    if (codeStrings.length > CODE_MAX) throw new Error('invariant: more distinct record strings than codes');
    code = codeStrings.length;
    codeStrings.push(value);
    codeOfString.set(value, code);
  }
  return code;
}

/** A field's last string and its code: a field's values repeat, so most lookups end here. */
class FieldCode {
  private last: string | undefined = undefined;
  private lastCode = 0;

  of(value: string | undefined): number {
    if (value === this.last) return this.lastCode;
    this.lastCode = codeOf(value);
    this.last = value;
    return this.lastCode;
  }
}

const institutionCode = new FieldCode();
const stateCode = new FieldCode();
const reversedRcCode = new FieldCode();
const txnClassCode = new FieldCode();
const currencyCode = new FieldCode();
const procCode = new FieldCode();
const rcCode = new FieldCode();
const errorCode = new FieldCode();

/** A head's number (parseBase36), the last one kept: a head is shared by 1,296 identifiers. */
class HeadNumber {
  private last: string | undefined = undefined;
  private lastValue = Number.NaN;

  constructor(private readonly width: number) {}

  of(head: string): number {
    if (head === this.last) return this.lastValue;
    const value = parseBase36(head, this.width);
    this.last = head;
    this.lastValue = value < 0 ? Number.NaN : value;
    return this.lastValue;
  }
}

const rrnHeadNumber = new HeadNumber(RRN_HEAD_WIDTH);
const authHeadNumber = new HeadNumber(AUTH_HEAD_WIDTH);

/** A head back as a string: from its number, or from the slot's strings. */
function headString(
  value: number,
  width: number,
  strings: readonly (string | undefined)[] | undefined,
  at: number,
): string | undefined {
  if (value === -1) return undefined;
  return Number.isNaN(value) ? strings?.[at] : base36(value, width);
}

function pair(low: number, high: number): number {
  return low | (high << 16);
}

function lowString(value: number): string | undefined {
  return codeStrings[value & 0xffff];
}

function highString(value: number): string | undefined {
  return codeStrings[value >>> 16];
}

const SLOTS_INITIAL = 8;

// Per slot in the index's links: its neighbours in age order, and its stan (as the table keeps it).
const LINK_NEWER = 0;
const LINK_OLDER = 1;
const LINK_STAN = 2;
const LINK_STRIDE = 3;

export class PackedRecords {
  // Unaccounted (src/util/unaccounted-arrays.ts): under even traffic every actor grows these
  // in the same second, which on plain ArrayBuffers set off back-to-back mark-compacts.
  private num = unaccountedFloat64Array(SLOTS_INITIAL * NUM_STRIDE);
  /** Heads of another form than the generators' (rare): made on the first one. */
  private str: (string | undefined)[] | undefined;
  private capacity = SLOTS_INITIAL;
  /**
   * The index, in one Int32Array (one region of memory per actor, apart from
   * the records): the table, `tableSize` pairs of (slot + 1, stan), 0 an
   * empty pair, a power of two at least twice the capacity; then LINK_STRIDE
   * numbers per slot: the next newer and the next older slot (-1 ends; a
   * free slot's newer link chains the free slots) and the slot's stan. The
   * stan kept in the table lets a probe pass other stans, and deletion move
   * entries, without reading their records (each a cache miss on a busy
   * switch); the one kept with the links lets remove() find the slot's table
   * entry without waiting for its record's line (LINK_STAN).
   */
  private meta = unaccountedInt32Array(SLOTS_INITIAL * 2 * 2 + SLOTS_INITIAL * LINK_STRIDE);
  private tableSize = SLOTS_INITIAL * 2;
  private tableShift = 32 - Math.log2(SLOTS_INITIAL * 2);
  /** Slots ever used (those at and above it are free and unchained). */
  private used = 0;
  private free = -1;
  private oldestSlot = -1;
  private newestSlot = -1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Packs a transaction record (not a reference-keyed one) into a new slot, the newest. */
  add(r: TxnRecord): number {
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
    n[o + INSTITUTION_STATE] = pair(institutionCode.of(r.institution), stateCode.of(r.state));
    n[o + REVERSED_RC_TXN_CLASS] = pair(reversedRcCode.of(r.reversedRc), txnClassCode.of(r.txnClass));
    n[o + CURRENCY_PROC] = pair(currencyCode.of(r.currency), procCode.of(r.proc));
    n[o + RC_ERROR] = pair(rcCode.of(r.rc), errorCode.of(r.error));
    const rrnHead = rrnHeadNumber.of(r.rrnHead);
    n[o + RRN_HEAD] = rrnHead;
    const authHead = r.authHead === undefined ? -1 : authHeadNumber.of(r.authHead);
    n[o + AUTH_HEAD] = authHead;
    if (Number.isNaN(rrnHead) || Number.isNaN(authHead)) {
      this.str ??= new Array<string | undefined>(this.capacity * STR_STRIDE).fill(undefined);
      this.str[slot * STR_STRIDE + RRN_HEAD_STR] = r.rrnHead;
      this.str[slot * STR_STRIDE + AUTH_HEAD_STR] = r.authHead;
    }
    const m = this.meta;
    const links = this.tableSize * 2;
    m[links + slot * LINK_STRIDE + LINK_NEWER] = -1;
    m[links + slot * LINK_STRIDE + LINK_OLDER] = this.newestSlot;
    m[links + slot * LINK_STRIDE + LINK_STAN] = r.stan | 0;
    if (this.newestSlot >= 0) m[links + this.newestSlot * LINK_STRIDE + LINK_NEWER] = slot;
    else this.oldestSlot = slot;
    this.newestSlot = slot;
    this.insert(slot, r.stan);
    this.count++;
    return slot;
  }

  /** The slot of the transaction (institution, stan, time), or -1. */
  find(institution: string, stan: number, time: number): number {
    const m = this.meta;
    const mask = this.tableSize - 1;
    const stan32 = stan | 0;
    for (let at = this.home(stan); m[at * 2] !== 0; at = (at + 1) & mask) {
      if (m[at * 2 + 1] !== stan32) continue;
      const slot = m[at * 2]! - 1;
      const o = slot * NUM_STRIDE;
      if (
        this.num[o + STAN] === stan &&
        this.num[o + TIME] === time &&
        lowString(this.num[o + INSTITUTION_STATE]!) === institution
      )
        return slot;
    }
    return -1;
  }

  /** Frees a slot: out of the table and the age order. */
  remove(slot: number): void {
    const m = this.meta;
    const mask = this.tableSize - 1;
    const links = this.tableSize * 2;
    let hole = this.home(m[links + slot * LINK_STRIDE + LINK_STAN]!);
    while (m[hole * 2] !== slot + 1) hole = (hole + 1) & mask;
    // Backward shift: entries after the hole that may not sit before their home move into it.
    m[hole * 2] = 0;
    for (let at = (hole + 1) & mask; m[at * 2] !== 0; at = (at + 1) & mask) {
      const home = this.home(m[at * 2 + 1]!);
      const stays = hole <= at ? hole < home && home <= at : hole < home || home <= at;
      if (stays) continue;
      m[hole * 2] = m[at * 2]!;
      m[hole * 2 + 1] = m[at * 2 + 1]!;
      m[at * 2] = 0;
      hole = at;
    }
    const newer = m[links + slot * LINK_STRIDE + LINK_NEWER]!;
    const older = m[links + slot * LINK_STRIDE + LINK_OLDER]!;
    if (newer >= 0) m[links + newer * LINK_STRIDE + LINK_OLDER] = older;
    else this.newestSlot = older;
    if (older >= 0) m[links + older * LINK_STRIDE + LINK_NEWER] = newer;
    else this.oldestSlot = newer;
    m[links + slot * LINK_STRIDE + LINK_NEWER] = this.free;
    this.free = slot;
    this.count--;
  }

  /** The oldest slot, or -1. */
  oldest(): number {
    return this.oldestSlot;
  }

  /** The next newer slot than `slot` (in the table), or -1. */
  newer(slot: number): number {
    return this.meta[this.tableSize * 2 + slot * LINK_STRIDE + LINK_NEWER]!;
  }

  /** A new object with the slot's record (a copy: changing it changes nothing here). */
  record(slot: number): TxnRecord {
    return new SealedRecordCopy(this.num, this.str, slot);
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

  /** Where the stan's probe starts (Fibonacci hashing: the multiply's high bits). */
  private home(stan: number): number {
    return Math.imul(stan, 0x9e3779b1) >>> this.tableShift;
  }

  /** Puts the slot into the table, at the first empty pair from its stan's home. */
  private insert(slot: number, stan: number): void {
    const m = this.meta;
    const mask = this.tableSize - 1;
    let at = this.home(stan);
    while (m[at * 2] !== 0) at = (at + 1) & mask;
    m[at * 2] = slot + 1;
    m[at * 2 + 1] = stan | 0;
  }

  /**
   * A free slot. A freed slot keeps what it held until it is reused (its
   * strings too, if it had heads of another form): nothing reads a free slot.
   */
  private take(): number {
    if (this.free >= 0) {
      const slot = this.free;
      this.free = this.meta[this.tableSize * 2 + slot * LINK_STRIDE + LINK_NEWER]!;
      return slot;
    }
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  private grow(): void {
    const oldMeta = this.meta;
    const oldLinks = this.tableSize * 2;
    // Tripling up to 72 (8, 24, 72: two copies while a busy actor fills, where doubling made
    // four, 3-4% of a worker's time in the first minute after a start), then by half: an actor
    // holds recordsPerActorMax (64) plus a batch or two before eviction, which 72 fits.
    this.capacity = this.capacity < 64 ? this.capacity * 3 : Math.ceil(this.capacity * 1.5);
    const num = unaccountedFloat64Array(this.capacity * NUM_STRIDE);
    num.set(this.num);
    this.num = num;
    if (this.str !== undefined) {
      // Grown in place (V8 copies its backing store natively).
      const strLength = this.str.length;
      this.str.length = this.capacity * STR_STRIDE;
      this.str.fill(undefined, strLength);
    }
    let tableSize = this.tableSize;
    while (tableSize < this.capacity * 2) tableSize *= 2;
    this.meta = unaccountedInt32Array(tableSize * 2 + this.capacity * LINK_STRIDE);
    // The links move with the table's end; no slot is free (growth only comes when none is).
    this.meta.set(oldMeta.subarray(oldLinks, oldLinks + this.used * LINK_STRIDE), tableSize * 2);
    if (tableSize === this.tableSize) {
      this.meta.set(oldMeta.subarray(0, oldLinks));
      return;
    }
    this.tableSize = tableSize;
    this.tableShift = 32 - Math.log2(tableSize);
    for (let slot = 0; slot < this.used; slot++) this.insert(slot, num[slot * NUM_STRIDE + STAN]!);
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
  constructor(n: Float64Array, s: readonly (string | undefined)[] | undefined, slot: number) {
    const o = slot * NUM_STRIDE;
    const p = slot * STR_STRIDE;
    const respAmount = n[o + RESP_AMOUNT]!;
    const respBalance = n[o + RESP_BALANCE]!;
    const batch = n[o + BATCH]!;
    const institutionState = n[o + INSTITUTION_STATE]!;
    const reversedRcTxnClass = n[o + REVERSED_RC_TXN_CLASS]!;
    const currencyProc = n[o + CURRENCY_PROC]!;
    const rcError = n[o + RC_ERROR]!;
    this.institution = lowString(institutionState)!;
    this.stan = n[o + STAN]!;
    this.time = n[o + TIME]!;
    this.refKey = undefined;
    this.tombstone = n[o + TOMBSTONE] === 1;
    this.txnClass = highString(reversedRcTxnClass) as TxnClass;
    this.amount = n[o + AMOUNT]!;
    this.currency = lowString(currencyProc)!;
    this.proc = (highString(currencyProc) ?? '') as Proc | '';
    this.rc = lowString(rcError)!;
    this.rrnHead = headString(n[o + RRN_HEAD]!, RRN_HEAD_WIDTH, s, p + RRN_HEAD_STR)!;
    this.rrnTail = n[o + RRN_TAIL]!;
    this.authHead = headString(n[o + AUTH_HEAD]!, AUTH_HEAD_WIDTH, s, p + AUTH_HEAD_STR);
    this.authTail = n[o + AUTH_TAIL]!;
    this.respAmount = orUndefined(respAmount);
    this.respBalance = orUndefined(respBalance);
    this.error = highString(rcError);
    this.state = highString(institutionState) as OriginalState;
    this.approvedAmount = n[o + APPROVED_AMOUNT]!;
    this.postedAmount = n[o + POSTED_AMOUNT]!;
    this.reversedRc = lowString(reversedRcTxnClass);
    this.countedDay = n[o + COUNTED_DAY]!;
    this.countedAmount = n[o + COUNTED_AMOUNT]!;
    this.atMs = n[o + AT_MS]!;
    this.holdExpiresAtMs = n[o + HOLD_EXPIRES_AT_MS]!;
    this.batch = orUndefined(batch);
  }
}

/** A slot seen in place: getters over the packed arrays (see PackedRecords.view). */
class SealedRecordView implements Readonly<TxnRecord> {
  n: Float64Array = unaccountedFloat64Array(0);
  s: readonly (string | undefined)[] | undefined = undefined;
  o = 0;
  p = 0;

  get institution(): string {
    return lowString(this.n[this.o + INSTITUTION_STATE]!)!;
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
    return highString(this.n[this.o + REVERSED_RC_TXN_CLASS]!) as TxnClass;
  }
  get amount(): number {
    return this.n[this.o + AMOUNT]!;
  }
  get currency(): string {
    return lowString(this.n[this.o + CURRENCY_PROC]!)!;
  }
  get proc(): Proc | '' {
    return (highString(this.n[this.o + CURRENCY_PROC]!) ?? '') as Proc | '';
  }
  get rc(): string {
    return lowString(this.n[this.o + RC_ERROR]!)!;
  }
  get rrnHead(): string {
    return headString(this.n[this.o + RRN_HEAD]!, RRN_HEAD_WIDTH, this.s, this.p + RRN_HEAD_STR)!;
  }
  get rrnTail(): number {
    return this.n[this.o + RRN_TAIL]!;
  }
  get authHead(): string | undefined {
    return headString(this.n[this.o + AUTH_HEAD]!, AUTH_HEAD_WIDTH, this.s, this.p + AUTH_HEAD_STR);
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
    return highString(this.n[this.o + RC_ERROR]!);
  }
  get state(): OriginalState {
    return highString(this.n[this.o + INSTITUTION_STATE]!) as OriginalState;
  }
  get approvedAmount(): number {
    return this.n[this.o + APPROVED_AMOUNT]!;
  }
  get postedAmount(): number {
    return this.n[this.o + POSTED_AMOUNT]!;
  }
  get reversedRc(): string | undefined {
    return lowString(this.n[this.o + REVERSED_RC_TXN_CLASS]!);
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
}

const sharedView = new SealedRecordView();

function orUndefined(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}
