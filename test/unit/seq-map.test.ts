import { describe, expect, it } from 'vitest';
import { SeqMap } from '../../src/util/seq-map.js';

/** A seeded xorshift generator (the seed is printed, so a failure can be replayed). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe('SeqMap', () => {
  it('agrees with a Map under random sets and deletes of mostly consecutive keys, across growth', () => {
    const seed = Number(process.env.SEQ_MAP_SEED ?? Date.now() % 1_000_000);
    console.log(`seq-map seed ${seed}`);
    const random = rng(seed);
    const ours = new SeqMap<string>();
    const model = new Map<number, string>();
    let next = 2 ** 32 - 500; // crosses 2^32, where the hash's two halves meet
    for (let step = 0; step < 50_000; step++) {
      const r = random();
      if (r < 0.5) {
        const key = next++;
        ours.set(key, `v${key}`);
        model.set(key, `v${key}`);
      } else if (r < 0.9 && model.size > 0) {
        // Mostly the oldest (answers come back nearly in order), sometimes any.
        const keys = [...model.keys()];
        const key = random() < 0.8 ? keys[0]! : keys[Math.floor(random() * keys.length)]!;
        expect(ours.delete(key)).toBe(true);
        model.delete(key);
      } else {
        const key = next - 1 - Math.floor(random() * 3000);
        expect(ours.get(key)).toBe(model.get(key));
        // A key never set is not there to delete.
        expect(ours.delete(next + 10)).toBe(false);
      }
      expect(ours.size).toBe(model.size);
    }
    for (const [key, value] of model) expect(ours.get(key)).toBe(value);
    expect(ours.valuesArray().sort()).toEqual([...model.values()].sort());
    ours.set(next - 1, 'replaced');
    expect(ours.get(next - 1)).toBe('replaced');
    ours.clear();
    expect(ours.size).toBe(0);
    expect(ours.get(next - 1)).toBeUndefined();
  });

  it('refuses keys that are not non-negative safe integers', () => {
    const map = new SeqMap<number>();
    expect(() => map.set(-1, 1)).toThrow(RangeError);
    expect(() => map.set(1.5, 1)).toThrow(RangeError);
    expect(() => map.set(2 ** 53, 1)).toThrow(RangeError);
  });
});
