import { setFlagsFromString } from 'node:v8';

/**
 * The node command-line flag that turns V8's memory reducer off for the
 * main thread. Only the command line can: the reducer is made when an
 * isolate is, before any of the switch's code runs. `npm start` and the
 * bench pass it; docs/operations.md says to start the switch with it.
 */
export const NODE_FLAG_NO_MEMORY_REDUCER = '--no-memory-reducer';

let tuned = false;

/**
 * Tunes V8's collector for a latency-bound server, once, before the switch
 * takes traffic. V8's flags are per process: what is set here holds for
 * every isolate made after it (the ledger's worker threads), not for the
 * main thread's, which exists already.
 *
 * - Allocation-site pretenuring off (every isolate: V8 reads it at each
 *   allocation). V8 watches each object literal's allocation site and, when
 *   a young collection finds most of a site's recent objects alive,
 *   allocates all of that site's later objects straight into the old
 *   generation. A switch's per-message objects (the request, its context, a
 *   pending entry) live for one round trip, but under a deep closed-loop
 *   pipeline (a warm-up, a burst) thousands are alive at once, so their
 *   sites were pretenured; from then on every message left its objects as
 *   old garbage, at every load. At 5,000/s that was about 1.5 KB a message:
 *   a mark-compact every few seconds and scavenges twice as long, the p99
 *   at moderate load (docs/performance-log.md, "Latency at moderate load").
 * - The memory reducer off (the worker threads' isolates; the main thread's
 *   needs NODE_FLAG_NO_MEMORY_REDUCER). It shrinks an idle page's heap: a
 *   compacting mark-compact (a 20-60 ms pause at the switch's heap) when
 *   the allocation rate looks low, and by its watchdog when no mark-compact
 *   has run for 100 s. A switch whose steady state needs no mark-compact
 *   (records off the external-memory count, src/util/unaccounted-arrays.ts)
 *   met that watchdog every ~100 s, under load.
 *
 * Whether the main thread's reducer is off: `memoryReducerOff()`.
 */
export function tuneGarbageCollector(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
  setFlagsFromString(NODE_FLAG_NO_MEMORY_REDUCER);
}

/**
 * Whether node was started with the memory reducer off (the main thread's
 * isolate), in either of V8's spellings (`--no-memory-reducer`,
 * `--no_memory_reducer`).
 */
export function memoryReducerOff(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((arg) => arg.replaceAll('_', '-') === NODE_FLAG_NO_MEMORY_REDUCER);
}
