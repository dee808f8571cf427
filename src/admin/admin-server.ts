import { timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ListenerConfig } from '../config/types.js';
import type { Logger } from '../observability/log.js';
import { type Readiness, readinessBody } from '../observability/readiness.js';
import { addressOf, type BoundAddress, closeServer, listen } from '../transport/listeners.js';
import { loadTlsOptions } from '../transport/tls-options.js';
import { maskPansIn } from '../util/pan.js';
import { HttpError, sendError, sendJson } from './http-json.js';

/**
 * The admin HTTP API of docs/protocol.md section 6. /healthz, /readyz and /metrics
 * are open; every other call needs `Authorization: Bearer <admin.token>`.
 * Routes register themselves (accounts, config reload, clearing) so this file
 * stays the transport and auth only.
 */

export type AdminHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Readonly<Record<string, string>>,
) => Promise<void> | void;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: AdminHandler;
}

export interface AdminProbes {
  ready(): Promise<Readiness>;
  metrics(): Promise<{ contentType: string; body: string }>;
}

/**
 * A request path as an error message says it back: decoded, with every
 * PAN-shaped digit run masked (`/accounts/{pan}/...` under a wrong method or
 * a path that is no endpoint must not answer the PAN in full). A path that
 * does not decode is not said back: its escapes could split a PAN's digits.
 */
function pathShown(path: string): string {
  try {
    return maskPansIn(decodeURIComponent(path));
  } catch {
    return '(a path that does not decode)';
  }
}

export class AdminServer {
  private readonly routes: Route[] = [];
  private server: Server | undefined;
  private readonly token: Buffer;

  constructor(
    private readonly config: ListenerConfig,
    token: string,
    private readonly probes: AdminProbes,
    private readonly log: Logger,
  ) {
    this.token = Buffer.from(`Bearer ${token}`);
  }

  /** Registers an authenticated route; `path` segments written `{name}` are captured (URL-decoded). */
  route(method: string, path: string, handler: AdminHandler): void {
    const names: string[] = [];
    const source = path.replace(/\{([a-z]+)\}/gi, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
  }

  async start(): Promise<BoundAddress> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((error: unknown) => this.fail(res, error));
    };
    this.server =
      this.config.tls === undefined
        ? createHttpServer(handler)
        : createHttpsServer(loadTlsOptions(this.config.tls), handler);
    this.server.on('tlsClientError', () => {});
    await listen(this.server, this.config);
    return addressOf(this.server);
  }

  async close(): Promise<void> {
    if (this.server === undefined) return;
    const closing = closeServer(this.server);
    this.server.closeAllConnections();
    await closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      const readiness = await this.probes.ready();
      sendJson(res, readiness.ready ? 200 : 503, readinessBody(readiness));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      const { contentType, body } = await this.probes.metrics();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (!this.authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, 'unauthorized', 'a valid Authorization: Bearer token is required');
      return;
    }
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (match === null) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      const params: Record<string, string> = {};
      try {
        route.names.forEach((name, i) => {
          params[name] = decodeURIComponent(match[i + 1] ?? '');
        });
      } catch {
        // A malformed %-escape is the caller's mistake (400), not the server's (500); not said back.
        sendError(res, 'invalid_request', 'the request path has a malformed %-escape');
        return;
      }
      await route.handler(req, res, params);
      return;
    }
    if (pathMatched)
      sendError(res, 'method_not_allowed', `${req.method ?? '?'} is not allowed on ${pathShown(path)}`);
    else sendError(res, 'not_found', `no such endpoint: ${pathShown(path)}`);
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (header === undefined) return false;
    const given = Buffer.from(header);
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (error instanceof HttpError) {
      if (!res.headersSent) sendError(res, error.code, error.message);
      return;
    }
    this.log.error('admin request failed', { error });
    if (!res.headersSent) sendError(res, 'internal', 'internal error');
    else res.destroy();
  }
}
