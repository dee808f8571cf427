import type { TxnRequest } from '../../src/protocol/request.js';

/** A validated 0100 as the session layer hands it to the ledger, with overrides. For in-process tests. */
export function txnRequest(overrides: Partial<TxnRequest> = {}): TxnRequest {
  return {
    txnClass: '0100',
    repeat: false,
    id: 1,
    stan: 1,
    time: 1_764_000_000_000,
    pan: '4000000000000002',
    amount: 1000,
    currency: 'EUR',
    proc: '00',
    partial: false,
    merchant: undefined,
    terminal: undefined,
    mcc: undefined,
    origStan: 0,
    origTime: 0,
    ...overrides,
  };
}
