/**
 * A minimal typed emitter: one argument per event, listeners in registration
 * order. Unlike node:events, an 'error' with no listener is dropped rather
 * than thrown: the SDK reports background trouble (a failed reconnect) that a
 * caller may reasonably not care about, and must never crash a host for it.
 */
export class TypedEmitter<EventMap extends Record<keyof EventMap, unknown>> {
  private readonly listeners = new Map<keyof EventMap, Array<(arg: never) => void>>();

  on<E extends keyof EventMap>(event: E, listener: (arg: EventMap[E]) => void): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as (arg: never) => void);
    this.listeners.set(event, list);
    return this;
  }

  off<E extends keyof EventMap>(event: E, listener: (arg: EventMap[E]) => void): this {
    const list = this.listeners.get(event);
    if (list === undefined) return this;
    const index = list.indexOf(listener as (arg: never) => void);
    if (index >= 0) list.splice(index, 1);
    return this;
  }

  emit<E extends keyof EventMap>(event: E, arg: EventMap[E]): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    // A copy: a listener may remove itself while we iterate.
    for (const listener of [...list]) (listener as (arg: EventMap[E]) => void)(arg);
  }
}
