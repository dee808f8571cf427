import { createTransport } from '../client/create-transport.js';
import { ClientError } from '../client/errors.js';
import type { ResponseMessage } from '../client/messages.js';
import {
  type ResolvedClientOptions,
  resolveClientOptions,
  type SwitchClientOptions,
} from '../client/options.js';
import { signonFor } from '../client/signon.js';
import type { Transport } from '../client/transport.js';
import { decodePayload, encodePayload } from '../codec/codec.js';
import {
  type LeanRequestEncoder,
  ResponseScanner,
  type ScannedMessage,
  writeArrayHeader,
} from './lean-codec.js';
import type { LoadConnection, LoadSink, LoadUnit } from './load-connection.js';
import type { RequestFactory } from './request-factory.js';

const MTI_NETWORK = 800;
const MTI_NETWORK_RESPONSE = 810;
const ID_MAX = 0xffff_ffff;
const SWEEP_INTERVAL_MS = 1_000;

type Phase = 'handshake' | 'signon' | 'open' | 'signingOff' | 'closed';

interface Outstanding {
  readonly unit: LoadUnit;
  readonly sink: LoadSink;
}

/** A unit encoded at send() time, waiting for flush(). */
interface QueuedUnit {
  readonly payload: Buffer;
  /** Bytes of the array header at the start of `payload` (0 for a lone request, sent as a bare map). */
  readonly headerBytes: number;
  readonly size: number;
}

/**
 * The load generator's own connection: the SDK's transports (TCP, TLS, WS,
 * WSS) and sign-on, but no request objects, promises or reconnects. Requests
 * are encoded straight into frame buffers from a template; responses are
 * scanned for id and rc (sim/lean-codec.ts). A dropped connection fails what
 * it had in flight and stays down: the run's errors show it.
 *
 * Writes are not paced by back-pressure: the driver's in-flight cap bounds
 * what can be queued, as it bounds what the switch holds.
 */
export class LeanConnection implements LoadConnection {
  private phase: Phase = 'handshake';
  private readonly options: ResolvedClientOptions;
  private readonly transport: Transport;
  private readonly scanner = new ResponseScanner();
  private readonly outstanding = new Map<number, Outstanding>();
  private queued: QueuedUnit[] = [];
  private nextId = 1;
  private signonId = 0;
  private signoffId = 0;
  private closeCode = 'DISCONNECTED';
  private sweepTimer: NodeJS.Timeout | undefined;
  private settleHandshake: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private markClosed: () => void = () => {};
  private readonly closed: Promise<void>;
  private readonly onScanned = (msg: ScannedMessage): void => this.onMessage(msg);
  private scanNowMs = 0;

  constructor(
    clientOptions: SwitchClientOptions,
    private readonly encoder: LeanRequestEncoder,
  ) {
    this.options = resolveClientOptions({ ...clientOptions, reconnect: false });
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.transport = createTransport(this.options, {
      onPayload: (payload) => this.onPayload(payload),
      onDrain: () => {},
      onClose: (error) => this.onTransportClose(error),
    });
  }

  get connected(): boolean {
    return this.phase === 'open';
  }

  /** Connects and signs on; rejects CONNECT_FAILED, CONNECT_TIMEOUT or SIGNON_REFUSED (a ClientError). */
  async open(): Promise<void> {
    const handshake = new Promise<void>((resolve, reject) => {
      this.settleHandshake = { resolve, reject };
    });
    const timer = setTimeout(
      () =>
        this.failHandshake(
          new ClientError('CONNECT_TIMEOUT', `not signed on within ${this.options.requestTimeoutMs} ms`),
        ),
      this.options.requestTimeoutMs,
    );
    this.transport.ready.catch((error: unknown) =>
      this.failHandshake(
        error instanceof ClientError ? error : new ClientError('CONNECT_FAILED', String(error)),
      ),
    );
    try {
      await handshake;
    } finally {
      clearTimeout(timer);
      this.settleHandshake = undefined;
    }
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  send(unit: LoadUnit, factory: RequestFactory, sink: LoadSink): void {
    if (this.phase !== 'open') {
      sink.failed(unit, unit.size, 'NOT_CONNECTED');
      return;
    }
    const { size } = unit;
    const encoder = this.encoder;
    const headerBytes = size === 1 ? 0 : size < 16 ? 1 : size < 0x1_0000 ? 3 : 5;
    const payload = Buffer.allocUnsafe(headerBytes + size * encoder.bytes);
    let offset = size === 1 ? 0 : writeArrayHeader(payload, 0, size);
    const entry: Outstanding = { unit, sink };
    for (let i = 0; i < size; i++) {
      const id = this.takeId();
      factory.advance();
      offset = encoder.write(
        payload,
        offset,
        id,
        factory.lastPanIndex,
        factory.clock.lastStan,
        factory.clock.lastTimeMs,
      );
      this.outstanding.set(id, entry);
    }
    this.queued.push({ payload, headerBytes, size });
  }

  /** Coalescing on: the turn's units share frames (up to batchMax messages); off: one frame per unit. */
  flush(): void {
    const queued = this.queued;
    if (queued.length === 0) return;
    this.queued = [];
    if (this.phase !== 'open' && this.phase !== 'signingOff') return;
    if (!this.options.coalesce || queued.length === 1) {
      this.transport.cork();
      for (let i = 0; i < queued.length; i++) this.transport.send(queued[i]!.payload);
      this.transport.uncork();
      return;
    }
    let start = 0;
    while (start < queued.length) {
      let count = 0;
      let bytes = 0;
      let end = start;
      while (end < queued.length && (end === start || count + queued[end]!.size <= this.options.batchMax)) {
        count += queued[end]!.size;
        bytes += queued[end]!.payload.length - queued[end]!.headerBytes;
        end++;
      }
      if (end - start === 1) {
        this.transport.send(queued[start]!.payload);
      } else {
        const headerBytes = count < 16 ? 1 : count < 0x1_0000 ? 3 : 5;
        const frame = Buffer.allocUnsafe(headerBytes + bytes);
        let offset = writeArrayHeader(frame, 0, count);
        for (let i = start; i < end; i++) {
          const unit = queued[i]!;
          offset += unit.payload.copy(frame, offset, unit.headerBytes);
        }
        this.transport.send(frame);
      }
      start = end;
    }
  }

  onReconnect(_listener: () => void): void {
    // Never reconnects.
  }

  async signoff(): Promise<void> {
    if (this.phase !== 'open') {
      await this.close();
      return;
    }
    this.flush();
    this.phase = 'signingOff';
    this.closeCode = 'CLOSED';
    this.signoffId = this.takeId();
    this.transport.send(encodePayload({ mti: '0800', id: this.signoffId, code: 'signoff' }));
    // The switch answers what is owed, then 0810, then closes; our own bound on that.
    const timer = setTimeout(() => this.transport.destroy(), this.options.requestTimeoutMs);
    await this.closed;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    this.closeCode = 'CLOSED';
    if (this.phase === 'closed') return this.closed;
    if (this.phase === 'handshake' || this.phase === 'signon') {
      this.failHandshake(new ClientError('CLOSED', 'closed during sign-on'));
      return this.closed;
    }
    this.transport.destroy();
    return this.closed;
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = id === ID_MAX ? 1 : id + 1;
    return id;
  }

  private onPayload(payload: Buffer): void {
    if (this.phase === 'handshake' || this.phase === 'signon') {
      this.onHandshakePayload(payload);
      return;
    }
    this.scanNowMs = performance.now();
    if (this.scanner.scan(payload, this.onScanned) === 'malformed') {
      this.transport.destroy(
        new ClientError('PROTOCOL_ERROR', 'switch sent a payload the simulator cannot read'),
      );
    }
  }

  private onMessage(msg: ScannedMessage): void {
    if (msg.mti === MTI_NETWORK) {
      if (msg.code === 'echo' && msg.idString !== undefined) {
        this.transport.send(encodePayload({ mti: '0810', id: msg.idString, code: 'echo', rc: '00' }));
      } else if (msg.code === 'echo' && msg.id >= 0) {
        this.transport.send(encodePayload({ mti: '0810', id: msg.id, code: 'echo', rc: '00' }));
      }
      return;
    }
    if (msg.mti === MTI_NETWORK_RESPONSE && msg.id === this.signoffId) return;
    if (msg.id < 0) return;
    const entry = this.outstanding.get(msg.id);
    // Unknown ids: late answers after a timeout.
    if (entry === undefined) return;
    this.outstanding.delete(msg.id);
    entry.sink.answered(entry.unit, msg.rc, this.scanNowMs);
  }

  private onHandshakePayload(payload: Buffer): void {
    let decoded: unknown;
    try {
      decoded = decodePayload(payload);
    } catch (error) {
      this.failHandshake(
        new ClientError('PROTOCOL_ERROR', 'switch sent a payload that is not MessagePack', { cause: error }),
      );
      return;
    }
    const messages = Array.isArray(decoded) ? decoded : [decoded];
    for (const message of messages) {
      if (typeof message !== 'object' || message === null) continue;
      const msg = message as ResponseMessage;
      if (this.phase === 'handshake' && msg.mti === '0800' && msg.code === 'challenge') {
        this.signonId = this.takeId();
        const signon = signonFor(msg, this.options, this.signonId);
        if (signon instanceof ClientError) {
          this.failHandshake(signon);
          return;
        }
        this.phase = 'signon';
        this.transport.send(encodePayload(signon));
      } else if (this.phase === 'signon' && msg.mti === '0810' && msg.id === this.signonId) {
        if (msg.rc === '00') {
          this.phase = 'open';
          this.settleHandshake?.resolve();
        } else {
          const rc = String(msg.rc);
          this.failHandshake(
            new ClientError(
              'SIGNON_REFUSED',
              `switch refused the sign-on of ${this.options.institution}: rc ${rc}`,
              {
                rc,
              },
            ),
          );
        }
      }
    }
  }

  private failHandshake(error: ClientError): void {
    if (this.phase !== 'handshake' && this.phase !== 'signon') return;
    this.phase = 'closed';
    this.settleHandshake?.reject(error);
    this.transport.destroy(error);
    // Before `ready`, the transport never reports its close: mark it here.
    this.transport.ready.then(
      () => {},
      () => this.markClosed(),
    );
  }

  /** Fails what has waited longer than the request timeout (late answers are then ignored). */
  private sweep(): void {
    const deadlineMs = performance.now() - this.options.requestTimeoutMs;
    for (const [id, entry] of this.outstanding) {
      if (entry.unit.startedMs < deadlineMs) {
        this.outstanding.delete(id);
        entry.sink.failed(entry.unit, 1, 'REQUEST_TIMEOUT');
      }
    }
  }

  private onTransportClose(error: Error | undefined): void {
    const wasHandshaking = this.phase === 'handshake' || this.phase === 'signon';
    this.phase = 'closed';
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.queued = [];
    if (wasHandshaking) {
      this.settleHandshake?.reject(
        new ClientError(
          'CONNECT_FAILED',
          `connection closed during sign-on${error ? `: ${error.message}` : ''}`,
        ),
      );
    }
    const outstanding = [...this.outstanding.values()];
    this.outstanding.clear();
    for (const entry of outstanding) entry.sink.failed(entry.unit, 1, this.closeCode);
    this.markClosed();
  }
}
