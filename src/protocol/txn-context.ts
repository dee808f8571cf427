import type { Role } from './mti.js';
import type { OutboundMessage, TxnRequest } from './request.js';

/** The issuer a route names for the switch's own accounts (docs/protocol.md section 4). */
export const LOCAL_ISSUER = 'local';

/** Who a message came from: a signed-on session's institution and role. */
export interface HostIdentity {
  readonly institution: string;
  readonly role: Role;
}

/** Where a transaction's response goes back to (a connection, or a test). */
export interface ReplyTarget {
  /** Called exactly once per submitted context, on the main thread. */
  deliver(response: OutboundMessage, receivedAtMs: number): void;
}

/** A validated, routed transaction on its way to the ledger or an issuer. */
export interface TxnContext {
  readonly request: TxnRequest;
  /** The acquirer's institution id (the signed-on session's). */
  readonly institution: string;
  /** 'local' or the issuer institution id the route chose. */
  readonly issuer: string;
  /** performance.now() when the frame carrying it arrived. */
  readonly receivedAtMs: number;
  readonly replyTo: ReplyTarget;
}

/**
 * The transaction back end behind the sessions: the on-us ledger (account
 * actors on workers) and, later, issuer routing. Business outcomes come back
 * as response codes through `replyTo`; submit never throws for them.
 */
export interface TransactionEngine {
  submit(ctx: TxnContext): void;
  /** Everything the engine needs is up (workers, store). Feeds /readyz. */
  isReady(): boolean;
  /** Stops taking work; resolves once every submitted context has been answered. */
  close(): Promise<void>;
}

/** Takes the response-class messages hosts send: issuers' answers and advice acknowledgments. */
export interface HostMessageSink {
  /**
   * A response-class message from a signed-on host (an issuer's 0110/0210,
   * an advice acknowledgment): matched by `id`; one nobody awaits is
   * ignored (docs/protocol.md section 4).
   */
  hostMessage(from: HostIdentity, msg: Readonly<Record<string, unknown>>): void;
}

/** What the sessions talk to: transactions in, host answers in. */
export type SwitchEngine = TransactionEngine & HostMessageSink;

/** A signed-on issuer connection, as the issuer engine sends on it (docs/issuers.md). */
export interface IssuerLink {
  /** Queues `message` in the connection's next coalesced frame; false when the connection is closing or gone. */
  sendToHost(message: OutboundMessage): boolean;
}

/** A signed-on issuer connection that closed: what the issuer engine needs to say what it stranded. */
export interface IssuerLinkEnd {
  readonly link: IssuerLink;
  readonly issuer: string;
  /** The peer's address, for the log. */
  readonly remote: string;
  /** By the issuer's sign-off, a shutdown or a reload; false when the connection was lost. */
  readonly graceful: boolean;
  /** The issuer's signed-on connections still open. */
  readonly connectionsLeft: number;
}

/** The signed-on connections of each issuer institution (the connection registry keeps them). */
export interface IssuerLinks {
  linksOf(issuer: string): readonly IssuerLink[];
}
