import { decodePayload, encodePayload } from '../codec/codec.js';
import { type FrameUnit, unitFits } from './batch-frames.js';
import { createTransport } from './create-transport.js';
import { ClientError } from './errors.js';
import {
  isMessageMap,
  isSwitchInitiatedRequest,
  type MessageId,
  type RequestMessage,
  type ResponseMessage,
} from './messages.js';
import type { ResolvedClientOptions } from './options.js';
import { Outbox } from './outbox.js';
import { PendingTable } from './pending.js';
import { encodeRequest } from './request-encoding.js';
import { signonFor } from './signon.js';
import { handleSwitchMessage, type SwitchMessageHandlers } from './switch-requests.js';
import type { Transport } from './transport.js';

const MTI_NETWORK = '0800';
const MTI_NETWORK_RESPONSE = '0810';
const RC_APPROVED = '00';
// close() ends the connection gracefully; a peer that never closes its side gets this long.
const CLOSE_GRACE_MS = 2_000;

/** What a connection needs from its owner (the SwitchClient). */
export interface ConnectionHooks {
  nextId(): number;
  /** The issuer side's handlers as they are now (set or replaced at any time). */
  switchMessageHandlers(): SwitchMessageHandlers;
  /** Once, after the connection was open and has closed; `error` when it did not close on request. */
  onClosed(connection: Connection, error: ClientError | undefined): void;
  onError(error: Error): void;
}

/** handshake: waiting for the challenge; signon: sign-on sent, waiting for its 0810. */
type Phase = 'handshake' | 'signon' | 'open' | 'closed';

/**
 * One transport plus its session (docs/protocol.md section 2): challenge, sign-on,
 * echo, sign-off, and the requests in flight on it. A connection is used once;
 * reconnecting makes a new one.
 */
export class Connection {
  private phase: Phase = 'handshake';
  private readonly transport: Transport;
  private readonly outbox: Outbox;
  private readonly pending: PendingTable;
  private signonId: MessageId | undefined;
  private settleHandshake: { resolve: () => void; reject: (error: ClientError) => void } | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  /** Set when we chose to close: pending requests get this instead of DISCONNECTED. */
  private closeError: ClientError | undefined;
  private readonly closedPromise: Promise<void>;
  private markClosed: () => void = () => {};
  switchId: string | undefined;

  constructor(
    private readonly options: ResolvedClientOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.closedPromise = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.pending = new PendingTable(options.requestTimeoutMs);
    this.transport = createTransport(options, {
      onPayload: (payload) => this.onPayload(payload),
      onDrain: () => this.outbox.onDrain(),
      onClose: (error) => this.onTransportClose(error),
    });
    this.outbox = new Outbox(this.transport, options.batchMax, options.frameBytesMax, options.coalesce);
  }

  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /** Requests in flight (sent or queued, not yet answered). */
  get inflight(): number {
    return this.pending.size;
  }

  /** Connects, answers the challenge, signs on. Rejects CONNECT_FAILED, CONNECT_TIMEOUT, SIGNON_REFUSED. */
  async open(): Promise<void> {
    const handshake = new Promise<void>((resolve, reject) => {
      this.settleHandshake = { resolve, reject };
    });
    this.handshakeTimer = setTimeout(() => {
      this.failHandshake(
        new ClientError('CONNECT_TIMEOUT', `not signed on within ${this.options.requestTimeoutMs} ms`),
      );
    }, this.options.requestTimeoutMs);
    // A challenge can only arrive once the transport is up, and ws may deliver it
    // before a `ready` continuation would run, so the phase does not wait for `ready`.
    this.transport.ready.then(
      () => {},
      (error: unknown) => {
        this.failHandshake(
          error instanceof ClientError
            ? error
            : new ClientError('CONNECT_FAILED', String(error), { cause: error }),
        );
      },
    );
    try {
      await handshake;
    } finally {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = undefined;
      this.settleHandshake = undefined;
    }
  }

  request(message: RequestMessage): Promise<ResponseMessage> {
    if (this.phase !== 'open') return Promise.reject(notConnected());
    const prepared = encodeRequest(message, this.hooks.nextId, (id) => this.pending.has(id));
    if (prepared instanceof ClientError) return Promise.reject(prepared);
    const unit: FrameUnit = { messages: [prepared.encoded], bytes: prepared.encoded.length, asArray: false };
    if (!unitFits(unit, this.options.batchMax, this.options.frameBytesMax)) {
      return Promise.reject(
        new ClientError(
          'FRAME_TOO_LARGE',
          `message of ${unit.bytes} bytes exceeds frameBytesMax ${this.options.frameBytesMax}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending.add(prepared.id, { resolve, reject });
      this.outbox.enqueue(unit);
    });
  }

  requestBatch(messages: readonly RequestMessage[]): Promise<ResponseMessage[]> {
    if (this.phase !== 'open') return Promise.reject(notConnected());
    if (messages.length === 0)
      return Promise.reject(new ClientError('INVALID_MESSAGE', 'a batch holds at least one message'));
    const ids: MessageId[] = [];
    const encoded: Buffer[] = [];
    const idsInBatch = new Set<MessageId>();
    let bytes = 0;
    for (const message of messages) {
      const prepared = encodeRequest(
        message,
        this.hooks.nextId,
        (id) => this.pending.has(id) || idsInBatch.has(id),
      );
      if (prepared instanceof ClientError) return Promise.reject(prepared);
      idsInBatch.add(prepared.id);
      ids.push(prepared.id);
      encoded.push(prepared.encoded);
      bytes += prepared.encoded.length;
    }
    const unit: FrameUnit = { messages: encoded, bytes, asArray: true };
    if (!unitFits(unit, this.options.batchMax, this.options.frameBytesMax)) {
      return Promise.reject(
        new ClientError(
          'FRAME_TOO_LARGE',
          `batch of ${messages.length} messages / ${bytes} bytes exceeds batchMax ${this.options.batchMax} or frameBytesMax ${this.options.frameBytesMax}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const responses = new Array<ResponseMessage>(ids.length);
      let remaining = ids.length;
      let failed = false;
      ids.forEach((id, index) => {
        this.pending.add(id, {
          resolve: (response) => {
            if (failed) return;
            responses[index] = response;
            remaining--;
            if (remaining === 0) resolve(responses);
          },
          reject: (error) => {
            if (failed) return;
            failed = true;
            // The batch has failed as a whole; late answers to its other ids are now unknown ids.
            for (const other of ids) this.pending.cancel(other);
            reject(error);
          },
        });
      });
      this.outbox.enqueue(unit);
    });
  }

  async echo(): Promise<void> {
    const response = await this.request({ mti: MTI_NETWORK, code: 'echo' });
    if (response.rc !== RC_APPROVED) {
      throw new ClientError('UNEXPECTED_RESPONSE', `echo answered rc ${String(response.rc)}`, {
        rc: String(response.rc),
      });
    }
  }

  /**
   * Sign-off queues behind everything already requested; the switch answers
   * 0810, flushes the responses it still owes, and closes. Resolves once
   * closed. A switch that closes without the 0810 has signed us off too.
   */
  async signoff(): Promise<void> {
    if (this.phase !== 'open') throw notConnected();
    // From here the switch closing the connection is the expected end, not a drop.
    this.expectClose(new ClientError('CLOSED', 'signed off'));
    let rc: string | undefined;
    const answered = this.request({ mti: MTI_NETWORK, code: 'signoff' }).then(
      (response) => {
        rc = String(response.rc);
      },
      (error: unknown) => {
        if (error instanceof ClientError && error.code === 'CLOSED') return;
        throw error;
      },
    );
    try {
      await answered;
    } catch (error) {
      this.close(new ClientError('CLOSED', 'sign-off not answered; closed'));
      await this.closedPromise;
      throw error;
    }
    // Our own bound on the switch's "then closes": it should not need longer than a request.
    const closeTimer = setTimeout(
      () => this.transport.destroy(new ClientError('CLOSED', 'closed after sign-off')),
      this.options.requestTimeoutMs,
    );
    await this.closedPromise;
    clearTimeout(closeTimer);
    if (rc !== undefined && rc !== RC_APPROVED) {
      throw new ClientError('UNEXPECTED_RESPONSE', `sign-off answered rc ${rc}`, { rc });
    }
  }

  /** Closes on our initiative: unanswered requests reject with `reason`. Resolves when the socket is closed. */
  close(reason: ClientError = new ClientError('CLOSED', 'client closed')): Promise<void> {
    this.closeError ??= reason;
    if (this.phase === 'closed') return this.closedPromise;
    if (this.phase !== 'open') {
      // Still in the handshake: open() rejects with the reason.
      this.failHandshake(reason);
      return this.closedPromise;
    }
    this.pending.rejectAll(reason);
    this.outbox.discard();
    this.transport.end();
    const graceTimer = setTimeout(() => this.transport.destroy(), CLOSE_GRACE_MS);
    void this.closedPromise.then(() => clearTimeout(graceTimer));
    return this.closedPromise;
  }

  /**
   * Destroys the socket as a network failure would: no sign-off, unanswered
   * requests reject DISCONNECTED and the owner sees a drop (and reconnects).
   */
  drop(): void {
    if (this.phase !== 'open') return;
    this.transport.destroy(new ClientError('DISCONNECTED', 'connection dropped on request'));
  }

  /** Marks that closing is expected from now on (sign-off): the close is not a DISCONNECT. */
  private expectClose(reason: ClientError): void {
    this.closeError ??= reason;
  }

  private onPayload(payload: Buffer): void {
    let decoded: unknown;
    try {
      decoded = decodePayload(payload);
    } catch (error) {
      this.protocolError('switch sent a payload that is not MessagePack', error);
      return;
    }
    if (Array.isArray(decoded)) {
      for (const message of decoded) if (isMessageMap(message)) this.onMessage(message);
    } else if (isMessageMap(decoded)) {
      this.onMessage(decoded);
    }
    // Anything else carries no mti: nothing in it can be matched or answered.
  }

  private onMessage(message: ResponseMessage): void {
    if (message.mti === MTI_NETWORK) {
      this.onNetworkRequest(message);
      return;
    }
    if (message.mti === MTI_NETWORK_RESPONSE && this.phase === 'signon' && message.id === this.signonId) {
      this.onSignonAnswer(message);
      return;
    }
    if (isSwitchInitiatedRequest(message.mti)) {
      this.onSwitchRequest(message);
      return;
    }
    // Responses: unknown ids (late answers after a timeout, say) are ignored.
    this.pending.settle(message);
  }

  private onNetworkRequest(message: ResponseMessage): void {
    if (message.code === 'challenge') {
      if (this.phase === 'handshake') this.sendSignon(message);
      return;
    }
    if (message.code === 'echo' && message.id !== undefined) {
      this.sendAnswer({ mti: MTI_NETWORK_RESPONSE, id: message.id, code: 'echo', rc: RC_APPROVED });
    }
  }

  private sendSignon(challenge: ResponseMessage): void {
    const signon = signonFor(challenge, this.options, this.hooks.nextId());
    if (signon instanceof ClientError) {
      this.failHandshake(signon);
      return;
    }
    this.switchId = typeof challenge.switch === 'string' ? challenge.switch : undefined;
    this.signonId = signon.id as MessageId;
    this.phase = 'signon';
    // The sign-on travels alone in its frame (docs/protocol.md section 2.4): straight to the transport.
    this.transport.send(encodePayload(signon));
  }

  private onSignonAnswer(answer: ResponseMessage): void {
    if (answer.rc === RC_APPROVED) {
      this.phase = 'open';
      this.settleHandshake?.resolve();
      return;
    }
    const rc = String(answer.rc);
    this.failHandshake(
      new ClientError(
        'SIGNON_REFUSED',
        `switch refused the sign-on of ${this.options.institution}: rc ${rc}`,
        { rc },
      ),
    );
  }

  private onSwitchRequest(message: ResponseMessage): void {
    if (this.phase !== 'open') return;
    handleSwitchMessage(message, this.hooks.switchMessageHandlers(), this.sendAnswer, this.hooks.onError);
  }

  /**
   * Answers to the switch's own messages: not tracked, coalesced with our
   * traffic. False once the connection has closed: an answer belongs to the
   * connection its request came on.
   */
  private readonly sendAnswer = (answer: Record<string, unknown>): boolean => {
    if (this.phase === 'closed') return false;
    const encoded = encodePayload(answer);
    this.outbox.enqueue({ messages: [encoded], bytes: encoded.length, asArray: false });
    return true;
  };

  private protocolError(message: string, cause: unknown): void {
    const error = new ClientError('PROTOCOL_ERROR', message, { cause });
    this.hooks.onError(error);
    if (this.phase === 'open') this.transport.destroy(error);
    else this.failHandshake(error);
  }

  private failHandshake(error: ClientError): void {
    if (this.phase === 'open' || this.phase === 'closed') return;
    this.phase = 'closed';
    this.settleHandshake?.reject(error);
    this.outbox.discard();
    this.transport.destroy(error);
    // The transport reports close only after `ready`; before that, the close is ours to mark.
    this.transport.ready.then(
      () => {},
      () => this.markClosed(),
    );
  }

  private onTransportClose(error: Error | undefined): void {
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    this.outbox.discard();
    if (wasOpen) {
      const reason =
        this.closeError ??
        new ClientError(
          'DISCONNECTED',
          `connection to the switch dropped${error ? `: ${error.message}` : ''}`,
          {
            cause: error,
          },
        );
      this.pending.rejectAll(reason);
      this.hooks.onClosed(this, this.closeError === undefined ? reason : undefined);
    } else {
      this.settleHandshake?.reject(
        new ClientError(
          'CONNECT_FAILED',
          `connection closed during sign-on${error ? `: ${error.message}` : ''}`,
          {
            cause: error,
          },
        ),
      );
    }
    this.markClosed();
  }
}

function notConnected(): ClientError {
  return new ClientError('NOT_CONNECTED', 'not signed on to the switch');
}
