import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/log.js';
import { MTI, NETWORK_CODE, ROLES, type Role } from '../protocol/mti.js';
import { RC } from '../protocol/rc.js';
import type { OutboundMessage } from '../protocol/request.js';
import { NONCE_BYTES, SIGNATURE_BYTES } from '../protocol/signon.js';
import type { HostIdentity } from '../protocol/txn-context.js';
import { echoableId, isValidId } from '../protocol/validate-request.js';
import type { Authenticator } from './authenticator.js';
import type { SessionPhase } from './session-state.js';

/** Protocol version announced in the challenge. */
export const PROTOCOL_VERSION = 1;

type Msg = Record<string, unknown>;

/** What the connection must do after a network message, besides sending `reply`. */
export type SessionAction = 'none' | 'closeNow' | 'signOff';

export interface NetworkOutcome {
  readonly reply: OutboundMessage | undefined;
  readonly action: SessionAction;
}

/** What the heartbeat asks of the connection (docs/protocol.md section 2.5). */
export type HeartbeatAction =
  | { readonly k: 'none' }
  | { readonly k: 'dead' }
  | { readonly k: 'echo'; readonly message: OutboundMessage };

const NONE: NetworkOutcome = { reply: undefined, action: 'none' };
const CLOSE: NetworkOutcome = { reply: undefined, action: 'closeNow' };
const HEARTBEAT_NONE: HeartbeatAction = { k: 'none' };
const HEARTBEAT_DEAD: HeartbeatAction = { k: 'dead' };
const ID_REQUIRED = 'id is required: an unsigned integer below 2^53 or a string of at most 64 bytes';
const ALONE_REQUIRED = 'sign-on must travel alone in its frame';
const ALREADY_SIGNED_ON = 'already signed on';

/**
 * The session rules of docs/protocol.md section 2 for one connection, free of IO:
 * the challenge, sign-on, echo and sign-off answers, the heartbeat's echo
 * bookkeeping, and what a message may do in the current phase. The
 * connection sends what this returns and owns the timers and the socket.
 */
export class Session {
  private phase: SessionPhase = 'awaitingSignon';
  private id: HostIdentity | undefined;
  private readonly nonce = randomBytes(NONCE_BYTES);
  /** The id of the switch's own echo awaiting its 0810, and when it left. */
  private pendingEchoId: string | undefined;
  private pendingEchoSentAtMs = 0;

  constructor(
    private readonly authenticator: () => Authenticator,
    private readonly log: Logger,
    private readonly remote: string,
  ) {}

  /** The first message of every connection (section 2.1). */
  challenge(switchId: string): OutboundMessage {
    return {
      mti: MTI.network,
      code: NETWORK_CODE.challenge,
      nonce: this.nonce,
      switch: switchId,
      version: PROTOCOL_VERSION,
    };
  }

  get identity(): HostIdentity | undefined {
    return this.id;
  }

  get awaitingSignon(): boolean {
    return this.phase === 'awaitingSignon';
  }

  get signedOn(): boolean {
    return this.phase === 'signedOn';
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** From here on the session answers as signed off (section 2.4: requests after a sign-off get 63). */
  signingOff(): void {
    if (this.phase === 'signedOn') this.phase = 'signingOff';
  }

  closed(): void {
    this.phase = 'closed';
  }

  /** Only a signed-on acquirer sends transactions; anyone else gets 63. */
  mayTransact(): boolean {
    return this.phase === 'signedOn' && this.id?.role === 'acquirer';
  }

  /**
   * Whether a response-class message (an issuer's answer or advice
   * acknowledgment) is for the engine: only from a signed-on session; before
   * sign-on it is ignored like any response with an unknown id (section 4).
   */
  mayAnswer(): boolean {
    return this.phase === 'signedOn';
  }

  /** A host's 0810: the answer to the switch's own echo. */
  onNetworkResponse(msg: Msg): void {
    if (this.pendingEchoId !== undefined && msg.id === this.pendingEchoId) this.pendingEchoId = undefined;
  }

  /** A host's 0800 (sign-on, echo, sign-off). */
  onNetwork(msg: Msg, alone: boolean): NetworkOutcome {
    const code = msg.code;
    if (code === NETWORK_CODE.signoff && this.phase !== 'signedOn') {
      // Before sign-on, a sign-off just closes (section 2.4).
      return this.phase === 'awaitingSignon' ? CLOSE : NONE;
    }
    if (code === NETWORK_CODE.signon && this.phase === 'awaitingSignon') return this.signOn(msg, alone);
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
      reply.error = ID_REQUIRED;
    } else if (code === NETWORK_CODE.signon) {
      reply.rc = RC.securityViolation;
      reply.error = ALREADY_SIGNED_ON;
      // The session goes on: a host that signs on twice has lost track of its own sessions.
      this.log.warn('sign-on refused', {
        remote: this.remote,
        institution: this.id?.institution,
        role: this.id?.role,
        reason: ALREADY_SIGNED_ON,
      });
    } else if (code === NETWORK_CODE.echo) {
      // rc 00
    } else if (code === NETWORK_CODE.signoff) {
      return { reply, action: 'signOff' };
    } else {
      reply.rc = RC.formatError;
      reply.error = 'code must be signon, echo or signoff';
    }
    return { reply, action: 'none' };
  }

  /**
   * Called on every heartbeat sweep of a signed-on connection: the switch's
   * own echo after `heartbeatMs` of silence, and a dead peer when that echo
   * went unanswered for another `heartbeatMs`.
   */
  heartbeat(
    nowMs: number,
    lastFrameAtMs: number,
    heartbeatMs: number,
    nextEchoId: () => string,
  ): HeartbeatAction {
    if (this.phase !== 'signedOn') return HEARTBEAT_NONE;
    if (this.pendingEchoId !== undefined) {
      return nowMs - this.pendingEchoSentAtMs >= heartbeatMs ? HEARTBEAT_DEAD : HEARTBEAT_NONE;
    }
    if (nowMs - lastFrameAtMs < heartbeatMs) return HEARTBEAT_NONE;
    this.pendingEchoId = nextEchoId();
    this.pendingEchoSentAtMs = nowMs;
    return { k: 'echo', message: { mti: MTI.network, id: this.pendingEchoId, code: NETWORK_CODE.echo } };
  }

  private signOn(msg: Msg, alone: boolean): NetworkOutcome {
    const { institution, role, sig, id } = msg;
    const reply: OutboundMessage = {
      mti: MTI.networkResponse,
      id: echoableId(id),
      code: NETWORK_CODE.signon,
      rc: RC.securityViolation,
    };
    if (!isValidId(id)) {
      // Answered 30; the connection stays open until signonTimeoutMs.
      reply.rc = RC.formatError;
      reply.error = ID_REQUIRED;
      return { reply, action: 'none' };
    }
    let refusal: string | undefined;
    if (!alone) refusal = ALONE_REQUIRED;
    else if (typeof institution !== 'string' || typeof role !== 'string' || !ROLES.includes(role as Role)) {
      refusal = 'institution and role are required';
    } else if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES)
      refusal = 'sig must be 64 bytes';
    else refusal = this.authenticator().refusal(this.nonce, institution, role as Role, sig);
    if (refusal !== undefined) {
      // One message for every refusal reason on the wire: do not tell a prober which part was wrong.
      // The log says which (unknown institution, wrong role, bad signature, ...) for the people on call.
      this.log.warn('sign-on refused', {
        remote: this.remote,
        institution: typeof institution === 'string' ? institution.slice(0, 64) : undefined,
        // Only a role of the contract: anything else is the host's free text, and the reason says it is wrong.
        role: ROLES.includes(role as Role) ? role : undefined,
        reason: refusal,
      });
      reply.error = refusal === ALONE_REQUIRED ? refusal : 'sign-on refused';
      return { reply, action: 'closeNow' };
    }
    this.id = { institution: institution as string, role: role as Role };
    this.phase = 'signedOn';
    reply.rc = RC.approved;
    return { reply, action: 'none' };
  }
}
