import { describe, expect, it } from 'vitest';
import { ScrapeRead } from '../../src/observability/scrape-read.js';

describe('ScrapeRead (a store value for /metrics, bounded)', () => {
  it('answers the value read, ok', async () => {
    const read = new ScrapeRead(async () => 42, 1_000, 0);
    expect(await read.current()).toEqual({ value: 42, ok: true });
  });

  it('answers by its deadline when the store does not, not ok, with the last value; one read in flight', async () => {
    let reads = 0;
    let hang = false;
    const read = new ScrapeRead(
      () => {
        reads++;
        return hang ? new Promise<number>(() => {}) : Promise.resolve(reads);
      },
      50,
      0,
    );
    expect(await read.current()).toEqual({ value: 1, ok: true });
    hang = true;
    expect(await read.current()).toEqual({ value: 1, ok: false });
    // The hung read is still out: a later scrape waits on it again rather than piling up another.
    expect(await read.current()).toEqual({ value: 1, ok: false });
    expect(reads).toBe(2);
  });

  it('keeps the last value, not ok, when a read fails, and is ok again once one succeeds', async () => {
    let fail = false;
    let n = 0;
    const read = new ScrapeRead(
      () => (fail ? Promise.reject(new Error('down')) : Promise.resolve(++n)),
      1_000,
      0,
    );
    expect(await read.current()).toEqual({ value: 1, ok: true });
    fail = true;
    expect(await read.current()).toEqual({ value: 1, ok: false });
    fail = false;
    expect(await read.current()).toEqual({ value: 2, ok: true });
  });

  it('serves every scrape from one outcome while it is fresh, and shares one read between concurrent scrapes', async () => {
    let reads = 0;
    const read = new ScrapeRead(async () => ++reads, 1_000, 60_000);
    const together = await Promise.all([read.current(), read.current(), read.current()]);
    expect(together.map((v) => v.value)).toEqual([1, 1, 1]);
    expect(await read.current()).toEqual({ value: 1, ok: true });
    expect(reads).toBe(1);
  });

  it('treats a read that throws at once like one that fails', async () => {
    const read = new ScrapeRead<number>(
      () => {
        throw new Error('no connection');
      },
      1_000,
      0,
    );
    expect(await read.current()).toEqual({ value: undefined, ok: false });
  });
});
