import type { ResolvedClientOptions } from './options.js';
import { createTcpTransport } from './tcp-transport.js';
import type { Transport, TransportEvents } from './transport.js';
import { createWsTransport } from './ws-transport.js';

/** The transport the options name: TCP (or TLS) with length-prefixed frames, or WebSocket (or WSS). */
export function createTransport(options: ResolvedClientOptions, events: TransportEvents): Transport {
  return options.transport === 'tcp'
    ? createTcpTransport(options, events)
    : createWsTransport(options, events);
}
