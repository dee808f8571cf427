import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { ListenerConfig } from '../config/types.js';
import { TcpWire } from './tcp-wire.js';
import { loadTlsOptions } from './tls-options.js';
import { WsWire } from './ws-wire.js';

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

export interface Listener {
  readonly address: BoundAddress;
  /** Stops accepting; existing connections are the caller's to close. */
  close(): Promise<void>;
}

export type AcceptWire = (wire: TcpWire | WsWire) => void;

/** Host connections with the TCP length-prefix framing, optionally TLS. */
export async function listenTcp(
  config: ListenerConfig,
  frameBytesMax: number,
  accept: AcceptWire,
): Promise<Listener> {
  const onSocket = (socket: Socket): void => accept(new TcpWire(socket, frameBytesMax));
  const server: Server =
    config.tls === undefined
      ? createNetServer({ noDelay: true }, onSocket)
      : createTlsServer(loadTlsOptions(config.tls), onSocket);
  // A failed TLS handshake is the client's problem, not the server's: log nothing, keep serving.
  server.on('tlsClientError', () => {});
  await listen(server, config);
  return { address: addressOf(server), close: () => closeServer(server) };
}

/** Host connections over WebSocket on any path, binary messages only, optionally TLS (wss). */
export async function listenWs(
  config: ListenerConfig,
  frameBytesMax: number,
  accept: AcceptWire,
): Promise<Listener> {
  const http: HttpServer =
    config.tls === undefined ? createHttpServer() : createHttpsServer(loadTlsOptions(config.tls));
  http.on('tlsClientError', () => {});
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: false,
    maxPayload: frameBytesMax,
    // Every path is accepted (docs/protocol.md section 1).
    clientTracking: false,
  });
  wss.on('connection', (socket, request) => {
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    accept(new WsWire(socket, remote));
  });
  wss.on('error', () => {});
  await listen(http, config);
  return {
    address: addressOf(http),
    close: async () => {
      await closeServer(http);
      wss.close();
    },
  };
}

export function listen(server: Server, config: ListenerConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function addressOf(server: Server): BoundAddress {
  const address = server.address() as AddressInfo;
  return { host: address.address, port: address.port };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
