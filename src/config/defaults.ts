import type { SwitchConfig } from './types.js';

const MIB = 1024 * 1024;
const DAY_MS = 86_400_000;

/**
 * Built-in defaults (PROTOCOL.md sections 1-9). A config file is merged over
 * these. Every limit has a finite default. `switchId`, `admin.token`,
 * institutions and routes have no sensible default and must be configured.
 */
export const DEFAULTS = {
  listen: {},
  redis: {},
  institutions: [],
  routes: [],
  issuerTimeoutMs: 2_000,
  holdTtlMs: 7 * DAY_MS,
  dedupeWindowMs: DAY_MS,
  signonTimeoutMs: 5_000,
  heartbeatMs: 30_000,
  limits: {
    frameBytesMax: MIB,
    batchMax: 4_096,
    inflightMax: 65_536,
  },
  clearing: { cycleMs: DAY_MS, outDir: 'clearing' },
  dataDir: '.switchyard',
  workers: 0,
  log: { level: 'info' },
  ledger: {
    actorsMax: 1_000_000,
    recordsPerActorMax: 64,
    evictedKeysMax: 10_000_000,
    commitTimeoutMs: 5_000,
    holdExpiryIntervalMs: 60_000,
    recordSweepIntervalMs: 60_000,
    recordSweepAccountsMax: 10_000,
    inline: false,
  },
} as const satisfies Partial<SwitchConfig>;
