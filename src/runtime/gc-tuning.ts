import { setFlagsFromString } from 'node:v8';

let tuned = false;

/**
 * Turns off V8's allocation-site pretenuring for this process (worker
 * threads included: V8's flags are per process), once, before the switch
 * takes traffic.
 *
 * V8 watches each object literal's allocation site and, when a young
 * collection finds most of a site's recent objects alive, allocates all of
 * that site's later objects straight into the old generation. A switch's
 * per-message objects (the request, its context, a pending entry) live for
 * one round trip, but under a deep closed-loop pipeline (a warm-up, a
 * burst) thousands are alive at once, so their sites were pretenured; from
 * then on every message left its objects as old garbage, at every load.
 * At 5,000/s that was about 1.5 KB a message: a mark-compact every few
 * seconds and scavenges twice as long, the p99 at moderate load
 * (docs/performance-log.md, "Latency at moderate load"). Change 30 there
 * met the same mechanism for records and answered it with a class; this
 * answers it for every site at once.
 */
export function disablePretenuring(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
}
