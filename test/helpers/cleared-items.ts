import type { ClearedItem } from '../../src/clearing/cleared-item.js';

/** A cleared item for rendering and reconcile tests: an on-us purchase unless `fields` say otherwise. */
export function clearedItem(fields: Partial<ClearedItem> = {}): ClearedItem {
  return {
    rrn: 'RRN000000001',
    stan: 1,
    time: 1_773_144_000_000,
    panMasked: '400000******0002',
    mti: '0200',
    proc: '00',
    amount: 1_000,
    currency: 'EUR',
    acquirer: 'acq-1',
    issuer: 'sw-test',
    payer: 'issuer',
    ...fields,
  };
}
