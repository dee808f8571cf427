import { describe, expect, it } from 'vitest';
import { RingQueue } from '../../src/util/ring-queue.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';

/** Every item from the front to the back, read through `at` (which must not disturb the queue). */
function contents<T>(queue: RingQueue<T>): T[] {
  const out: T[] = [];
  for (let i = 0; i < queue.length; i++) out.push(queue.at(i) as T);
  return out;
}

describe('RingQueue', () => {
  it('starts empty: length 0, shift and at give undefined', () => {
    const queue = new RingQueue<number>();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    expect(queue.at(0)).toBeUndefined();
    expect(queue.clear()).toEqual([]);
  });

  it('shifts in the order pushed, and length follows', () => {
    const queue = new RingQueue<string>();
    for (const item of ['a', 'b', 'c']) queue.push(item);
    expect(queue.length).toBe(3);
    expect(queue.shift()).toBe('a');
    expect(queue.length).toBe(2);
    queue.push('d');
    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual(['b', 'c', 'd']);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it('unshift puts an item at the front, wrapping below slot 0 and growing when full', () => {
    const queue = new RingQueue<number>(2);
    queue.push(2);
    queue.unshift(1); // head wraps from slot 0 to the buffer's last slot
    expect(contents(queue)).toEqual([1, 2]);
    queue.unshift(0); // full: grows, then goes to the front
    queue.push(3);
    expect(queue.length).toBe(4);
    expect(queue.clear()).toEqual([0, 1, 2, 3]);
  });

  it('grows past its initial capacity while wrapped around, keeping the order', () => {
    const queue = new RingQueue<number>(4);
    // Move the head to the middle of the buffer so the next pushes wrap past its end.
    for (let i = 0; i < 3; i++) queue.push(-1);
    for (let i = 0; i < 3; i++) queue.shift();
    for (let i = 0; i < 4; i++) queue.push(i); // fills the buffer, wrapped: slots 3, 0, 1, 2
    expect(contents(queue)).toEqual([0, 1, 2, 3]);
    for (let i = 4; i < 11; i++) queue.push(i); // two growths: 4 -> 8 -> 16
    expect(queue.length).toBe(11);
    expect(contents(queue)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const shifted: number[] = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) shifted.push(item);
    expect(shifted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('grows from a capacity of one', () => {
    const queue = new RingQueue<number>(1);
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(queue.clear()).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses a capacity that could never hold an item', () => {
    expect(() => new RingQueue<number>(0)).toThrow(RangeError);
    expect(() => new RingQueue<number>(-1)).toThrow(RangeError);
    expect(() => new RingQueue<number>(2.5)).toThrow(RangeError);
  });

  it('at(i) reads the i-th item from the front; out of range is undefined', () => {
    const queue = new RingQueue<string>(2);
    queue.push('x');
    queue.push('y');
    queue.shift();
    queue.push('z'); // wrapped: 'z' sits in slot 0, before 'y' in the buffer
    expect(queue.at(0)).toBe('y');
    expect(queue.at(1)).toBe('z');
    expect(queue.at(2)).toBeUndefined();
    expect(queue.at(-1)).toBeUndefined();
    expect(queue.length).toBe(2);
  });

  it('clear() returns every item in order and leaves the queue empty and usable', () => {
    const queue = new RingQueue<number>(2);
    for (let i = 0; i < 5; i++) queue.push(i);
    queue.shift();
    expect(queue.clear()).toEqual([1, 2, 3, 4]);
    expect(queue.length).toBe(0);
    expect(queue.at(0)).toBeUndefined();
    queue.push(7);
    expect(queue.shift()).toBe(7);
  });

  it('behaves like an array under a seeded random mix of push, shift, at and clear', () => {
    const seed = seedFromEnv(0x51a7e);
    // Printed every run, so a failure's seed is in the output: SWITCHYARD_SEED=<seed> replays it.
    console.log(`ring-queue random comparison: seed ${seed}`);
    const rng = new SeededRng(seed);
    const queue = new RingQueue<number>(rng.int(1, 8));
    const model: number[] = [];
    let next = 0;
    const trace: string[] = [];
    try {
      for (let step = 0; step < 20_000; step++) {
        // Phases that lean to pushing, then to shifting, so the queue both grows and drains.
        const pushBias = Math.floor(step / 500) % 2 === 0 ? 0.7 : 0.35;
        const op = rng.weighted<'push' | 'shift' | 'at' | 'clear'>([
          ['push', pushBias],
          ['shift', 1 - pushBias],
          ['at', 0.2],
          ['clear', 0.002],
        ]);
        trace.push(op);
        if (trace.length > 20) trace.shift();
        if (op === 'push') {
          queue.push(next);
          model.push(next);
          next++;
        } else if (op === 'shift') {
          expect(queue.shift()).toBe(model.shift());
        } else if (op === 'at') {
          const i = rng.int(-1, model.length);
          expect(queue.at(i)).toBe(i >= 0 ? model[i] : undefined);
        } else {
          expect(queue.clear()).toEqual(model.splice(0));
        }
        expect(queue.length).toBe(model.length);
      }
      expect(contents(queue)).toEqual(model);
    } catch (err) {
      throw new Error(
        `ring-queue random comparison failed with seed ${seed} (replay: SWITCHYARD_SEED=${seed}); last ops ${trace.join(' ')}\n${String(err)}`,
      );
    }
  });
});
