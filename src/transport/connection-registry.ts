import { performance } from 'node:perf_hooks';
import type { ConnectionRoleLabel } from '../observability/switch-metrics.js';
import type { Role } from '../protocol/mti.js';
import type { IssuerLink, IssuerLinkEnd, IssuerLinks } from '../protocol/txn-context.js';

/** What the registry needs of a connection (Connection implements it; the registry needs no more). */
export interface RegisteredConnection extends IssuerLink {
  readonly role: Role | undefined;
  /** The signed-on institution (a config reload closes those no longer configured). */
  readonly institution: string | undefined;
  /** The peer's address, for the log. */
  readonly remote: string;
  /** It closed by a sign-off, a shutdown or a reload, not by a loss. */
  readonly closedGracefully: boolean;
  heartbeat(nowMs: number, heartbeatMs: number, nextEchoId: () => string): void;
  closeGracefully(): void;
  closeNow(): void;
}

const NO_LINKS: readonly IssuerLink[] = [];

/** Heartbeat sweeps run this often relative to heartbeatMs, bounded to [10 ms, 1 s]. */
const SWEEPS_PER_HEARTBEAT = 4;

/**
 * The live connections: heartbeat sweep, shutdown, metrics, and the signed-on
 * connections of each issuer, which the issuer engine forwards on.
 */
export class ConnectionRegistry implements IssuerLinks {
  private readonly all = new Set<RegisteredConnection>();
  /** Signed-on issuer connections by institution, in sign-on order. */
  private readonly issuers = new Map<string, RegisteredConnection[]>();
  private inflightTotal = 0;
  private echoSeq = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  /** `issuerClosed`: a signed-on issuer connection closed (the issuer engine logs the forwards it stranded). */
  constructor(
    private readonly heartbeatMs: number,
    private readonly issuerClosed?: (end: IssuerLinkEnd) => void,
  ) {}

  startHeartbeat(): void {
    const everyMs = Math.min(1000, Math.max(10, Math.floor(this.heartbeatMs / SWEEPS_PER_HEARTBEAT)));
    const nextEchoId = (): string => `hb-${++this.echoSeq}`;
    this.sweepTimer = setInterval(() => {
      const nowMs = performance.now();
      for (const conn of this.all) conn.heartbeat(nowMs, this.heartbeatMs, nextEchoId);
    }, everyMs);
    this.sweepTimer.unref();
  }

  stopHeartbeat(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
  }

  add(conn: RegisteredConnection): void {
    this.all.add(conn);
  }

  /** A connection signed on: an issuer's joins the ones forwards may go to. */
  signedOn(conn: RegisteredConnection): void {
    if (conn.role !== 'issuer' || conn.institution === undefined) return;
    const links = this.issuers.get(conn.institution);
    if (links === undefined) this.issuers.set(conn.institution, [conn]);
    else links.push(conn);
  }

  linksOf(issuer: string): readonly IssuerLink[] {
    return this.issuers.get(issuer) ?? NO_LINKS;
  }

  remove(conn: RegisteredConnection): void {
    this.all.delete(conn);
    this.leaveIssuers(conn);
    if (conn.role === 'issuer' && conn.institution !== undefined) {
      this.issuerClosed?.({
        link: conn,
        issuer: conn.institution,
        remote: conn.remote,
        graceful: conn.closedGracefully,
        connectionsLeft: this.linksOf(conn.institution).length,
      });
    }
    if (this.all.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** A connection that closes (or signs off) takes no more forwards. */
  leaveIssuers(conn: RegisteredConnection): void {
    if (conn.role !== 'issuer' || conn.institution === undefined) return;
    const links = this.issuers.get(conn.institution);
    if (links === undefined) return;
    const left = links.filter((link) => link !== conn);
    if (left.length === 0) this.issuers.delete(conn.institution);
    else this.issuers.set(conn.institution, left);
  }

  inflightDelta(delta: number): void {
    this.inflightTotal += delta;
  }

  get inflight(): number {
    return this.inflightTotal;
  }

  get size(): number {
    return this.all.size;
  }

  connections(): IterableIterator<RegisteredConnection> {
    return this.all.values();
  }

  connectionsByRole(): Record<ConnectionRoleLabel, number> {
    const counts: Record<ConnectionRoleLabel, number> = { acquirer: 0, issuer: 0, unauthenticated: 0 };
    for (const conn of this.all) counts[conn.role ?? 'unauthenticated']++;
    return counts;
  }

  /** Resolves when every connection has closed. */
  whenEmpty(): Promise<void> {
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
