import WebSocket from 'ws';
import { ClientError } from './errors.js';
import type { ResolvedClientOptions } from './options.js';
import { type Transport, type TransportEvents, tlsConnectOptions } from './transport.js';

/**
 * Bytes queued in `ws` above which send() reports back-pressure. A WebSocket
 * has no 'drain' event: the send callback fires once a message is written to
 * the socket, and writable is reported again when the queue is back under the
 * mark.
 */
const WS_BUFFERED_HIGH_WATER_BYTES = 1024 * 1024;
const WS_CLOSE_UNSUPPORTED_DATA = 1003;

/** WebSocket or WSS: one binary message per payload, permessage-deflate off (docs/protocol.md section 1). */
export function createWsTransport(options: ResolvedClientOptions, events: TransportEvents): Transport {
  const scheme = options.tls === undefined ? 'ws' : 'wss';
  // An IPv6 literal needs brackets inside a URL.
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const socket = new WebSocket(`${scheme}://${host}:${options.port}${options.path}`, {
    perMessageDeflate: false,
    maxPayload: options.frameBytesMax,
    handshakeTimeout: options.requestTimeoutMs,
    ...(options.tls === undefined ? {} : tlsConnectOptions(options.tls)),
  });
  socket.binaryType = 'nodebuffer';

  let opened = false;
  let closed = false;
  let waitingForDrain = false;
  let closeReason: Error | undefined;
  let settleReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settleReady = { resolve, reject };
  });
  ready.catch(() => {});

  const onSent = (): void => {
    if (waitingForDrain && socket.bufferedAmount < WS_BUFFERED_HIGH_WATER_BYTES) {
      waitingForDrain = false;
      events.onDrain();
    }
  };

  socket.on('open', () => {
    opened = true;
    settleReady?.resolve();
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      closeReason ??= new ClientError('PROTOCOL_ERROR', 'switch sent a text WebSocket message');
      socket.close(WS_CLOSE_UNSUPPORTED_DATA);
      return;
    }
    events.onPayload(data);
  });
  socket.on('error', (error: Error) => {
    closeReason ??= error;
  });
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    if (opened) {
      events.onClose(closeReason);
      return;
    }
    settleReady?.reject(
      closeReason instanceof ClientError
        ? closeReason
        : new ClientError(
            'CONNECT_FAILED',
            `cannot connect to ${options.host}:${options.port}: ${closeReason?.message ?? 'closed'}`,
            { cause: closeReason },
          ),
    );
  });

  return {
    ready,
    // Every message is its own WebSocket frame; nothing to coalesce at this level.
    cork: () => {},
    uncork: () => {},
    send(payload: Buffer): boolean {
      if (socket.readyState !== WebSocket.OPEN) return true;
      socket.send(payload, { binary: true }, onSent);
      if (socket.bufferedAmount >= WS_BUFFERED_HIGH_WATER_BYTES) {
        waitingForDrain = true;
        return false;
      }
      return true;
    },
    end(): void {
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000);
    },
    destroy(error?: Error): void {
      closeReason ??= error;
      socket.terminate();
    },
  };
}
