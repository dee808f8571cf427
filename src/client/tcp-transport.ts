import net from 'node:net';
import tls from 'node:tls';
import { encodeFrameHeader, FrameParser } from '../codec/frame-parser.js';
import { ClientError } from './errors.js';
import type { ResolvedClientOptions } from './options.js';
import { type Transport, type TransportEvents, tlsConnectOptions } from './transport.js';

/** TCP or TLS: 4-byte big-endian length, then the payload (docs/protocol.md section 1). */
export function createTcpTransport(options: ResolvedClientOptions, events: TransportEvents): Transport {
  const socket: net.Socket =
    options.tls === undefined
      ? net.connect({ host: options.host, port: options.port })
      : tls.connect({ host: options.host, port: options.port, ...tlsConnectOptions(options.tls) });
  // Small frames are the norm; Nagle would hold them back waiting for an ACK.
  socket.setNoDelay(true);

  let opened = false;
  let closeReason: Error | undefined;
  let settleReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settleReady = { resolve, reject };
  });
  // A rejection nobody awaits (destroy before connect) must not become an unhandled rejection.
  ready.catch(() => {});

  const parser = new FrameParser(options.frameBytesMax, (payload) => events.onPayload(payload));

  socket.once(options.tls === undefined ? 'connect' : 'secureConnect', () => {
    opened = true;
    settleReady?.resolve();
  });
  socket.on('data', (chunk: Buffer) => {
    if (parser.push(chunk) === 'oversize') {
      destroy(
        new ClientError(
          'PROTOCOL_ERROR',
          `switch sent a frame over frameBytesMax (${options.frameBytesMax})`,
        ),
      );
    }
  });
  socket.on('drain', () => events.onDrain());
  socket.on('error', (error: Error) => {
    closeReason ??= error;
  });
  socket.on('close', () => {
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

  function destroy(error?: Error): void {
    closeReason ??= error;
    socket.destroy();
  }

  return {
    ready,
    send(payload: Buffer): boolean {
      if (socket.destroyed || !socket.writable) return true;
      // Header and payload as one writev: no copy of the payload to prepend 4 bytes.
      socket.cork();
      socket.write(encodeFrameHeader(payload.length));
      const belowHighWater = socket.write(payload);
      socket.uncork();
      return belowHighWater;
    },
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
    end(): void {
      socket.end();
    },
    destroy,
  };
}
