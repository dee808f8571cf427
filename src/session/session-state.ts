/**
 * Where a connection is in docs/protocol.md section 2's life cycle.
 * awaitingSignon -> signedOn -> signingOff -> closed; any state -> closed.
 */
export type SessionPhase = 'awaitingSignon' | 'signedOn' | 'signingOff' | 'closed';
