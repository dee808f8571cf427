import { type KeyParts, refKeyParts } from './txn-record.js';

const CAPACITY_FIRST = 4;

/**
 * Record keys kept in parts, packed: the institution (a reference to the
 * session's string), stan and time in typed arrays, and the rare reference
 * keys (adjustments) by position. No object per key: evicted keys are kept
 * for a whole dedupe window, and as strings they were ~60 bytes and one
 * object each for the collector to visit (docs/performance-log.md).
 */
export class KeyList {
  private institutions: string[] = [];
  private stans = new Int32Array(CAPACITY_FIRST);
  private times = new Float64Array(CAPACITY_FIRST);
  /** Reference keys by position (most lists have none). */
  private refKeys: Map<number, string> | undefined;
  length = 0;

  push(key: KeyParts): void {
    const i = this.length;
    if (i === this.stans.length) this.grow();
    if (key.refKey !== undefined) {
      this.refKeys ??= new Map();
      this.refKeys.set(i, key.refKey);
      this.institutions.push('');
    } else this.institutions.push(key.institution);
    this.stans[i] = key.stan;
    this.times[i] = key.time;
    this.length = i + 1;
  }

  /** The key at `i` (a new object: read when a generation expires, not per message). */
  at(i: number): KeyParts {
    const refKey = this.refKeys?.get(i);
    return refKey !== undefined
      ? refKeyParts(refKey)
      : { institution: this.institutions[i]!, stan: this.stans[i]!, time: this.times[i]!, refKey: undefined };
  }

  private grow(): void {
    const stans = new Int32Array(this.stans.length * 2);
    stans.set(this.stans);
    this.stans = stans;
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
  }
}
