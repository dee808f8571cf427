import { EvictedKeys, type EvictedKeysBudget } from '../records/evicted-keys.js';
import { LiveRecords } from '../records/live-records.js';
import type { WarmRef, WorkItem } from '../worker/worker-protocol.js';
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
 *
 * An account has one ref in Redis, but may be named by others while a
 * token key rotates (docs/security.md "Rotation"): the PAN's ref under the
 * previous token key, and the ref a re-key moved it from. The cache finds
 * the one actor by any of them (aliases), so an account never gets two.
 */
export class ActorCache {
  /** By ref, in LRU order: every actor, whatever brought it in. */
  private readonly actors = new Map<string, Actor>();
  /** By the other refs an actor is known by (Actor.aliases). */
  private readonly aliases = new Map<string, Actor>();
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

  /** Up to `max` actors that traffic brought in (not a background pass alone), most recently used first. */
  hotRefs(max: number): WarmRef[] {
    const out: WarmRef[] = [];
    const all = [...this.actors.values()];
    for (let i = all.length - 1; i >= 0 && out.length < max; i--) {
      const actor = all[i]!;
      if (!actor.backgroundOnly && actor.status === 'ready') out.push({ shard: actor.shard, ref: actor.ref });
    }
    return out;
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

  /** The actor in memory for `ref` (or an alias of it), counted as a use; undefined when it must be created (and loaded). */
  useRef(ref: string): Actor | undefined {
    const actor = this.holderOf(ref);
    if (actor !== undefined) this.touch(actor);
    return actor;
  }

  /** The actor `ref` names (its ref or an alias), without counting a use. */
  holderOf(ref: string): Actor | undefined {
    return this.actors.get(ref) ?? this.aliases.get(ref);
  }

  /** From now on `pan` finds `actor` (brought in by its ref, or by another key's ref). */
  nameByPan(actor: Actor, pan: string): void {
    actor.pan = pan;
    this.byPan.set(pan, actor);
  }

  /** From now on `ref` finds `actor` too (the caller checked that it names no other actor). */
  alsoKnownAs(actor: Actor, ref: string): void {
    if (ref === actor.ref || this.aliases.get(ref) === actor) return;
    this.aliases.set(ref, actor);
    actor.aliases.push(ref);
  }

  /** `ref` no longer finds `actor` (a fallback the load did not need). */
  forget(actor: Actor, ref: string): void {
    if (this.aliases.get(ref) !== actor) return;
    this.aliases.delete(ref);
    actor.aliases.splice(actor.aliases.indexOf(ref), 1);
  }

  /**
   * The account of `actor` lives at `ref` from now on (its load found it
   * there, or a re-key moves it there): `ref` becomes its own, its old ref
   * an alias. The caller checked that `ref` names no other actor.
   */
  rebind(actor: Actor, ref: string): void {
    if (ref === actor.ref) return;
    this.forget(actor, ref);
    const old = actor.ref;
    this.actors.delete(old);
    actor.ref = ref;
    // The key is built again from the new ref by whatever next reads or writes the log.
    actor.accountKey = undefined;
    this.actors.set(ref, actor);
    this.alsoKnownAs(actor, old);
  }

  /**
   * `from`, still loading (nothing decided by it), turned out to be the
   * account `into` holds: `into` takes its PAN and refs, and `from` leaves
   * memory. Returns the work that waited in `from`'s mailbox, for the caller
   * to hand to `into`.
   */
  merge(from: Actor, into: Actor): WorkItem[] {
    const waiting = [...from.mailbox.clear()];
    if (from.head !== undefined) waiting.unshift(from.head);
    from.head = undefined;
    const pan = from.pan;
    const refs = [from.ref, ...from.aliases];
    this.drop(from);
    if (pan !== undefined) this.nameByPan(into, pan);
    for (const ref of refs) if (this.holderOf(ref) === undefined) this.alsoKnownAs(into, ref);
    if (!from.backgroundOnly) into.backgroundOnly = false;
    return waiting;
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
    for (const ref of actor.aliases) if (this.aliases.get(ref) === actor) this.aliases.delete(ref);
    actor.aliases.length = 0;
    if (actor.pan !== undefined && this.byPan.get(actor.pan) === actor) this.byPan.delete(actor.pan);
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
      if (actor.status === 'loading' || busy.has(actor.batchId) || hasForwards(actor)) continue;
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
      if (actor.status === 'loading' || busy.has(actor.batchId) || hasForwards(actor)) return true;
      this.drop(actor);
      return false;
    });
  }
}

/** An actor with forwards pending stays in memory: their answers are decided on it (docs/issuers.md). */
function hasForwards(actor: Actor): boolean {
  return actor.forwards !== undefined && actor.forwards.length > 0;
}
