import { describe, expect, it } from 'vitest';
import {
  AUTH_CODE_BLOCK,
  AUTH_CODE_SPACE,
  AuthCodeSource,
  createAuthCodeGenerator,
} from '../../src/runtime/auth-code.js';
import { createRrnGenerator } from '../../src/runtime/rrn.js';
import { codeString } from '../../src/util/code-source.js';
import { SeededRng } from '../helpers/seeded-rng.js';

/** The generators' layouts, written the plain way (toString(36)): what the table-driven ones must equal. */
const b36 = (value: number, width: number): string => value.toString(36).toUpperCase().padStart(width, '0');

describe('authCode generator', () => {
  it('equals the plain layout (6 base-36 digits of block x 1,000,000 + n) across pair, block and wrap boundaries', () => {
    // Seeded: SWITCHYARD_SEED=<int> replays a run; the seed is in every failure message.
    const seed = Number(process.env['SWITCHYARD_SEED'] ?? 20_261_126);
    const rng = new SeededRng(seed);
    const blocks = Math.floor(AUTH_CODE_SPACE / AUTH_CODE_BLOCK);
    // Random blocks, and the last block before the space wraps (its successor is block 0's codes).
    for (const first of [blocks - 1, ...Array.from({ length: 4 }, () => rng.int(0, 5_000))]) {
      const next = createAuthCodeGenerator(first);
      for (let i = 0; i < AUTH_CODE_BLOCK + 3_000; i++) {
        const code = next();
        // Every 997th, and all around the block edge, written the plain way.
        if (i % 997 !== 0 && Math.abs(i - AUTH_CODE_BLOCK) > 1_500) continue;
        const block = (first + Math.floor(i / AUTH_CODE_BLOCK)) % blocks;
        expect(code, `seed ${seed} first block ${first} i ${i}`).toBe(
          b36(block * AUTH_CODE_BLOCK + (i % AUTH_CODE_BLOCK), 6),
        );
      }
    }
  });

  /** A Redis counter's INCR, in memory: each call leases the next block number. */
  function counter(): { lease: () => Promise<number>; calls: () => number } {
    let value = 0;
    return { lease: async () => ++value, calls: () => value };
  }

  it('two sources leasing from one counter never hand out the same code, and lease once per block', async () => {
    const { lease, calls } = counter();
    const a = await AuthCodeSource.leased(lease);
    const b = await AuthCodeSource.leased(lease);
    // Each code as its base-36 value (one-to-one for 6 uppercase base-36 digits): a Set of
    // 7 million numbers instead of 7 million strings, a fraction of the time and memory.
    const seen = new Set<number>();
    const take = (source: AuthCodeSource): void => {
      source.next();
      seen.add(Number.parseInt(codeString(source.head, source.tail), 36));
    };
    const rounds = Math.floor(AUTH_CODE_BLOCK * 3.5);
    for (let i = 0; i < rounds; i++) {
      take(a);
      take(b);
      // Let the leases answer now and then, as Redis would between batches.
      if (i % 100_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(seen.size).toBe(2 * rounds);
    // Two first blocks, then one lease per source at each half block: 3 more each.
    expect(calls()).toBe(2 + 2 * 3);
    // 7 million codes: seconds alone, but it timed out at the default 30 s once with other
    // CPU-heavy processes on the machine. The bound is for a hang, not for speed.
  }, 120_000);

  it('goes on into the next block number, and says so, when the next block is not leased in time', async () => {
    let answer: ((block: number) => void) | undefined;
    let fail = true;
    const lease = (): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        if (fail) {
          fail = false;
          reject(new Error('redis down'));
        } else answer = resolve;
      });
    let overruns = 0;
    const source = new AuthCodeSource(40, lease, () => overruns++);
    const codes: string[] = [];
    const take = (n: number): void => {
      for (let i = 0; i < n; i++) {
        source.next();
        codes.push(codeString(source.head, source.tail));
      }
    };
    take(AUTH_CODE_BLOCK); // the lease at half fails
    await new Promise((resolve) => setImmediate(resolve));
    take(1);
    expect(overruns).toBe(1);
    expect(codes.at(-1)).toBe(b36(41 * AUTH_CODE_BLOCK, 6));
    take(AUTH_CODE_BLOCK - 1); // asked again at this block's half; answered below
    answer!(900);
    await new Promise((resolve) => setImmediate(resolve));
    take(1);
    expect(overruns).toBe(1);
    expect(codes.at(-1)).toBe(b36(900 * AUTH_CODE_BLOCK, 6));
  });
});

describe('rrn generator layout', () => {
  it('equals the plain layout (6-digit second, 2-digit source, 4-digit sequence)', () => {
    const now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const second = Math.floor((now - Date.UTC(2024, 0, 1)) / 1000);
    const next = createRrnGenerator(77, () => now);
    for (let seq = 0; seq < 36 ** 4; seq++) {
      const rrn = next();
      if (seq % 997 === 0 || seq < 1300) expect(rrn).toBe(b36(second, 6) + b36(77, 2) + b36(seq, 4));
    }
    // The next one borrows the next second.
    expect(next()).toBe(`${b36(second + 1, 6) + b36(77, 2)}0000`);
  });

  it('starts the sequence over, mid-block, when the clock moves to a new second', () => {
    let now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const second = Math.floor((now - Date.UTC(2024, 0, 1)) / 1000);
    const next = createRrnGenerator(3, () => now);
    for (let seq = 0; seq < 1400; seq++) expect(next()).toBe(b36(second, 6) + b36(3, 2) + b36(seq, 4));
    now += 1000;
    for (let seq = 0; seq < 1400; seq++) expect(next()).toBe(b36(second + 1, 6) + b36(3, 2) + b36(seq, 4));
    // A caller's clock reading (the ledger's batch time) is used instead of the generator's clock.
    expect(next(now + 5000)).toBe(`${b36(second + 6, 6) + b36(3, 2)}0000`);
  });
});
