import { fnv1a32 } from '../../store/keys.js';
import { KeyList } from './key-list.js';
import { type KeyParts, keyOf } from './txn-record.js';

/**
 * The keys of an actor's records that left memory (evicted to keep its
 * record map bounded) and are only in the account log, grouped in
 * generations by when they left, so the set forgets them once they are past
 * the dedupe window: memory stays bounded by rate x window even for an actor
 * that never goes idle, and the records past the window are deleted from
 * Redis (before, they stayed there until the actor was next activated).
 *
 * A lookup is by 32-bit fingerprint (FNV-1a over the key's parts, kept
 * as a signed integer so a Set holds it inline): a key whose fingerprint is
 * here may be in Redis and is read before deciding; a collision costs one
 * needless read, never a wrong answer. The keys themselves, needed only to
 * delete their records when the generation expires, are kept in parts,
 * packed (KeyList): no string or object per key. A generation is dropped only when its
 * newest record is past the window, so no key in the window is forgotten.
 *
 * Records that must outlive the window (open holds, which hold expiry and
 * completions still need, and adjustments, kept forever) are carried into
 * the current generation instead of being dropped, unless their record came
 * back into memory since (memory then governs it, and a later eviction
 * files it again with its state then): each such return is counted, and
 * cancels the one entry its eviction filed.
 *
 * The keys of all actors of one owner share a budget (ledger.evictedKeysMax).
 * When it is spent, an actor evicting a record goes blind: the key is not
 * filed, and until that record is past the window every key of that actor
 * not in memory is read from Redis (a new key costs a round trip that finds
 * nothing; an answer is never wrong). Kept keys are always filed: forgetting
 * an open hold would answer its completion 25. Records that left blind are
 * deleted from Redis at the actor's next activation.
 */
export class EvictedKeys {
  private readonly generations: Generation[] = [];
  private count = 0;
  /** Kept keys read back into memory since they were filed, by key (at most one entry each cancels). */
  private readonly returned = new Map<string, number>();
  /** Until when every key not in memory must be read (0: not blind). */
  private blindUntilMs = 0;
  /** One generation's time span: an eighth of the window, at least 1 s. */
  private readonly spanMs: number;

  /** Set when the actor left memory: its keys went back to the budget, and it files no more. */
  private released = false;

  constructor(
    private readonly windowMs: number,
    private readonly budget: EvictedKeysBudget,
  ) {
    this.spanMs = Math.max(1_000, Math.floor(windowMs / 8));
  }

  /** The actor leaves memory: its keys go back to the owner's budget. */
  release(): void {
    this.budget.used -= this.count;
    this.count = 0;
    this.generations.length = 0;
    this.returned.clear();
    this.released = true;
  }

  /** Evicted keys remembered (carried keys counted again after each carry). */
  get size(): number {
    return this.count;
  }

  /** True when some key not in memory may be in Redis (so lookups are needed at all). */
  get active(): boolean {
    return this.count > 0 || this.blindUntilMs > 0;
  }

  /** True when `key` may be in Redis only (fingerprint match, or blind). */
  mayHave(key: KeyParts, nowMs: number): boolean {
    return this.mayHaveFingerprint(fingerprintOf(key), nowMs);
  }

  /** mayHave() of a transaction's key, from its parts (no object per lookup). */
  mayHaveTxn(institution: string, stan: number, time: number, nowMs: number): boolean {
    return this.mayHaveFingerprint(txnFingerprint(institution, stan, time), nowMs);
  }

  private mayHaveFingerprint(fp: number, nowMs: number): boolean {
    if (this.blindUntilMs > 0) {
      if (nowMs < this.blindUntilMs) return true;
      this.blindUntilMs = 0;
    }
    for (const g of this.generations) if (g.fingerprints.has(fp)) return true;
    return false;
  }

  /**
   * Files an evicted record: `atMs` is when it was recorded (what the window
   * counts from), `keep` says it must survive the window (open hold, adjustment).
   */
  add(key: KeyParts, atMs: number, keep: boolean, nowMs: number): void {
    if (this.released) return;
    if (!keep && this.budget.used >= this.budget.max) {
      this.blindUntilMs = Math.max(this.blindUntilMs, atMs + this.windowMs);
      return;
    }
    let current = this.generations[this.generations.length - 1];
    if (current === undefined || nowMs - current.openedAtMs >= this.spanMs) {
      current = {
        openedAtMs: nowMs,
        newestAtMs: 0,
        fingerprints: new Set(),
        dropKeys: new KeyList(),
        keepKeys: undefined,
      };
      this.generations.push(current);
    }
    current.fingerprints.add(fingerprintOf(key));
    if (atMs > current.newestAtMs) current.newestAtMs = atMs;
    if (keep) {
      current.keepKeys ??= new KeyList();
      current.keepKeys.push(key);
    } else current.dropKeys.push(key);
    this.count++;
    this.budget.used++;
  }

  /** A kept record (open hold, adjustment) was read back into memory: its filed entry is stale. */
  returnedKept(key: string): void {
    this.returned.set(key, (this.returned.get(key) ?? 0) + 1);
  }

  /** True when the oldest generation is wholly past `cutoffMs` (a cheap check per turn). */
  due(cutoffMs: number): boolean {
    const oldest = this.generations[0];
    return oldest !== undefined && oldest !== this.generations[this.generations.length - 1]
      ? oldest.newestAtMs < cutoffMs
      : false;
  }

  /**
   * Drops the generations wholly past `cutoffMs` (never the current one) and
   * returns the keys to delete from Redis. `inMemory(key)` says the record is
   * back in the actor's map: it is neither deleted here nor carried.
   */
  expire(cutoffMs: number, nowMs: number, inMemory: (key: KeyParts) => boolean): string[] {
    const deleted: string[] = [];
    const carried: KeyParts[] = [];
    while (this.due(cutoffMs)) {
      const g = this.generations.shift()!;
      const keep = g.keepKeys;
      const dropped = g.dropKeys.length + (keep?.length ?? 0);
      this.count -= dropped;
      this.budget.used -= dropped;
      for (let i = 0; i < g.dropKeys.length; i++) {
        const key = g.dropKeys.at(i);
        if (!inMemory(key)) deleted.push(keyOf(key));
      }
      for (let i = 0; i < (keep?.length ?? 0); i++) {
        const key = keep!.at(i);
        const text = keyOf(key);
        const returns = this.returned.get(text);
        if (returns !== undefined) {
          if (returns > 1) this.returned.set(text, returns - 1);
          else this.returned.delete(text);
        } else if (!inMemory(key)) carried.push(key);
      }
    }
    // Carried keys keep no record time of their own here: filed as of now, they are looked at again a window later.
    for (const key of carried) this.add(key, nowMs, true, nowMs);
    return deleted;
  }
}

/** Evicted keys filed by all actors of one owner, against its limit. */
export interface EvictedKeysBudget {
  used: number;
  readonly max: number;
}

interface Generation {
  readonly openedAtMs: number;
  /** The newest record time filed here: the generation is past the window when this is. */
  newestAtMs: number;
  readonly fingerprints: Set<number>;
  /** Keys to delete from Redis when the generation is dropped. */
  readonly dropKeys: KeyList;
  /** Keys carried into the current generation when it is dropped (created by the first). */
  keepKeys: KeyList | undefined;
}

const FNV_PRIME = 0x01000193;

/**
 * A key's 32-bit FNV-1a fingerprint over its parts (the institution's
 * characters, then stan and the time's two 32-bit halves), as a signed
 * integer: a V8 small integer, which a Set holds inline (an unsigned value
 * of 2^31 or more would be a heap number of its own).
 */
export function fingerprintOf(key: KeyParts): number {
  return key.refKey !== undefined
    ? fnv1a32(key.refKey) | 0
    : txnFingerprint(key.institution, key.stan, key.time);
}

function txnFingerprint(institution: string, stan: number, time: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < institution.length; i++) {
    hash ^= institution.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  hash = Math.imul(hash ^ stan, FNV_PRIME);
  const high = Math.floor(time / 0x1_0000_0000);
  hash = Math.imul(hash ^ (time - high * 0x1_0000_0000), FNV_PRIME);
  hash = Math.imul(hash ^ high, FNV_PRIME);
  return hash | 0;
}
