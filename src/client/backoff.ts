import type { ReconnectPolicy } from './options.js';

/**
 * Delay before reconnect attempt `attempt` (0 = the first after a drop):
 * exponential (initial * 2^attempt, capped at max) with "equal jitter": half
 * the step is fixed, half random. The fixed half keeps a lower bound that
 * grows, so a dead switch is not hammered; the random half spreads a fleet of
 * hosts that all lost the switch at the same instant.
 */
export function backoffDelayMs(attempt: number, policy: ReconnectPolicy, random01: () => number): number {
  // 2^31 overflows nothing in float math, and any cap is reached long before it.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 31);
  const stepMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
  const halfMs = stepMs / 2;
  const jitter = Math.min(Math.max(random01(), 0), 1);
  return Math.round(halfMs + jitter * halfMs);
}
