import { EvictedKeys, type EvictedKeysBudget } from '../records/evicted-keys.js';
import { LiveRecords } from '../records/live-records.js';
import { Actor } from './actor.js';

export interface ActorCacheOptions {
  /** Actors kept in memory; idle ones beyond it are passivated, least recently used first. */
  readonly actorsMax: number;
  readonly dedupeWindowMs: number;
  /** Evicted keys filed for all actors (EvictedKeys); past it they go blind. */
  readonly evictedKeysMax: number;
}

/**
 * The actors of one shard owner in memory, by ref in least-recently-used
 * order, and by PAN for those a PAN has named (so a transaction finds its
 * actor with no hash), and their passivation: idle actors beyond actorsMax,
 * and the actors the record sweep alone brought in, leave memory (their
 * state is in Redis) once no unreleased batch needs them.
 */
export class ActorCache {
  /** By ref, in LRU order: every actor, whatever brought it in. */
  private readonly actors = new Map<string, Actor>();
  /** By PAN: the actors a PAN has named. */
  private readonly byPan = new Map<string, Actor>();
  /** Actor uses so far; an actor's touchedAt is this count when it last moved to the LRU's back. */
  private touches = 0;
  /** How stale an actor's LRU position may get (actorsMax / 8 uses) before a use moves it. */
  private readonly recencySlack: number;
  /** Actors brought into memory by a background pass only: dropped once its turn is durable (passivateSwept). */
  private swept: Actor[] = [];
  /** Evicted keys filed by this owner's actors (returned when an actor leaves memory). */
  private readonly evictedBudget: EvictedKeysBudget;
  /** The records this owner's open and committing batches decided, not yet sealed (RecordIndex). */
  readonly live = new LiveRecords();

  constructor(private readonly o: ActorCacheOptions) {
    this.evictedBudget = { used: 0, max: o.evictedKeysMax };
    this.recencySlack = Math.floor(o.actorsMax / 8);
  }

  get size(): number {
    return this.actors.size;
  }

  /** Evicted keys filed now (against evictedKeysMax). */
  get evictedKeys(): number {
    return this.evictedBudget.used;
  }

  /** Whether `actor` is still the one in memory for its ref (not dropped meanwhile). */
  isCurrent(actor: Actor): boolean {
    return this.actors.get(actor.ref) === actor;
  }

  /** The actor in memory for `pan`, if any, without counting a use (inspection). */
  peek(pan: string): Actor | undefined {
    return this.byPan.get(pan);
  }

  /** The actor in memory for `pan`, counted as a use; undefined when the PAN has not named one yet. */
  use(pan: string): Actor | undefined {
    const actor = this.byPan.get(pan);
    if (actor !== undefined) this.touch(actor);
    return actor;
  }

  /** The actor in memory for `ref`, counted as a use; undefined when it must be created (and loaded). */
  useRef(ref: string): Actor | undefined {
    const actor = this.actors.get(ref);
    if (actor !== undefined) this.touch(actor);
    return actor;
  }

  /** From now on `pan` finds `actor` (brought in by its ref, or by another key's ref). */
  nameByPan(actor: Actor, pan: string): void {
    actor.pan = pan;
    this.byPan.set(pan, actor);
  }

  private touch(actor: Actor): void {
    if (this.touches - actor.touchedAt > this.recencySlack) {
      // Map order is recency order: re-insert on use (LRU passivation). Only when the actor
      // was not moved to the back within the last recencySlack uses: a hot account does not
      // pay a Map delete + insert per message, and the order is off by at most that many uses.
      this.actors.delete(actor.ref);
      this.actors.set(actor.ref, actor);
      actor.touchedAt = this.touches;
    }
    this.touches++;
  }

  /**
   * A new actor, status loading, for the account at (shard, ref), named by
   * `pan` when a PAN brought it in; `backgroundOnly` when a background pass
   * (record sweep, re-seal) alone wants it.
   */
  create(pan: string | undefined, shard: number, ref: string, backgroundOnly: boolean): Actor {
    const actor = new Actor(
      pan,
      shard,
      ref,
      new EvictedKeys(this.o.dedupeWindowMs, this.evictedBudget),
      this.live,
    );
    actor.touchedAt = this.touches++;
    this.actors.set(ref, actor);
    if (pan !== undefined) this.byPan.set(pan, actor);
    if (backgroundOnly) {
      actor.backgroundOnly = true;
      this.swept.push(actor);
    }
    return actor;
  }

  /** An actor leaves memory (its state is in Redis); its evicted keys go back to the budget. */
  drop(actor: Actor): void {
    if (this.actors.get(actor.ref) !== actor) return;
    this.actors.delete(actor.ref);
    if (actor.pan !== undefined) this.byPan.delete(actor.pan);
    actor.evicted.release();
    actor.records.release();
  }

  /**
   * Drops idle actors beyond actorsMax, least recently used first, none in a
   * busy batch (`busyBatches` is asked only when there is something to drop).
   */
  passivateIdle(busyBatches: () => ReadonlySet<number>): void {
    let excess = this.actors.size - this.o.actorsMax;
    if (excess <= 0) return;
    const busy = busyBatches();
    for (const actor of this.actors.values()) {
      if (excess <= 0) break;
      if (actor.status === 'loading' || busy.has(actor.batchId)) continue;
      this.drop(actor);
      excess--;
    }
  }

  /** Whether background passes brought actors in that may leave again. */
  get hasSwept(): boolean {
    return this.swept.length > 0;
  }

  /**
   * Drops the actors background passes (record sweep, re-seal) brought into
   * memory, once their turn is durable (called as batches are released),
   * unless other work used them meanwhile: a pass over idle accounts must
   * not push the busy ones out of memory.
   */
  passivateSwept(busy: ReadonlySet<number>): void {
    this.swept = this.swept.filter((actor) => {
      if (!actor.backgroundOnly || this.actors.get(actor.ref) !== actor) return false;
      if (actor.status === 'loading' || busy.has(actor.batchId)) return true;
      this.drop(actor);
      return false;
    });
  }
}
