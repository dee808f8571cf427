import { describe, expect, it } from 'vitest';
import { packWork, transferOf, unpackWork } from '../../src/ledger/worker-codec.js';
import type { WorkItem } from '../../src/ledger/worker-protocol.js';

function getItems(count: number): WorkItem[] {
  return Array.from({ length: count }, (_, i) => ({
    k: 'get',
    seq: i,
    pan: `4000${String(i).padStart(12, '0')}`,
  }));
}

describe('worker codec', () => {
  it('round-trips a batch', () => {
    const items = getItems(3);
    expect(unpackWork(packWork(items))).toEqual(items);
  });

  it('gives every packed batch its own exact-size buffer, even after a large batch', () => {
    // postMessage copies a view's whole backing buffer: a small batch packed
    // into msgpackr's grown scratch buffer would drag hundreds of KB along.
    packWork(getItems(20_000));
    const small = packWork(getItems(1));
    expect(small.byteOffset).toBe(0);
    expect(small.buffer.byteLength).toBe(small.byteLength);
    expect(transferOf(small)).toEqual([small.buffer]);
    expect(unpackWork(small)).toEqual(getItems(1));
  });
});
