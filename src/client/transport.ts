import type { ClientTlsOptions } from './options.js';

/**
 * One interface over TCP, TLS, WS and WSS: a transport moves whole payloads
 * (framing is its business) and reports back-pressure. It knows nothing of
 * messages or sessions.
 */
export interface Transport {
  /** Settles once: resolves when connected (after the TLS/WS handshake), rejects CONNECT_FAILED. */
  readonly ready: Promise<void>;
  /**
   * Queues one payload. False means the socket's buffer is past its high-water
   * mark: stop sending until onDrain. The payload itself is always queued.
   */
  send(payload: Buffer): boolean;
  /**
   * Holds writes until uncork(): frames sent in between leave in one system
   * call where the transport can (TCP/TLS; a no-op on WebSocket). Nests.
   */
  cork(): void;
  uncork(): void;
  /** Graceful: queued bytes go out, then the connection closes. */
  end(): void;
  /** Immediate; `error` becomes the onClose reason (and the ready rejection if not yet connected). */
  destroy(error?: Error): void;
}

export interface TransportEvents {
  onPayload(payload: Buffer): void;
  onDrain(): void;
  /** Once, only after `ready` resolved; `error` is why, when there was an error. */
  onClose(error: Error | undefined): void;
}

/** TLS options shared by tls.connect and ws, from the SDK's PEM block. */
export function tlsConnectOptions(tls: ClientTlsOptions): {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
} {
  return {
    ...(tls.ca === undefined
      ? {}
      : { ca: Array.isArray(tls.ca) ? [...tls.ca] : (tls.ca as string | Buffer) }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
  };
}
