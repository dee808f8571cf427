import { backoffDelayMs } from './backoff.js';
import { Connection } from './connection.js';
import { TypedEmitter } from './emitter.js';
import { ClientError } from './errors.js';
import type { AdviceHandler, IncomingRequestHandler, RequestMessage, ResponseMessage } from './messages.js';
import { type ResolvedClientOptions, resolveClientOptions, type SwitchClientOptions } from './options.js';

export interface SwitchClientEventMap {
  /** Signed on again after a drop; `attempts` is how many tries it took. */
  reconnect: { readonly attempts: number };
  /** The connection dropped (not on close()/signoff()); its unanswered requests were rejected DISCONNECTED. */
  disconnect: ClientError;
  /** Background trouble: a failed reconnect attempt, a protocol error, an onRequest or onAdvice handler that threw. */
  error: Error;
}

type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * A host's connection to the switch (docs/protocol.md sections 1-2): signs on once
 * per connection, matches responses to requests by id, coalesces the requests
 * of one event-loop turn into one frame, answers the switch's echoes, and
 * re-connects with back-off after a drop.
 *
 * connect() makes one attempt and reports its failure: a wrong address or key
 * should surface at start, not turn into silent retries. Reconnecting applies
 * to drops after that, and stops for good when the switch refuses the
 * sign-on (a key or config problem that retrying cannot fix).
 */
export class SwitchClient {
  private readonly options: ResolvedClientOptions;
  private readonly emitter = new TypedEmitter<SwitchClientEventMap>();
  private state: ClientState = 'idle';
  private connection: Connection | undefined;
  private requestHandler: IncomingRequestHandler | undefined;
  private adviceHandler: AdviceHandler | undefined;
  private nextIdValue = 1;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempts = 0;
  private closing: Promise<void> | undefined;

  constructor(options: SwitchClientOptions) {
    this.options = resolveClientOptions(options);
  }

  /** True while signed on. */
  get connected(): boolean {
    return this.state === 'open' && this.connection?.isOpen === true;
  }

  /** The switch's id from the last challenge. */
  get switchId(): string | undefined {
    return this.connection?.switchId;
  }

  /** Requests in flight on the current connection. */
  get inflight(): number {
    return this.connection?.inflight ?? 0;
  }

  on<E extends keyof SwitchClientEventMap>(event: E, listener: (arg: SwitchClientEventMap[E]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<E extends keyof SwitchClientEventMap>(
    event: E,
    listener: (arg: SwitchClientEventMap[E]) => void,
  ): this {
    this.emitter.off(event, listener);
    return this;
  }

  /**
   * Issuer hosts: answers the requests the switch forwards (0100, 0200). The
   * handler's return value is the response; its `mti` and `id` default to
   * the request's response MTI and id; `null` answers nothing now. A handler
   * that throws gets the switch an rc 96 answer and an 'error' event.
   * Without a handler, requests go unanswered (the switch times them out).
   */
  onRequest(handler: IncomingRequestHandler): this {
    this.requestHandler = handler;
    return this;
  }

  /**
   * Issuer hosts: takes the switch's advices (0120/0220/0420 and repeats).
   * Each is acknowledged (0130/0230/0430, same `id`) once the handler has
   * returned, unless it threw (the switch repeats it) or the client was made
   * with `autoAcknowledgeAdvices: false`. Without a handler, advices are
   * acknowledged unseen (or, with auto-acknowledgment off, ignored).
   */
  onAdvice(handler: AdviceHandler): this {
    this.adviceHandler = handler;
    return this;
  }

  /**
   * Drops the connection as a network failure would (no sign-off): requests
   * in flight reject DISCONNECTED, a 'disconnect' event follows, and the
   * client reconnects with back-off unless `reconnect: false`. For failure
   * drills and simulators; close() or signoff() end a session properly.
   */
  dropConnection(): void {
    if (this.state === 'open') this.connection?.drop();
  }

  async connect(): Promise<void> {
    if (this.state === 'open') return;
    if (this.state !== 'idle') {
      throw new ClientError(
        'NOT_CONNECTED',
        `connect() while ${this.state}; a closed client is not reusable`,
      );
    }
    this.state = 'connecting';
    const connection = this.newConnection();
    this.connection = connection;
    try {
      await connection.open();
    } catch (error) {
      if (this.state === 'connecting') this.state = 'idle';
      this.connection = undefined;
      throw error;
    }
    if (this.state !== 'connecting') {
      // close() won the race.
      await connection.close();
      throw new ClientError('CLOSED', 'client closed during connect()');
    }
    this.state = 'open';
  }

  request(message: RequestMessage): Promise<ResponseMessage> {
    const connection = this.openConnection();
    if (connection === undefined) return Promise.reject(notConnected(this.state));
    return connection.request(message);
  }

  /** One frame (an array payload); responses in request order. Rejects as a whole if any message fails. */
  requestBatch(messages: readonly RequestMessage[]): Promise<ResponseMessage[]> {
    const connection = this.openConnection();
    if (connection === undefined) return Promise.reject(notConnected(this.state));
    return connection.requestBatch(messages);
  }

  async echo(): Promise<void> {
    const connection = this.openConnection();
    if (connection === undefined) throw notConnected(this.state);
    await connection.echo();
  }

  /** Signs off: waits for the 0810 and for the switch to close the connection. No reconnect follows. */
  async signoff(): Promise<void> {
    const connection = this.openConnection();
    if (connection === undefined) throw notConnected(this.state);
    this.state = 'closed';
    await connection.signoff();
  }

  /** Closes now; unanswered requests reject CLOSED. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.state = 'closed';
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const connection = this.connection;
    if (connection !== undefined) await connection.close();
  }

  private openConnection(): Connection | undefined {
    return this.state === 'open' && this.connection?.isOpen === true ? this.connection : undefined;
  }

  private newConnection(): Connection {
    return new Connection(this.options, {
      nextId: () => this.nextIdValue++,
      switchMessageHandlers: () => ({
        request: this.requestHandler,
        advice: this.adviceHandler,
        autoAcknowledgeAdvices: this.options.autoAcknowledgeAdvices,
      }),
      onClosed: (connection, error) => this.onConnectionClosed(connection, error),
      onError: (error) => this.emitter.emit('error', error),
    });
  }

  private onConnectionClosed(connection: Connection, error: ClientError | undefined): void {
    if (connection !== this.connection || this.state !== 'open') return;
    if (error === undefined) {
      // We asked for this close (close() or sign-off).
      this.state = 'closed';
      return;
    }
    this.emitter.emit('disconnect', error);
    if (this.options.reconnect === false) {
      this.state = 'closed';
      return;
    }
    this.state = 'reconnecting';
    this.reconnectAttempts = 0;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const policy = this.options.reconnect;
    if (policy === false || this.state !== 'reconnecting') return;
    const delayMs = backoffDelayMs(this.reconnectAttempts, policy, this.options.random);
    this.reconnectAttempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnectOnce();
    }, delayMs);
  }

  private async reconnectOnce(): Promise<void> {
    if (this.state !== 'reconnecting') return;
    const connection = this.newConnection();
    this.connection = connection;
    try {
      await connection.open();
    } catch (error) {
      if (this.state !== 'reconnecting') return;
      this.emitter.emit('error', error instanceof Error ? error : new Error(String(error)));
      if (error instanceof ClientError && error.code === 'SIGNON_REFUSED') {
        this.state = 'closed';
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (this.state !== 'reconnecting') {
      await connection.close();
      return;
    }
    this.state = 'open';
    this.emitter.emit('reconnect', { attempts: this.reconnectAttempts });
  }
}

function notConnected(state: ClientState): ClientError {
  return new ClientError('NOT_CONNECTED', `not signed on to the switch (${state})`);
}
