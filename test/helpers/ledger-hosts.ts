/**
 * The two ways the ledger's shard owners can run (src/ledger/ledger-host.ts):
 * worker threads (the default) and inline on the main thread
 * (`ledger.inline`). Suites that must hold for both iterate over this.
 */
export const LEDGER_HOSTS = [
  { mode: 'ledger on worker threads', inline: false },
  { mode: 'inline ledger (ledger.inline)', inline: true },
] as const;
