import { describe, expect, it } from 'vitest';
import { memoryReducerOff } from '../../src/runtime/gc-tuning.js';

describe('memoryReducerOff', () => {
  it('finds the flag in either of V8 spellings, and only that flag', () => {
    expect(memoryReducerOff(['--no-memory-reducer'])).toBe(true);
    expect(memoryReducerOff(['--trace-gc', '--no_memory_reducer'])).toBe(true);
    expect(memoryReducerOff([])).toBe(false);
    expect(memoryReducerOff(['--memory-reducer', '--no-memory-reducer-for-small-heaps'])).toBe(false);
  });
});
