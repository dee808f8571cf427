import type { Role } from '../protocol/mti.js';

/** PEM file paths; relative paths are resolved against the config file's folder. */
export interface TlsConfig {
  readonly cert: string;
  readonly key: string;
  /** CA bundle used to verify client certificates (mutual TLS). */
  readonly ca?: string;
  /** Ask for, and require, a client certificate signed by `ca`. */
  readonly requestCert?: boolean;
}

export interface ListenerConfig {
  readonly host: string;
  /** 0 = any free port; the bound port is logged. */
  readonly port: number;
  readonly tls?: TlsConfig;
}

export interface StandInConfig {
  readonly perTxnMax: number;
  readonly dailyMax: number;
}

export interface InstitutionConfig {
  readonly id: string;
  readonly role: Role;
  /** Ed25519 public key, 32 bytes, base64. */
  readonly publicKey: string;
  readonly standIn?: StandInConfig;
}

export interface RouteConfig {
  readonly prefix: string;
  /** "local" (the on-us ledger) or the id of an institution with role issuer. */
  readonly issuer: string;
}

export interface LimitsConfig {
  readonly frameBytesMax: number;
  readonly batchMax: number;
  readonly inflightMax: number;
}

export interface SwitchConfig {
  readonly switchId: string;
  readonly listen: {
    readonly tcp?: ListenerConfig;
    readonly ws?: ListenerConfig;
    readonly admin?: ListenerConfig;
  };
  readonly redis: { readonly url?: string };
  readonly admin: { readonly token: string };
  readonly institutions: readonly InstitutionConfig[];
  readonly routes: readonly RouteConfig[];
  readonly issuerTimeoutMs: number;
  readonly holdTtlMs: number;
  readonly dedupeWindowMs: number;
  readonly signonTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly limits: LimitsConfig;
  readonly clearing: { readonly cycleMs: number; readonly outDir: string };
  /** Not in the contract: where the private redis-server and other local state live. */
  readonly dataDir: string;
  /** Not in the contract: account shard workers (0 = one per core). */
  readonly workers: number;
  /** Not in the contract: log threshold. */
  readonly log: { readonly level: LogLevel };
  /** Not in the contract: ledger tuning. */
  readonly ledger: LedgerConfig;
}

export interface LedgerConfig {
  /** Active account actors per worker before idle ones are passivated (reloaded from Redis on use). */
  readonly actorsMax: number;
  /**
   * Transaction records an actor keeps in memory. Older ones (once durable) stay only in the
   * account log and are fetched when a duplicate, completion, reversal or expiry needs them.
   * Bounds memory at about actorsMax x recordsPerActorMax x 1 KB.
   */
  readonly recordsPerActorMax: number;
  /**
   * Keys of evicted records an owner remembers (for the dedupe window, ~100 bytes each), so a
   * new key needs no Redis read. Past it, an actor that evicts a record reads every key not in
   * memory from Redis until that record is past the window: slower, never wrong.
   */
  readonly evictedKeysMax: number;
  /** A commit Redis has not confirmed within this is answered 96 and its accounts reloaded. */
  readonly commitTimeoutMs: number;
  /** How often the hold expiry job looks for holds older than holdTtlMs. */
  readonly holdExpiryIntervalMs: number;
  /**
   * How often the record sweep runs: it deletes records past the dedupe window from
   * accounts nobody uses any more (active accounts prune their own).
   */
  readonly recordSweepIntervalMs: number;
  /**
   * Account hashes one sweep pass looks at, at most; passes go round the keyspace in turn,
   * so a full cycle takes accounts / recordSweepAccountsMax x recordSweepIntervalMs.
   */
  readonly recordSweepAccountsMax: number;
  /**
   * Run the shard owners (`workers` of them) on the main thread instead of
   * worker threads: same actors, batches and commits, no thread hand-off.
   * Lower latency at moderate load, lower ceiling (one thread does it all).
   */
  readonly inline: boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
