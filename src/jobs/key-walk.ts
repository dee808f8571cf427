import type { Redis } from 'ioredis';

/** Keys asked of Redis per SCAN step at most (a hint: Redis may return more or fewer). */
const SCAN_COUNT_MAX = 200;

export interface KeyWalkOptions<T> {
  readonly connection: Redis;
  /** Where the SCAN cursor is saved after every step (keys.rotationCursor). */
  readonly cursorKey: string;
  /** SCAN MATCH pattern of the keys walked (keys.accountPattern, keys.accountAliasPattern). */
  readonly pattern: string;
  /** What a key found names, or undefined to pass over it (another kind of key, or nothing to do). */
  readonly select: (key: string) => T | undefined;
  /**
   * Handles one step's selected keys; resolves with how many could not be
   * handled now (asked again in another cycle). Resolved only once what it
   * did is durable: the cursor moves past them after it.
   */
  readonly visit: (selected: T[]) => Promise<number>;
  /** Keys handed to `visit` per second, at most (ledger.rotationAccountsPerSecondMax). */
  readonly perSecondMax: number;
  /** Asked between steps: true ends the walk there, its cursor saved (the job goes on from it later). */
  readonly interrupted: () => boolean;
}

export interface KeyWalkEnd {
  /** The walk went round the whole keyspace (false: interrupted; the cursor is saved). */
  readonly done: boolean;
  /** The cursor it started from ('0': the start of a cycle). */
  readonly resumedFrom: string;
  readonly visited: number;
  /** Keys `visit` could not handle: a done walk with retries needs another cycle. */
  readonly retries: number;
}

/**
 * One cycle of SCAN over a kind of keys, going on from the cursor saved in
 * Redis (so a job killed or stopped midway resumes where it stopped, and at
 * most one step is repeated, which the visits must tolerate), at a bounded
 * rate so a walk over millions of accounts leaves room for live traffic.
 * SCAN returns every key that exists for the whole cycle at least once; a
 * key created during it may be missed (the jobs ensure none they care about
 * can be: key-rotation.ts). The cursor key is deleted at the cycle's end.
 */
export async function walkKeys<T>(o: KeyWalkOptions<T>): Promise<KeyWalkEnd> {
  const { connection } = o;
  const resumedFrom = (await connection.get(o.cursorKey)) ?? '0';
  const count = Math.max(1, Math.min(SCAN_COUNT_MAX, o.perSecondMax));
  let cursor = resumedFrom;
  let visited = 0;
  let retries = 0;
  do {
    if (o.interrupted()) return { done: false, resumedFrom, visited, retries };
    const stepStartedMs = performance.now();
    const [next, found] = await connection.scan(cursor, 'MATCH', o.pattern, 'COUNT', count);
    const selected: T[] = [];
    for (const key of found) {
      const item = o.select(key);
      if (item !== undefined) selected.push(item);
    }
    if (selected.length > 0) retries += await o.visit(selected);
    visited += selected.length;
    cursor = next;
    await connection.set(o.cursorKey, cursor);
    // Paced by what was handed on: a step over keys with nothing to do costs only the SCAN.
    await paceStep(stepStartedMs, selected.length, o.perSecondMax);
  } while (cursor !== '0');
  await connection.del(o.cursorKey);
  return { done: true, resumedFrom, visited, retries };
}

/**
 * Waits out the rest of a step that handled `handled` items, begun at
 * `stepStartedMs` (performance.now()), so a walk handles at most
 * `perSecondMax` items a second.
 */
export async function paceStep(stepStartedMs: number, handled: number, perSecondMax: number): Promise<void> {
  const dueMs = (handled * 1_000) / perSecondMax - (performance.now() - stepStartedMs);
  if (dueMs > 0) await delay(dueMs);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
