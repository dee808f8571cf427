import type { WebSocket } from 'ws';
import { type Violation, type Wire, type WireEvents, WS_CLOSE_CODE } from './wire.js';

/**
 * Bytes queued in `ws` above which send() reports back-pressure. A WebSocket has
 * no 'drain' event; the send callback fires when a message has been written
 * out, and we report writable again once the queue falls below the mark.
 */
const WS_BUFFERED_HIGH_WATER_BYTES = 1024 * 1024;
const CLOSE_GRACE_MS = 2_000;

export class WsWire implements Wire {
  readonly kind = 'ws' as const;
  readonly remote: string;
  private events: WireEvents | null = null;
  private waitingForDrain = false;
  private closed = false;
  private readonly onSent = (): void => {
    if (this.waitingForDrain && this.socket.bufferedAmount < WS_BUFFERED_HIGH_WATER_BYTES) {
      this.waitingForDrain = false;
      this.events?.onWritable();
    }
  };

  constructor(
    private readonly socket: WebSocket,
    remote: string,
  ) {
    this.remote = remote;
    socket.binaryType = 'nodebuffer';
  }

  attach(events: WireEvents): void {
    this.events = events;
    const socket = this.socket;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        events.onViolation('text');
        return;
      }
      events.onPayload(data);
    });
    // ws closes with 1009 by itself when a message exceeds maxPayload, and
    // reports it (and other receiver errors, e.g. invalid UTF-8 or bad opcodes)
    // here before 'close'.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      events.onClosed();
    });
  }

  send(payload: Buffer): boolean {
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return true;
    socket.send(payload, { binary: true }, this.onSent);
    if (socket.bufferedAmount >= WS_BUFFERED_HIGH_WATER_BYTES) {
      this.waitingForDrain = true;
      return false;
    }
    return true;
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.closed) this.socket.resume();
  }

  end(): void {
    this.closeWith(1000);
  }

  closeForViolation(violation: Violation): void {
    this.closeWith(WS_CLOSE_CODE[violation]);
  }

  destroy(): void {
    this.socket.terminate();
  }

  private closeWith(code: number): void {
    // Reading must go on for the peer's close frame to complete the handshake.
    this.socket.resume();
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(code);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}
