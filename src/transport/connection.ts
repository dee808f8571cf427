import { performance } from 'node:perf_hooks';
import { admit, isRefusal, securityRefusal } from '../engine/admission.js';
import { MTI, type Role, txnClassOf } from '../protocol/mti.js';
import { RC } from '../protocol/rc.js';
import type { OutboundMessage } from '../protocol/request.js';
import { echoableId } from '../protocol/validate-request.js';
import { Session } from '../session/session.js';
import type { ConnectionContext } from './connection-context.js';
import type { RegisteredConnection } from './connection-registry.js';
import { encodeResponses } from './response-encoder.js';
import type { Violation, Wire, WireEvents } from './wire.js';

type Msg = Record<string, unknown>;

/**
 * One host connection, IO only: decodes payloads into messages, asks the
 * session (section 2 rules) and admission (section 3 checks) what each
 * may do, hands transactions and host answers to the engine, and writes
 * what it owes as one frame per event-loop turn, with back-pressure and
 * the heartbeat's timers. Bad input is answered or closes this connection
 * only.
 */
export class Connection implements WireEvents, RegisteredConnection {
  private readonly session: Session;
  /** Requests read and not yet answered (docs/protocol.md section 1's "in flight"). */
  private inflight = 0;
  private outbox: OutboundMessage[] = [];
  /** performance.now() of each outbox entry's request frame, or -1 for messages the switch originates. */
  private outboxReceivedAt: number[] = [];
  private flushMarked = false;
  private readingPausedForInflight = false;
  private readingPausedForWrites = false;
  /** After sign-off or a violation: stop reading, finish owed work, then close. */
  private closing = false;
  /** Closing by a sign-off, a shutdown or a reload, not lost: an issuer's loss is logged otherwise. */
  private closingGracefully = false;
  private ended = false;
  private signonTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last frame from the host (heartbeat). */
  lastFrameAtMs = performance.now();

  constructor(
    private readonly wire: Wire,
    private readonly ctx: ConnectionContext,
  ) {
    this.session = new Session(ctx.authenticator, ctx.log, wire.remote);
  }

  /** Starts the session: challenge out, sign-on timer running. */
  start(): void {
    this.ctx.registry.add(this);
    this.send(this.session.challenge(this.ctx.config.switchId), -1);
    this.signonTimer = setTimeout(() => {
      if (this.session.awaitingSignon) {
        // A host that connects and never signs on is misconfigured (or not a host): closed, and said so.
        this.ctx.log.warn('sign-on timeout', {
          remote: this.wire.remote,
          transport: this.wire.kind,
          signonTimeoutMs: this.ctx.config.signonTimeoutMs,
        });
        this.closeNow();
      }
    }, this.ctx.config.signonTimeoutMs);
    this.signonTimer.unref();
  }

  get role(): Role | undefined {
    return this.session.identity?.role;
  }

  get institution(): string | undefined {
    return this.session.identity?.institution;
  }

  get remote(): string {
    return this.wire.remote;
  }

  get inflightCount(): number {
    return this.inflight;
  }

  get isOpen(): boolean {
    return !this.session.isClosed;
  }

  get closedGracefully(): boolean {
    return this.closingGracefully;
  }

  // --- WireEvents -------------------------------------------------------

  onPayload(payload: Buffer): void {
    if (this.closing) return;
    const receivedAtMs = performance.now();
    this.lastFrameAtMs = receivedAtMs;
    const messages = this.decode(payload);
    if (messages === undefined) {
      this.violation('malformed');
      return;
    }
    const alone = messages.length === 1;
    for (let i = 0; i < messages.length; i++) this.handleMessage(messages[i]!, receivedAtMs, alone);
    if (this.inflight >= this.ctx.config.limits.inflightMax && !this.readingPausedForInflight) {
      this.readingPausedForInflight = true;
      this.updateReading();
    }
  }

  onWritable(): void {
    if (this.readingPausedForWrites) {
      this.readingPausedForWrites = false;
      this.updateReading();
    }
  }

  onViolation(violation: Violation): void {
    this.violation(violation);
  }

  onClosed(): void {
    if (this.session.isClosed) return;
    this.session.closed();
    if (this.signonTimer !== undefined) clearTimeout(this.signonTimer);
    this.outbox = [];
    this.outboxReceivedAt = [];
    this.ctx.registry.remove(this);
  }

  // --- delivery (ReplyTarget) ------------------------------------------

  /** A response for a request of this connection, from the engine. Dropped if the connection is gone. */
  deliver(response: OutboundMessage, receivedAtMs: number): void {
    this.inflight--;
    this.ctx.registry.inflightDelta(-1);
    if (this.session.isClosed) return;
    this.send(response, receivedAtMs);
    if (this.readingPausedForInflight && this.inflight < this.ctx.config.limits.inflightMax) {
      this.readingPausedForInflight = false;
      this.updateReading();
    }
  }

  /** A message the switch originates for this host (a forward, an advice): false when it can take none. */
  sendToHost(message: OutboundMessage): boolean {
    if (this.closing || this.session.isClosed) return false;
    this.send(message, -1);
    return true;
  }

  flush(): void {
    this.flushMarked = false;
    if (this.session.isClosed || this.outbox.length === 0) {
      this.maybeFinishClosing();
      return;
    }
    const responses = this.outbox;
    const receivedAt = this.outboxReceivedAt;
    this.outbox = [];
    this.outboxReceivedAt = [];
    const { limits } = this.ctx.config;
    let writable = true;
    for (const payload of encodeResponses(responses, limits.batchMax, limits.frameBytesMax)) {
      if (!this.wire.send(payload)) writable = false;
    }
    const nowMs = performance.now();
    const metrics = this.ctx.metrics;
    for (let i = 0; i < responses.length; i++) {
      const at = receivedAt[i]!;
      if (at >= 0) metrics.responseWritten(responses[i]!.mti, responses[i]!.rc, (nowMs - at) / 1000);
    }
    if (!writable && !this.readingPausedForWrites) {
      this.readingPausedForWrites = true;
      this.updateReading();
    }
    this.maybeFinishClosing();
  }

  // --- heartbeat (driven by the registry's sweep) ---------------------

  /** Called periodically; sends the switch's echo or closes a silent peer (docs/protocol.md section 2.5). */
  heartbeat(nowMs: number, heartbeatMs: number, nextEchoId: () => string): void {
    if (this.closing) return;
    const action = this.session.heartbeat(nowMs, this.lastFrameAtMs, heartbeatMs, nextEchoId);
    if (action.k === 'echo') this.send(action.message, -1);
    else if (action.k === 'dead') {
      this.ctx.log.info('heartbeat unanswered: closing', {
        remote: this.wire.remote,
        institution: this.institution,
        role: this.role,
      });
      this.closeNow();
    }
  }

  /** Graceful close (shutdown; a reload that ends this session): stop reading, answer what is owed, then close. */
  closeGracefully(): void {
    this.beginClosing();
  }

  /** Closes at once (sign-on timeout, dead peer). */
  closeNow(): void {
    this.closing = true;
    this.flushOutboxNow();
    this.endWire();
  }

  private endWire(): void {
    if (this.ended) return;
    this.ended = true;
    this.wire.end();
  }

  // --- decoding ----------------------------------------------------------

  /** The payload's messages, or undefined for a protocol violation (section 1). */
  private decode(payload: Buffer): Msg[] | undefined {
    let value: unknown;
    try {
      value = this.ctx.decode(payload);
    } catch {
      return undefined;
    }
    if (Array.isArray(value)) {
      if (value.length === 0 || value.length > this.ctx.config.limits.batchMax) return undefined;
      for (let i = 0; i < value.length; i++) if (!isMap(value[i])) return undefined;
      return value as Msg[];
    }
    return isMap(value) ? [value] : undefined;
  }

  // --- message handling -------------------------------------------------

  private handleMessage(msg: Msg, receivedAtMs: number, alone: boolean): void {
    const mti = msg.mti;
    if (typeof mti !== 'string') {
      this.reject(msg, 'mti is missing or not a string', receivedAtMs);
      return;
    }
    if (mti === MTI.network) {
      this.handleNetwork(msg, receivedAtMs, alone);
      return;
    }
    if (mti === MTI.networkResponse) {
      this.session.onNetworkResponse(msg);
      return;
    }
    const txnClass = txnClassOf(mti);
    if (txnClass !== undefined) {
      this.handleTransaction(msg, txnClass, mti !== txnClass, receivedAtMs);
      return;
    }
    if (HOST_RESPONSE_MTIS.has(mti)) {
      // Issuers' answers and advice acknowledgments: the engine matches them by id.
      const from = this.session.identity;
      if (from !== undefined && this.session.mayAnswer()) this.ctx.engine.hostMessage(from, msg);
      return;
    }
    this.reject(msg, `unknown mti ${mti.slice(0, 8)}`, receivedAtMs);
  }

  private handleNetwork(msg: Msg, receivedAtMs: number, alone: boolean): void {
    const wasAwaitingSignon = this.session.awaitingSignon;
    const { reply, action } = this.session.onNetwork(msg, alone);
    if (reply !== undefined) this.send(reply, receivedAtMs);
    if (wasAwaitingSignon && this.session.signedOn) {
      if (this.signonTimer !== undefined) clearTimeout(this.signonTimer);
      this.ctx.registry.signedOn(this);
      this.ctx.log.info('signed on', {
        remote: this.wire.remote,
        institution: this.institution,
        role: this.role,
        transport: this.wire.kind,
      });
    }
    if (action === 'closeNow') this.closeNow();
    else if (action === 'signOff') this.beginClosing();
  }

  private handleTransaction(
    msg: Msg,
    txnClass: NonNullable<ReturnType<typeof txnClassOf>>,
    repeat: boolean,
    receivedAtMs: number,
  ): void {
    if (!this.session.mayTransact()) {
      this.send(securityRefusal(txnClass, msg), receivedAtMs);
      return;
    }
    const admitted = admit(msg, txnClass, repeat, {
      institution: this.institution!,
      receivedAtMs,
      replyTo: this,
      routes: this.ctx.routes(),
      rrn: this.ctx.rrn,
    });
    if (isRefusal(admitted)) {
      this.send(admitted.refused, receivedAtMs);
      return;
    }
    this.inflight++;
    this.ctx.registry.inflightDelta(1);
    this.ctx.engine.submit(admitted);
  }

  private reject(msg: Msg, error: string, receivedAtMs: number): void {
    this.send({ mti: MTI.reject, id: echoableId(msg.id), rc: RC.invalidTransaction, error }, receivedAtMs);
  }

  // --- output and closing ---------------------------------------------

  private send(message: OutboundMessage, receivedAtMs: number): void {
    if (this.session.isClosed) return;
    this.outbox.push(message);
    this.outboxReceivedAt.push(receivedAtMs);
    if (!this.flushMarked) {
      this.flushMarked = true;
      this.ctx.flushScheduler.mark(this);
    }
  }

  private violation(violation: Violation): void {
    if (this.closing) return;
    this.ctx.log.info('protocol violation: closing', {
      remote: this.wire.remote,
      violation,
      institution: this.institution,
      role: this.role,
    });
    this.closing = true;
    this.flushOutboxNow();
    this.ended = true;
    this.wire.closeForViolation(violation);
  }

  /** Stop reading; the close happens in flush() once nothing is owed. */
  private beginClosing(): void {
    if (this.closing || this.session.isClosed) return;
    this.closing = true;
    this.closingGracefully = true;
    this.ctx.registry.leaveIssuers(this);
    this.session.signingOff();
    this.wire.pauseReading();
    if (!this.flushMarked) {
      this.flushMarked = true;
      this.ctx.flushScheduler.mark(this);
    }
  }

  private maybeFinishClosing(): void {
    if (this.closing && !this.session.isClosed && this.inflight === 0 && this.outbox.length === 0) {
      this.endWire();
    }
  }

  private flushOutboxNow(): void {
    if (this.outbox.length > 0) this.flush();
  }

  private updateReading(): void {
    if (this.closing) return;
    if (this.readingPausedForInflight || this.readingPausedForWrites) this.wire.pauseReading();
    else this.wire.resumeReading();
  }
}

function isMap(value: unknown): value is Msg {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** The response MTIs a host may send the switch (issuer answers and advice acknowledgments). */
const HOST_RESPONSE_MTIS: ReadonlySet<string> = new Set([
  MTI.authResponse,
  MTI.authAdviceResponse,
  MTI.financialResponse,
  MTI.completionResponse,
  MTI.reversalResponse,
  MTI.reversalAdviceResponse,
]);
