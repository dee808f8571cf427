import { describe, expect, it } from 'vitest';
import { createRrnGenerator } from '../../src/engine/rrn.js';
import { createAuthCodeGenerator } from '../../src/ledger/auth-code.js';
import { SeededRng } from '../helpers/seeded-rng.js';

/** The generators' layouts, written the plain way (toString(36)): what the table-driven ones must equal. */
const b36 = (value: number, width: number): string => value.toString(36).toUpperCase().padStart(width, '0');

describe('authCode generator', () => {
  it('equals the plain layout (worker digit + 5-digit sequence) across block and wrap boundaries', () => {
    // Seeded: SWITCHYARD_SEED=<int> replays a run; the seed is in every failure message.
    const seed = Number(process.env['SWITCHYARD_SEED'] ?? 20_261_126);
    const rng = new SeededRng(seed);
    const space = 36 ** 5;
    // Random starts, plus starts just before a 1,296-block edge and before the wrap.
    const starts = [
      space - 3,
      1295,
      1296 * 1296 - 2,
      ...Array.from({ length: 20 }, () => rng.int(0, space - 1)),
    ];
    for (const start of starts) {
      const worker = rng.int(0, 80);
      const next = createAuthCodeGenerator(worker, start);
      let seq = start;
      for (let i = 0; i < 3_000; i++) {
        seq = (seq + 1) % space;
        expect(next(), `seed ${seed} worker ${worker} start ${start} i ${i}`).toBe(
          b36(worker % 36, 1) + b36(seq, 5),
        );
      }
    }
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
