/**
 * One server-side connection's transport, TCP (length-prefixed) or WebSocket
 * (one binary message per payload), behind one interface so that sessions and
 * back-pressure are written once.
 */

export type TransportKind = 'tcp' | 'ws';

/** Why a connection is closed for a protocol violation (docs/protocol.md section 1). */
export type Violation =
  /** TCP frame or WS message above limits.frameBytesMax (WS: 1009). */
  | 'oversize'
  /** Not MessagePack, wrong top level, or too many messages (WS: 1007). */
  | 'malformed'
  /** WS text message (1003). */
  | 'text';

export interface WireEvents {
  /** One complete payload (a frame body or a binary WS message). */
  onPayload(payload: Buffer): void;
  /** The transport can take more writes after send() returned false. */
  onWritable(): void;
  /** The transport broke a framing rule on its own (oversize, text). */
  onViolation(violation: Violation): void;
  /** Closed, for whatever reason; called exactly once. */
  onClosed(): void;
}

export interface Wire {
  readonly kind: TransportKind;
  /** host:port of the peer, for logs. */
  readonly remote: string;
  /** Sends one payload as one frame. Returns false when the peer is not keeping up. */
  send(payload: Buffer): boolean;
  pauseReading(): void;
  resumeReading(): void;
  /** Flushes what was sent, then closes (WS: close code 1000). */
  end(): void;
  /** Closes for a violation with the transport's own signal (TCP: close; WS: the section 1 close code). */
  closeForViolation(violation: Violation): void;
  /** Drops the connection at once, nothing flushed. */
  destroy(): void;
}

/** WS close codes of docs/protocol.md section 1. */
export const WS_CLOSE_CODE: Readonly<Record<Violation, number>> = {
  oversize: 1009,
  malformed: 1007,
  text: 1003,
};
