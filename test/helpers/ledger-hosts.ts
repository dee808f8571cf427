/**
 * The two ways the ledger's shard owners can run (src/runtime/worker/ledger-host.ts):
 * worker threads (the default) and inline on the main thread
 * (`ledger.inline`).
 */
export const LEDGER_HOSTS = [
  { mode: 'ledger on worker threads', inline: false },
  { mode: 'inline ledger (ledger.inline)', inline: true },
] as const;

/**
 * Switch configurations the ledger suites must hold for: both hosts, and
 * worker threads with two records per actor in memory, so duplicates,
 * completions, reversals and expiries go through the fetch of evicted
 * records (ledger.recordsPerActorMax), found by their filed keys or, with
 * no evicted-key budget (ledger.evictedKeysMax 0), by reading every key not
 * in memory; and adaptive owners with thresholds so low and a dwell so short
 * that the owners move between the worker threads and the main thread with
 * every burst and pause of a test (ledger.adaptive).
 */
export const LEDGER_VARIANTS = [
  { mode: 'ledger on worker threads', ledger: { inline: false } },
  { mode: 'inline ledger (ledger.inline)', ledger: { inline: true } },
  { mode: 'two records per actor in memory', ledger: { inline: false, recordsPerActorMax: 2 } },
  {
    mode: 'two records per actor, no evicted keys filed',
    ledger: { inline: false, recordsPerActorMax: 2, evictedKeysMax: 0 },
  },
  {
    mode: 'adaptive owners, moving with every burst',
    ledger: {
      inline: false,
      adaptive: true,
      adaptiveInlineBelowPerSec: 20,
      adaptiveWorkersAbovePerSec: 40,
      adaptiveDwellMs: 10,
    },
  },
] as const;
