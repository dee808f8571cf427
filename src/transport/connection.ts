import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TxnContext } from '../engine/engine.js';
import { MTI, NETWORK_CODE, ROLES, type Role, responseMtiOf, txnClassOf } from '../protocol/mti.js';
import { RC } from '../protocol/rc.js';
import type { OutboundMessage } from '../protocol/request.js';
import { NONCE_BYTES, SIGNATURE_BYTES } from '../protocol/signon.js';
import { echoableId, isValidId, validateRequest } from '../protocol/validate-request.js';
import type { SessionIdentity, SessionPhase } from '../session/session-state.js';
import { isPanShaped, luhnValid } from '../util/pan.js';
import type { ConnectionContext } from './connection-context.js';
import { encodeResponses } from './response-encoder.js';
import type { Violation, Wire, WireEvents } from './wire.js';

type Msg = Record<string, unknown>;

/** Protocol version announced in the challenge. */
export const PROTOCOL_VERSION = 1;

/**
 * One host connection: decodes payloads, runs the session rules of
 * PROTOCOL.md section 2, validates and routes transactions (section 3) and
 * hands them to the engine, and writes the responses it owes as one frame
 * per event-loop turn. Bad input is answered or closes this connection only.
 */
export class Connection implements WireEvents {
  private phase: SessionPhase = 'awaitingSignon';
  private identity: SessionIdentity | undefined;
  private readonly nonce = randomBytes(NONCE_BYTES);
  /** Requests read and not yet answered (PROTOCOL.md section 1's "in flight"). */
  private inflight = 0;
  private outbox: OutboundMessage[] = [];
  /** performance.now() of each outbox entry's request frame, or -1 for messages the switch originates. */
  private outboxReceivedAt: number[] = [];
  private flushMarked = false;
  private readingPausedForInflight = false;
  private readingPausedForWrites = false;
  /** After sign-off or a violation: stop reading, finish owed work, then close. */
  private closing = false;
  private ended = false;
  private signonTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last frame from the host (heartbeat). */
  lastFrameAtMs = performance.now();
  /** The id of the switch's own echo awaiting its 0810, and when it left. */
  private pendingEchoId: string | undefined;
  private pendingEchoSentAtMs = 0;

  constructor(
    private readonly wire: Wire,
    private readonly ctx: ConnectionContext,
  ) {}

  /** Starts the session: challenge out, sign-on timer running. */
  start(): void {
    this.ctx.registry.add(this);
    this.send(
      {
        mti: MTI.network,
        code: NETWORK_CODE.challenge,
        nonce: this.nonce,
        switch: this.ctx.config.switchId,
        version: PROTOCOL_VERSION,
      },
      -1,
    );
    this.signonTimer = setTimeout(() => {
      if (this.phase === 'awaitingSignon') {
        this.ctx.log.info('sign-on timeout', { remote: this.wire.remote });
        this.closeNow();
      }
    }, this.ctx.config.signonTimeoutMs);
    this.signonTimer.unref();
  }

  get role(): Role | undefined {
    return this.identity?.role;
  }

  get institution(): string | undefined {
    return this.identity?.institution;
  }

  get inflightCount(): number {
    return this.inflight;
  }

  get isOpen(): boolean {
    return this.phase !== 'closed';
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
    if (this.phase === 'closed') return;
    this.phase = 'closed';
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
    if (this.phase === 'closed') return;
    this.send(response, receivedAtMs);
    if (this.readingPausedForInflight && this.inflight < this.ctx.config.limits.inflightMax) {
      this.readingPausedForInflight = false;
      this.updateReading();
    }
  }

  flush(): void {
    this.flushMarked = false;
    if (this.phase === 'closed' || this.outbox.length === 0) {
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
      if (at >= 0) metrics.responseWritten(responses[i]!.mti, responses[i]!.rc ?? '', (nowMs - at) / 1000);
    }
    if (!writable && !this.readingPausedForWrites) {
      this.readingPausedForWrites = true;
      this.updateReading();
    }
    this.maybeFinishClosing();
  }

  // --- heartbeat (driven by the registry's sweep) ---------------------

  /** Called periodically; sends the switch's echo or closes a silent peer (PROTOCOL.md section 2.5). */
  heartbeat(nowMs: number, heartbeatMs: number, nextEchoId: () => string): void {
    if (this.phase !== 'signedOn' || this.closing) return;
    if (this.pendingEchoId !== undefined) {
      if (nowMs - this.pendingEchoSentAtMs >= heartbeatMs) {
        this.ctx.log.info('heartbeat unanswered: closing', {
          remote: this.wire.remote,
          institution: this.institution,
        });
        this.closeNow();
      }
      return;
    }
    if (nowMs - this.lastFrameAtMs >= heartbeatMs) {
      this.pendingEchoId = nextEchoId();
      this.pendingEchoSentAtMs = nowMs;
      this.send({ mti: MTI.network, id: this.pendingEchoId, code: NETWORK_CODE.echo }, -1);
    }
  }

  /** Graceful close for shutdown: stop reading, answer what is owed, then close. */
  closeGracefully(): void {
    this.beginClosing();
  }

  /** Closes at once (sign-on timeout, dead peer, institution removed). */
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
      if (this.pendingEchoId !== undefined && msg.id === this.pendingEchoId) this.pendingEchoId = undefined;
      return;
    }
    const txnClass = txnClassOf(mti);
    if (txnClass !== undefined) {
      this.handleTransaction(msg, txnClass, mti !== txnClass, receivedAtMs);
      return;
    }
    if (isResponseMti(mti)) {
      // Responses and advice acknowledgments from issuer hosts; nothing is
      // awaiting them until issuer routing exists, and a response with an
      // unknown id is ignored (PROTOCOL.md section 4).
      return;
    }
    this.reject(msg, `unknown mti ${mti.slice(0, 8)}`, receivedAtMs);
  }

  private handleNetwork(msg: Msg, receivedAtMs: number, alone: boolean): void {
    const code = msg.code;
    if (code === NETWORK_CODE.signoff && this.phase !== 'signedOn') {
      // Before sign-on, a sign-off just closes (section 2.4).
      if (this.phase === 'awaitingSignon') this.closeNow();
      return;
    }
    if (code === NETWORK_CODE.signon && this.phase === 'awaitingSignon') {
      this.handleSignon(msg, receivedAtMs, alone);
      return;
    }
    const reply: OutboundMessage = {
      mti: MTI.networkResponse,
      id: echoableId(msg.id),
      code: typeof code === 'string' ? code : undefined,
      rc: RC.approved,
    };
    if (this.phase !== 'signedOn') {
      reply.rc = RC.securityViolation;
    } else if (!isValidId(msg.id)) {
      reply.rc = RC.formatError;
      reply.error = 'id is required: an unsigned integer below 2^53 or a string of at most 64 bytes';
    } else if (code === NETWORK_CODE.signon) {
      reply.rc = RC.securityViolation;
      reply.error = 'already signed on';
    } else if (code === NETWORK_CODE.echo) {
      // rc 00
    } else if (code === NETWORK_CODE.signoff) {
      this.send(reply, receivedAtMs);
      this.beginClosing();
      return;
    } else {
      reply.rc = RC.formatError;
      reply.error = 'code must be signon, echo or signoff';
    }
    this.send(reply, receivedAtMs);
  }

  private handleSignon(msg: Msg, receivedAtMs: number, alone: boolean): void {
    const { institution, role, sig, id } = msg;
    const reply: OutboundMessage = {
      mti: MTI.networkResponse,
      id: echoableId(id),
      code: NETWORK_CODE.signon,
      rc: RC.securityViolation,
    };
    if (!isValidId(id)) {
      reply.rc = RC.formatError;
      reply.error = 'id is required: an unsigned integer below 2^53 or a string of at most 64 bytes';
      this.send(reply, receivedAtMs);
      return;
    }
    let refusal: string | undefined;
    if (!alone) refusal = 'sign-on must travel alone in its frame';
    else if (typeof institution !== 'string' || typeof role !== 'string' || !ROLES.includes(role as Role)) {
      refusal = 'institution and role are required';
    } else if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES)
      refusal = 'sig must be 64 bytes';
    else if (!this.ctx.authenticator().verify(this.nonce, institution, role as Role, sig)) {
      refusal = 'sign-on refused';
    }
    if (refusal !== undefined) {
      // One message for every refusal reason on the wire: do not tell a prober which part was wrong.
      this.ctx.log.warn('sign-on refused', {
        remote: this.wire.remote,
        institution: typeof institution === 'string' ? institution.slice(0, 64) : undefined,
        reason: refusal,
      });
      reply.error = refusal === 'sign-on must travel alone in its frame' ? refusal : 'sign-on refused';
      this.send(reply, receivedAtMs);
      this.closeNow();
      return;
    }
    this.identity = { institution: institution as string, role: role as Role };
    this.phase = 'signedOn';
    if (this.signonTimer !== undefined) clearTimeout(this.signonTimer);
    this.ctx.log.info('signed on', {
      remote: this.wire.remote,
      institution,
      role,
      transport: this.wire.kind,
    });
    reply.rc = RC.approved;
    this.send(reply, receivedAtMs);
  }

  private handleTransaction(
    msg: Msg,
    txnClass: NonNullable<ReturnType<typeof txnClassOf>>,
    repeat: boolean,
    receivedAtMs: number,
  ): void {
    const responseMti = responseMtiOf(txnClass);
    const stan = typeof msg.stan === 'number' ? msg.stan : undefined;
    if (this.phase !== 'signedOn' || this.identity?.role !== 'acquirer') {
      this.send({ mti: responseMti, id: echoableId(msg.id), stan, rc: RC.securityViolation }, receivedAtMs);
      return;
    }
    const validated = validateRequest(msg, txnClass, repeat);
    if (!validated.ok) {
      const rrn = validated.rc === RC.formatError ? undefined : this.ctx.rrn();
      this.send(
        { mti: responseMti, id: echoableId(msg.id), stan, rc: validated.rc, rrn, error: validated.error },
        receivedAtMs,
      );
      return;
    }
    const request = validated.request;
    const issuer = this.ctx.routes().lookup(request.pan);
    if (issuer === undefined) {
      this.send(
        { mti: responseMti, id: request.id, stan, rc: RC.noRoute, rrn: this.ctx.rrn() },
        receivedAtMs,
      );
      return;
    }
    if (!isPanShaped(request.pan) || !luhnValid(request.pan)) {
      this.send(
        { mti: responseMti, id: request.id, stan, rc: RC.invalidCard, rrn: this.ctx.rrn() },
        receivedAtMs,
      );
      return;
    }
    this.inflight++;
    this.ctx.registry.inflightDelta(1);
    const txn: TxnContext = {
      request,
      institution: this.identity.institution,
      issuer,
      receivedAtMs,
      replyTo: this,
    };
    this.ctx.engine.submit(txn);
  }

  private reject(msg: Msg, error: string, receivedAtMs: number): void {
    this.send({ mti: MTI.reject, id: echoableId(msg.id), rc: RC.invalidTransaction, error }, receivedAtMs);
  }

  // --- output and closing ---------------------------------------------

  private send(message: OutboundMessage, receivedAtMs: number): void {
    if (this.phase === 'closed') return;
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
    });
    this.closing = true;
    this.flushOutboxNow();
    this.ended = true;
    this.wire.closeForViolation(violation);
  }

  /** Stop reading; the close happens in flush() once nothing is owed. */
  private beginClosing(): void {
    if (this.closing || this.phase === 'closed') return;
    this.closing = true;
    if (this.phase === 'signedOn') this.phase = 'signingOff';
    this.wire.pauseReading();
    if (!this.flushMarked) {
      this.flushMarked = true;
      this.ctx.flushScheduler.mark(this);
    }
  }

  private maybeFinishClosing(): void {
    if (this.closing && this.phase !== 'closed' && this.inflight === 0 && this.outbox.length === 0) {
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

function isResponseMti(mti: string): boolean {
  return HOST_RESPONSE_MTIS.has(mti);
}
