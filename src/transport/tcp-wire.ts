import type { Socket } from 'node:net';
import { encodeFrameHeader, FrameParser } from '../codec/frame-parser.js';
import type { Violation, Wire, WireEvents } from './wire.js';

/** How long a closing TCP socket may linger to flush before it is destroyed. */
const END_GRACE_MS = 2_000;

export class TcpWire implements Wire {
  readonly kind = 'tcp' as const;
  readonly remote: string;
  private readonly parser: FrameParser;
  private events: WireEvents | null = null;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    frameBytesMax: number,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.parser = new FrameParser(frameBytesMax, (payload) => this.events?.onPayload(payload));
    socket.setNoDelay(true);
  }

  attach(events: WireEvents): void {
    this.events = events;
    const socket = this.socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.parser.push(chunk) === 'oversize') events.onViolation('oversize');
    });
    socket.on('drain', () => events.onWritable());
    // Errors (ECONNRESET, EPIPE) are followed by 'close'; nothing to add but a listener,
    // without which Node would throw.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      events.onClosed();
    });
  }

  send(payload: Buffer): boolean {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return true;
    // Header and payload as one writev: no copy of the payload.
    socket.cork();
    socket.write(encodeFrameHeader(payload.length));
    const ok = socket.write(payload);
    socket.uncork();
    return ok;
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.closed) this.socket.resume();
  }

  end(): void {
    this.socket.end();
    // Keep reading (the connection discards what comes) so the peer's FIN is
    // seen and the socket closes now, not at the grace deadline.
    this.socket.resume();
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  closeForViolation(_violation: Violation): void {
    // TCP has no close reason: flush what is owed, close.
    this.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
