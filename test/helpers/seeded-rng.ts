/**
 * A small deterministic generator for randomised tests (mulberry32). Every randomised test takes
 * its seed from here so a failure can be replayed: print `seed` at start and on failure.
 */
export class SeededRng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** One of `choices` with probability proportional to its weight. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    const total = choices.reduce((sum, [, w]) => sum + w, 0);
    let at = this.next() * total;
    for (const [value, weight] of choices) {
      at -= weight;
      if (at < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }
}

/**
 * The seed for this run: `SWITCHYARD_SEED` when set (decimal or 0x hex), else `fallback`.
 * Throws on a malformed value rather than silently running another seed.
 */
export function seedFromEnv(fallback: number, name = 'SWITCHYARD_SEED'): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback >>> 0;
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new Error(`${name} must be an integer in 0..2^32-1, got ${JSON.stringify(raw)}`);
  }
  return value >>> 0;
}
