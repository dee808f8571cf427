import type { TxnRequest } from '../../src/protocol/request.js';
import { type DecideContext, type DecisionSink, decideInto } from '../../src/rules/onus/decide.js';
import { type AccountState, accountState } from '../../src/runtime/account.js';
import { AuthCodeSource } from '../../src/runtime/auth-code.js';
import { LiveRecords } from '../../src/runtime/records/live-records.js';
import { type Evictor, RecordIndex } from '../../src/runtime/records/record-index.js';
import type { TxnRecord } from '../../src/runtime/records/txn-record.js';
import { RrnSource } from '../../src/runtime/rrn.js';
import { maskPan, withLuhnDigit } from '../../src/util/pan.js';
import { type MicroResult, measure } from '../harness/micro.js';

/**
 * In-memory actor decisions on one core: decide() over `accountCount`
 * accounts, holds and purchases, as an actor runs them (state in memory,
 * records added and the oldest dropped, the real rrn and authCode
 * generators), without persistence (records are sealed per batch of 1,000,
 * as a commit seals them). The ceiling of the ledger's CPU side. Judge it
 * by the sustained rate: the records live on, and their collections are
 * part of the cost.
 *
 * 100,000 accounts (the headline row) spread each decision's memory over
 * ~200 MB: most of its time is then waiting on memory, not deciding. 1,000
 * accounts fit the caches, and show what the rules and records cost alone.
 */
export function runLedgerBench(durationMs: number, accountCount = 100_000): MicroResult[] {
  const ACCOUNTS = accountCount;
  const label = accountCount >= 1_000 ? `${accountCount / 1_000}k accounts` : `${accountCount} accounts`;
  const accounts: { pan: string; account: AccountState; records: RecordIndex }[] = [];
  // One pool of live records for all the accounts, as a ledger core has.
  const live = new LiveRecords();
  for (let i = 0; i < ACCOUNTS; i++) {
    const pan = withLuhnDigit(`4000000${String(i).padStart(8, '0')}`);
    accounts.push({
      pan,
      // Made as the ledger makes accounts (one shape); the identity is never read by a decision.
      account: accountState(
        { panSealed: new Uint8Array(0), panMasked: maskPan(pan) },
        {
          currency: 'USD',
          balance: 1e12,
          held: 0,
          status: 'active',
          limits: {},
          day: 0,
          dayAmount: 0,
          dayCount: 0,
        },
      ),
      records: new RecordIndex(live),
    });
  }
  // The generators the ledger runs with (unique rrn and authCode per approval).
  const ctx: DecideContext = {
    nowMs: Date.UTC(2026, 10, 26),
    holdTtlMs: 7 * 86_400_000,
    institution: 'acq-bench',
    rrns: new RrnSource(1),
    authCodes: new AuthCodeSource(1),
  };
  let stan = 0;
  let time = 1_764_000_000_000;
  const request = (pan: string, txnClass: '0100' | '0200'): TxnRequest => {
    stan = stan === 999_999 ? 1 : stan + 1;
    // Transmission times move on every 64 requests: a busy acquirer's millisecond, not one time for all.
    if ((stan & 63) === 0) time++;
    return {
      txnClass,
      repeat: false,
      id: stan,
      stan,
      time,
      pan,
      amount: 1_250,
      currency: 'USD',
      proc: '00',
      partial: false,
      merchant: undefined,
      terminal: undefined,
      mcc: undefined,
      origStan: 0,
      origTime: 0,
    };
  };
  // What an actor's batch keeps per decision: its records, sealed when the batch "commits"
  // (as LedgerCore seals them once the commit is built); effects are counted only.
  let written = 0;
  const batchRecords: TxnRecord[] = [];
  const batchIndexes: RecordIndex[] = [];
  let current: RecordIndex | undefined;
  const sink: DecisionSink = {
    record: (record) => {
      batchRecords.push(record);
      batchIndexes.push(current!);
      written++;
    },
    effect: () => {
      written++;
    },
  };
  const BATCH = 1_000;
  // Records an actor keeps per account here: the oldest leaves when a new one comes, so memory
  // holds a steady ACCOUNTS * RECORDS_KEPT records, as a busy ledger keeps its recent keys.
  const RECORDS_KEPT = 8;
  // An actor evicts the oldest durable records; here every sealed one is (no commit to wait for).
  const evictOldest: Evictor = { evictable: (record) => record.batch === undefined, evicted: () => {} };
  let cursor = 0;
  const run = (txnClass: '0100' | '0200') => (): void => {
    for (let i = 0; i < BATCH; i++) {
      const a = accounts[cursor]!;
      cursor = cursor + 1 === ACCOUNTS ? 0 : cursor + 1;
      current = a.records;
      decideInto(a.account, a.records, request(a.pan, txnClass), ctx, sink);
      a.records.evict(RECORDS_KEPT, evictOldest);
    }
    for (let i = 0; i < batchRecords.length; i++) batchIndexes[i]!.seal(batchRecords[i]!);
    batchRecords.length = 0;
    batchIndexes.length = 0;
  };
  // Fill every account's records first: the rounds then measure the steady state (full record
  // arrays, and the collections of what each decision allocates), which the sustained rate pays for.
  const fill = run('0100');
  for (let i = 0; i < (ACCOUNTS * RECORDS_KEPT) / BATCH; i++) fill();
  const results = [
    measure(`decide 0100 hold, ${label}`, BATCH, run('0100'), durationMs),
    measure(`decide 0200 purchase, ${label}`, BATCH, run('0200'), durationMs),
  ];
  if (written === 0) throw new Error('unreachable: decisions wrote nothing');
  return results;
}
