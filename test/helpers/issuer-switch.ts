import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import nacl from 'tweetnacl';
import { EVENTUALLY_MS } from './processes.js';
import { show } from './raw-client.js';
import { signonBytes } from './signon.js';
import { decode, encode, FrameReader, lengthPrefixed, type Msg } from './wire.js';

/*
 * The switch's side of an issuer connection, on loopback TCP, for testing
 * issuer hosts (the SDK's issuer side, `switchyard sim issuer`) before the
 * switch itself forwards (issue 17 builds that concurrently). It does what
 * docs/protocol.md sections 1, 2 and 4 say the switch does toward an issuer:
 * sends the challenge, checks the Ed25519 sign-on against the institution's
 * public key and role, answers 0810, answers the host's echoes, and lets the
 * test forward requests (switch `id`, `acquirer`, `rrn`) and advices and read
 * what comes back. Its own codec (test/helpers/wire.ts), not the switch's.
 */

export interface IssuerIdentity {
  readonly id: string;
  readonly publicKey: Uint8Array;
}

interface Waiter {
  readonly predicate: (m: Msg) => boolean;
  readonly resolve: (m: Msg) => void;
}

/** One host connection as the switch sees it. */
export class HostConnection {
  readonly nonce = randomBytes(32);
  /** Every message the host sent after its sign-on, in arrival order (batches flattened). */
  readonly received: Msg[] = [];
  /** Payloads (frames) received, sign-on included. */
  payloadCount = 0;
  signedOn = false;
  signedOff = false;
  signonRc: string | undefined;
  isClosed = false;
  readonly closed: Promise<void>;
  private markClosed: () => void = () => {};
  private waiters: Waiter[] = [];

  constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }

  send(value: Msg | Msg[]): void {
    if (!this.isClosed) this.socket.write(lengthPrefixed(encode(value)));
  }

  /** Closes politely (the switch's close after a refused sign-on or a sign-off). */
  end(): void {
    this.socket.end();
  }

  /** Drops the connection as a failing network would. */
  destroy(): void {
    this.socket.destroy();
  }

  /** The first message (already received or still to come) that matches, or a timeout naming what came. */
  nextMessage(predicate: (m: Msg) => boolean, timeoutMs = EVENTUALLY_MS): Promise<Msg> {
    const found = this.received.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { predicate, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        if (!this.waiters.includes(waiter)) return;
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching message within ${timeoutMs} ms; received ${show(this.received)}`));
      }, timeoutMs);
    });
  }

  /** Every message answering `id` (a host that answers twice sends two). */
  answersTo(id: unknown): Msg[] {
    return this.received.filter((m) => m['id'] === id);
  }

  onMessage(message: Msg): void {
    this.received.push(message);
    const matched = this.waiters.filter((w) => w.predicate(message));
    this.waiters = this.waiters.filter((w) => !matched.includes(w));
    for (const waiter of matched) waiter.resolve(message);
  }

  onClose(): void {
    this.isClosed = true;
    this.markClosed();
  }
}

export class IssuerSwitch {
  readonly connections: HostConnection[] = [];
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private nextForwardId = 1;
  private connectionWaiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    private readonly issuers: readonly IssuerIdentity[],
    readonly switchId = 'emulated-switch',
  ) {}

  async start(): Promise<void> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server === undefined ? resolve() : this.server.close(() => resolve()),
    );
  }

  /** Resolves once `count` connections have signed on (over the emulator's life). */
  signedOn(count: number, timeoutMs = EVENTUALLY_MS): Promise<HostConnection[]> {
    const done = (): boolean => this.connections.filter((c) => c.signonRc === '00').length >= count;
    const result = (): HostConnection[] => this.connections.filter((c) => c.signonRc === '00');
    if (done()) return Promise.resolve(result());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${count} sign-on(s) did not come within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.connectionWaiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(result());
        },
      });
    });
  }

  /**
   * Forwards a transaction as the switch does (section 4): the request's
   * fields with a fresh switch `id`, `acquirer` and `rrn`. Returns that id.
   */
  forward(connection: HostConnection, request: Msg): number {
    const id = this.nextForwardId++;
    connection.send({ acquirer: 'acq-emulated', rrn: `EMU${String(id).padStart(9, '0')}`, ...request, id });
    return id;
  }

  /** Sends an advice (or its repeat) with the given id, as store-and-forward does. */
  advise(connection: HostConnection, advice: Msg & { id: number | string }): void {
    connection.send({ acquirer: 'acq-emulated', ...advice });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const connection = new HostConnection(socket);
    this.connections.push(connection);
    const reader = new FrameReader(1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      for (const payload of reader.push(chunk)) this.onPayload(connection, payload);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      connection.onClose();
    });
    connection.send({
      mti: '0800',
      code: 'challenge',
      nonce: connection.nonce,
      switch: this.switchId,
      version: 1,
    });
  }

  private onPayload(connection: HostConnection, payload: Buffer): void {
    connection.payloadCount++;
    const decoded = decode(payload);
    const messages = (Array.isArray(decoded) ? decoded : [decoded]) as Msg[];
    if (!connection.signedOn) {
      this.onSignon(connection, messages, Array.isArray(decoded));
      return;
    }
    for (const message of messages) {
      if (message['mti'] === '0800' && message['code'] === 'echo') {
        connection.send({ mti: '0810', id: message['id'], code: 'echo', rc: '00' });
        continue;
      }
      if (message['mti'] === '0800' && message['code'] === 'signoff') {
        connection.signedOff = true;
        connection.send({ mti: '0810', id: message['id'], code: 'signoff', rc: '00' });
        connection.end();
        continue;
      }
      connection.onMessage(message);
    }
  }

  /** Section 2: the sign-on alone in its frame, signed over nonce || institution || 0x00 || role. */
  private onSignon(connection: HostConnection, messages: Msg[], inBatch: boolean): void {
    const signon = messages[0];
    if (signon === undefined || signon['code'] !== 'signon') return;
    const issuer = this.issuers.find((i) => i.id === signon['institution']);
    const sig = signon['sig'];
    const valid =
      !inBatch &&
      issuer !== undefined &&
      signon['role'] === 'issuer' &&
      sig instanceof Uint8Array &&
      nacl.sign.detached.verify(
        signonBytes(connection.nonce, issuer.id, 'issuer'),
        new Uint8Array(sig),
        issuer.publicKey,
      );
    connection.signonRc = valid ? '00' : '63';
    connection.send({ mti: '0810', id: signon['id'], code: 'signon', rc: connection.signonRc });
    if (!valid) {
      connection.end();
      return;
    }
    connection.signedOn = true;
    const signedOnCount = this.connections.filter((c) => c.signonRc === '00').length;
    const ready = this.connectionWaiters.filter((w) => w.count <= signedOnCount);
    this.connectionWaiters = this.connectionWaiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve();
  }
}
