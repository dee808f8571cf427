import type { InstitutionConfig, SwitchConfig } from '../config/types.js';
import { RouteTable } from '../engine/route-table.js';
import type { Logger } from '../observability/log.js';
import { Authenticator } from '../session/authenticator.js';
import { sessionEndings } from '../session/session-endings.js';
import type { ConnectionRegistry } from './connection-registry.js';

type RoutingConfig = Pick<SwitchConfig, 'routes' | 'institutions'>;

/**
 * The routes and institutions in force (docs/protocol.md section 4), which
 * every connection reads through ConnectionContext's getters, and their
 * hand-over on a config reload: the new RouteTable and Authenticator are
 * built whole before either is swapped in, so a lookup or a sign-on sees
 * the old set or the new one, never a mix. In the same synchronous step the
 * sessions the new institutions no longer admit are closed, so none of
 * them can be used, or signed on anew, under the new set.
 */
export class LiveRouting {
  private routeTable: RouteTable;
  private signons: Authenticator;
  private institutionList: readonly InstitutionConfig[];

  constructor(
    config: RoutingConfig,
    private readonly registry: ConnectionRegistry,
    private readonly log: Logger,
  ) {
    this.routeTable = new RouteTable(config.routes);
    this.signons = new Authenticator(config.institutions);
    this.institutionList = config.institutions;
  }

  get routes(): RouteTable {
    return this.routeTable;
  }

  get authenticator(): Authenticator {
    return this.signons;
  }

  /** The institutions in force, stand-in limits included. */
  get institutions(): readonly InstitutionConfig[] {
    return this.institutionList;
  }

  /**
   * Swaps in `next`'s routes and institutions, then closes every signed-on
   * session they no longer admit (session-endings.ts says which), each
   * gracefully as at shutdown: it reads nothing more and closes once the
   * responses it is owed are written. Every other connection is kept.
   * Nothing is deleted: advices queued for an institution stay in the store
   * for when it is configured again. Returns how many sessions it closed.
   */
  swap(next: RoutingConfig): number {
    const routes = new RouteTable(next.routes);
    const signons = new Authenticator(next.institutions);
    const endingOf = sessionEndings(this.institutionList, next.institutions);
    this.routeTable = routes;
    this.signons = signons;
    this.institutionList = next.institutions;
    let closed = 0;
    for (const conn of this.registry.connections()) {
      const { institution, role } = conn;
      if (institution === undefined || role === undefined) continue;
      const reason = endingOf(institution, role);
      if (reason === undefined) continue;
      this.log.info('config reload: closing a session', { institution, role, reason, remote: conn.remote });
      conn.closeGracefully();
      closed++;
    }
    return closed;
  }
}
