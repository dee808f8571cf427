import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { EVENTUALLY_MS } from './processes.js';
import { decode, encode, FrameReader, lengthPrefixed, type Msg } from './wire.js';

export type TransportKind = 'tcp' | 'ws';

export interface TlsClientOptions {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly servername?: string;
}

export interface ConnectOptions {
  readonly transport: TransportKind;
  readonly host: string;
  readonly port: number;
  /** Wrap in TLS (TCP) / use wss:// (WebSocket). */
  readonly tls?: TlsClientOptions;
  /** WebSocket request path (default '/'). */
  readonly path?: string;
  /** Answer the switch's 0800 echo automatically (default true). */
  readonly autoAnswerEcho?: boolean;
  /** WebSocket only: offer permessage-deflate (default false). */
  readonly offerDeflate?: boolean;
  readonly connectTimeoutMs?: number;
}

export interface CloseInfo {
  /** WebSocket close code; undefined for TCP. */
  readonly code?: number;
  readonly reason?: string;
  /** Last socket error seen, if any (ECONNRESET and the like). */
  readonly error?: Error;
}

export type Predicate = (m: Msg) => boolean;

interface Waiter {
  readonly predicate: Predicate;
  readonly resolve: (m: Msg) => void;
  readonly reject: (e: Error) => void;
}

/** Printable form of a message (bin fields as hex) for failure messages. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return `bin:${Buffer.from(v).toString('hex')}`;
    if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer') {
      return `bin:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
    }
    return v;
  });
}

/** A minimal, independent switchyard client: raw frames in, decoded messages out. */
export class RawClient {
  /** Every decoded message, in arrival order (batches flattened). */
  readonly received: Msg[] = [];
  /** Number of payloads (frames / WS messages) received. */
  payloadCount = 0;
  /** Anything the switch sent that is not valid by section 1 (text frames, undecodable payloads). */
  readonly badPayloads: string[] = [];
  /** Echoes the switch sent us (answered automatically while autoAnswerEcho is true). */
  readonly switchEchoes: Msg[] = [];
  /** Called with every message as it arrives (a test playing a host answers from here). */
  readonly listeners: Array<(m: Msg) => void> = [];
  autoAnswerEcho: boolean;
  /**
   * Date.now() when the last payload was handed to the socket: the switch cannot have received
   * it earlier, so timers the switch runs from its last received frame start no sooner than this.
   */
  lastSentAtMs = 0;
  readonly closed: Promise<CloseInfo>;
  isClosed = false;

  private readonly pending: Msg[] = [];
  private waiters: Waiter[] = [];
  private lastError: Error | undefined;
  private resolveClosed: (info: CloseInfo) => void = () => {};

  private constructor(
    readonly transport: TransportKind,
    private readonly socket: Socket | undefined,
    private readonly ws: WebSocket | undefined,
    autoAnswerEcho: boolean,
  ) {
    this.autoAnswerEcho = autoAnswerEcho;
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
  }

  static connect(options: ConnectOptions): Promise<RawClient> {
    return options.transport === 'tcp' ? RawClient.connectTcp(options) : RawClient.connectWs(options);
  }

  private static connectTcp(o: ConnectOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket: Socket = o.tls
        ? tlsConnect({ host: o.host, port: o.port, ...o.tls })
        : netConnect({ host: o.host, port: o.port });
      const client = new RawClient('tcp', socket, undefined, o.autoAnswerEcho ?? true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('TCP connect timeout'));
      }, o.connectTimeoutMs ?? EVENTUALLY_MS);
      const reader = new FrameReader();
      let open = false;
      socket.on(o.tls ? 'secureConnect' : 'connect', () => {
        open = true;
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(client);
      });
      socket.on('data', (chunk: Buffer) => {
        let payloads: Buffer[];
        try {
          payloads = reader.push(chunk);
        } catch (e) {
          client.badPayloads.push(String(e));
          socket.destroy();
          return;
        }
        for (const p of payloads) client.onPayload(p);
      });
      socket.on('error', (e) => {
        client.lastError = e;
        if (!open) {
          clearTimeout(timer);
          reject(e);
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (!open) reject(client.lastError ?? new Error('TCP closed before connect'));
        client.onClose({ error: client.lastError });
      });
    });
  }

  private static connectWs(o: ConnectOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const scheme = o.tls ? 'wss' : 'ws';
      const ws = new WebSocket(`${scheme}://${o.host}:${o.port}${o.path ?? '/'}`, {
        perMessageDeflate: o.offerDeflate ?? false,
        handshakeTimeout: o.connectTimeoutMs ?? EVENTUALLY_MS,
        ...(o.tls ?? {}),
      });
      ws.binaryType = 'nodebuffer';
      const client = new RawClient('ws', undefined, ws, o.autoAnswerEcho ?? true);
      let open = false;
      ws.on('open', () => {
        open = true;
        resolve(client);
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) {
          client.badPayloads.push(`text message: ${data.toString()}`);
          return;
        }
        client.onPayload(data);
      });
      ws.on('error', (e) => {
        client.lastError = e;
        if (!open) reject(e);
      });
      ws.on('close', (code: number, reason: Buffer) => {
        if (!open) reject(client.lastError ?? new Error(`WebSocket closed before open (${code})`));
        client.onClose({ code, reason: reason.toString(), error: client.lastError });
      });
    });
  }

  /** permessage-deflate etc. as negotiated ('' when none). WebSocket only. */
  get extensions(): string {
    return this.ws?.extensions ?? '';
  }

  /** Packs `value` (a map or an array of maps, or anything for negative tests) into one payload. */
  send(value: unknown): void {
    this.sendPayload(encode(value));
  }

  /** One payload: a length-prefixed frame (TCP) or one binary message (WebSocket). */
  sendPayload(payload: Uint8Array): void {
    this.lastSentAtMs = Date.now();
    if (this.socket) this.socket.write(lengthPrefixed(payload));
    else this.ws!.send(payload, { binary: true });
  }

  /** TCP only: bytes straight onto the socket, no framing. */
  writeRaw(bytes: Uint8Array): Promise<void> {
    if (!this.socket) throw new Error('writeRaw is TCP only');
    const socket = this.socket;
    return new Promise((resolve) => {
      socket.write(bytes, () => resolve());
    });
  }

  /** WebSocket only: a text message. */
  sendText(text: string): void {
    if (!this.ws) throw new Error('sendText is WebSocket only');
    this.ws.send(text, { binary: false });
  }

  /** WebSocket only: one binary message sent as fragments (continuation frames) of `size` bytes. */
  async sendFragmented(payload: Uint8Array, size: number): Promise<void> {
    const ws = this.ws;
    if (!ws) throw new Error('sendFragmented is WebSocket only');
    for (let at = 0; at < payload.length; at += size) {
      const fin = at + size >= payload.length;
      await new Promise<void>((resolve, reject) => {
        ws.send(payload.subarray(at, at + size), { binary: true, fin }, (e) => (e ? reject(e) : resolve()));
      });
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** The first unconsumed message matching `predicate` (consumed), waiting up to `timeoutMs`. */
  nextMessage(predicate: Predicate, timeoutMs = EVENTUALLY_MS): Promise<Msg> {
    const index = this.pending.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.pending.splice(index, 1)[0]!);
    if (this.isClosed) return Promise.reject(this.closedError(predicate));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `no matching message within ${timeoutMs} ms; unconsumed: ${show(this.pending.slice(-10))}; predicate: ${predicate}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** `count` messages matching `predicate` (any order), within one overall `timeoutMs`. */
  async collect(predicate: Predicate, count: number, timeoutMs = EVENTUALLY_MS): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    const out: Msg[] = [];
    while (out.length < count) {
      out.push(await this.nextMessage(predicate, Math.max(1, deadline - Date.now())));
    }
    return out;
  }

  /** The switch's challenge (first thing on every connection). */
  challenge(timeoutMs = EVENTUALLY_MS): Promise<Msg> {
    return this.nextMessage((m) => m['mti'] === '0800' && m['code'] === 'challenge', timeoutMs);
  }

  /** Resolves with the close info, or 'open' if still open after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<CloseInfo | 'open'> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.closed,
      new Promise<'open'>((r) => {
        timer = setTimeout(() => r('open'), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return result;
  }

  /** Graceful close (TCP end / WS close 1000); resolves once closed (destroys after 2 s). */
  async close(): Promise<void> {
    if (this.isClosed) return;
    if (this.socket) this.socket.end();
    else this.ws!.close(1000);
    if ((await this.closedWithin(2000)) === 'open') this.destroy();
    await this.closed;
  }

  /** Abrupt close (TCP destroy / WS terminate). */
  destroy(): void {
    if (this.socket) this.socket.destroy();
    else this.ws?.terminate();
  }

  private onPayload(payload: Buffer): void {
    this.payloadCount++;
    let value: unknown;
    try {
      value = decode(payload);
    } catch (e) {
      this.badPayloads.push(`undecodable payload ${payload.toString('hex')}: ${e}`);
      return;
    }
    const messages = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && value.length === 0) this.badPayloads.push('empty batch');
    for (const m of messages) {
      if (typeof m !== 'object' || m === null || Array.isArray(m) || m instanceof Uint8Array) {
        this.badPayloads.push(`not a map: ${show(m)}`);
        continue;
      }
      this.onMessage(m as Msg);
    }
  }

  private onMessage(m: Msg): void {
    this.received.push(m);
    for (const listener of this.listeners) listener(m);
    if (m['mti'] === '0800' && m['code'] === 'echo') {
      this.switchEchoes.push(m);
      if (this.autoAnswerEcho) {
        this.send({ mti: '0810', id: m['id'], code: 'echo', rc: '00' });
        return;
      }
    }
    const waiter = this.waiters.find((w) => w.predicate(m));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(m);
    } else {
      this.pending.push(m);
    }
  }

  private onClose(info: CloseInfo): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.resolveClosed(info);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(this.closedError(w.predicate, info));
  }

  private closedError(predicate: Predicate, info?: CloseInfo): Error {
    return new Error(
      `connection closed (${show(info ?? {})}) with no matching message; unconsumed: ${show(this.pending.slice(-10))}; predicate: ${predicate}`,
    );
  }
}
