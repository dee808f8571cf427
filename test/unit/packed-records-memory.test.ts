import { describe, expect, it } from 'vitest';
import { PackedRecords } from '../../src/runtime/records/packed-records.js';
import { StoredResponse } from '../../src/runtime/records/stored-response.js';
import { sideRecord, type TxnRecord } from '../../src/runtime/records/txn-record.js';

function txn(stan: number): TxnRecord {
  return sideRecord({
    key: { institution: 'acq-1', stan, time: 1_764_115_200_000 + stan, refKey: undefined },
    tombstone: false,
    amount: 100,
    currency: 'EUR',
    response: StoredResponse.of({ rc: '00', rrn: '' }),
    atMs: 0,
  });
}

describe('PackedRecords memory', () => {
  // Under even traffic every actor grows its records in the same second; counted as external
  // memory, that growth set off back-to-back mark-compacts (src/util/unaccounted-arrays.ts).
  it('grows in memory the collector does not count as external, which the process still reports', () => {
    const before = process.memoryUsage();
    const actors: PackedRecords[] = [];
    for (let a = 0; a < 2_000; a++) {
      const records = new PackedRecords();
      // 25 records: past the 24-slot step, so every actor holds its 72-slot arrays.
      for (let stan = 1; stan <= 25; stan++) records.add(txn(stan));
      actors.push(records);
    }
    const after = process.memoryUsage();
    const arrayBytes = after.arrayBuffers - before.arrayBuffers;
    const externalBytes = after.external - before.external;
    // 2,000 actors x 72 slots x 21 numbers x 8 bytes alone is 24 MB.
    expect(arrayBytes).toBeGreaterThan(20 * 1024 * 1024);
    expect(externalBytes).toBeLessThan(arrayBytes / 10);
    expect(actors.every((records) => records.size === 25)).toBe(true);
  });
});
