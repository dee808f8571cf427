import type { AccountState } from '../src/ledger/account.js';
import { type DecideContext, type DecisionSink, decideInto, type RecordMap } from '../src/ledger/decide.js';
import type { TxnRequest } from '../src/protocol/request.js';
import { withLuhnDigit } from '../src/util/pan.js';
import { type MicroResult, measure } from './micro.js';

/**
 * In-memory actor decisions on one core: decide() over 100,000 accounts,
 * holds and purchases, as an actor runs them (state in memory, records
 * added), without persistence. The ceiling of the ledger's CPU side.
 */
export function runLedgerBench(durationMs: number): MicroResult[] {
  const ACCOUNTS = 100_000;
  const accounts: { account: AccountState; records: RecordMap }[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    accounts.push({
      account: {
        pan: withLuhnDigit(`4000000${String(i).padStart(8, '0')}`),
        currency: 'USD',
        balance: 1e12,
        held: 0,
        status: 'active',
        limits: {},
        day: 0,
        dayAmount: 0,
        dayCount: 0,
      },
      records: new Map(),
    });
  }
  let rrn = 0;
  const ctx: DecideContext = {
    nowMs: Date.UTC(2026, 10, 26),
    holdTtlMs: 7 * 86_400_000,
    institution: 'acq-bench',
    nextRrn: () => String(++rrn).padStart(12, '0'),
    nextAuthCode: () => 'A00001',
  };
  let stan = 0;
  let time = 1_764_000_000_000;
  const request = (pan: string, txnClass: '0100' | '0200'): TxnRequest => {
    stan = stan === 999_999 ? 1 : stan + 1;
    if (stan === 1) time++;
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
  // What an actor's batch keeps per decision, without the batch: counts only.
  let written = 0;
  const sink: DecisionSink = {
    record: () => {
      written++;
    },
    effect: () => {
      written++;
    },
  };
  const BATCH = 1_000;
  let cursor = 0;
  const run = (txnClass: '0100' | '0200') => (): void => {
    for (let i = 0; i < BATCH; i++) {
      const a = accounts[cursor]!;
      cursor = cursor + 1 === ACCOUNTS ? 0 : cursor + 1;
      decideInto(a.account, a.records, request(a.account.pan, txnClass), ctx, sink);
      // Keep the record maps bounded so the run measures decisions, not an ever-growing heap.
      if (a.records.size > 8) a.records.clear();
    }
  };
  const results = [
    measure('decide 0100 hold, 100k accounts', BATCH, run('0100'), durationMs),
    measure('decide 0200 purchase, 100k accounts', BATCH, run('0200'), durationMs),
  ];
  if (written === 0) throw new Error('unreachable: decisions wrote nothing');
  return results;
}
