import type { OutboundMessage, TxnRequest } from '../protocol/request.js';

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
