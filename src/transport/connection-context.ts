import type { SwitchConfig } from '../config/types.js';
import type { RouteTable } from '../engine/route-table.js';
import type { Logger } from '../observability/log.js';
import type { SwitchMetrics } from '../observability/switch-metrics.js';
import type { SwitchEngine } from '../protocol/txn-context.js';
import type { RrnGenerator } from '../runtime/rrn.js';
import type { Authenticator } from '../session/authenticator.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { FlushScheduler } from './flush-scheduler.js';

/** What every connection shares. Routes and keys are getters: a config reload swaps them under live connections. */
export interface ConnectionContext {
  /** The config at start: its routes and institutions are not the ones in force after a reload (use the getters). */
  readonly config: SwitchConfig;
  readonly log: Logger;
  readonly engine: SwitchEngine;
  readonly metrics: SwitchMetrics;
  readonly registry: ConnectionRegistry;
  readonly flushScheduler: FlushScheduler;
  readonly rrn: RrnGenerator;
  readonly decode: (payload: Uint8Array) => unknown;
  routes(): RouteTable;
  authenticator(): Authenticator;
}
