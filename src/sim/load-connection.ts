import type { SwitchClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { RequestMessage, ResponseMessage } from '../client/messages.js';
import type { RequestFactory } from './request-factory.js';

/** Messages issued together: one request, or one batch of `size` messages in one frame. */
export interface LoadUnit {
  readonly size: number;
  /** Which connection (index into the driver's list). */
  readonly connection: number;
  /** performance.now() its latency is timed from: the scheduled send time in open loop, else the issue time. */
  readonly startedMs: number;
}

/** Where a connection reports each message's outcome. */
export interface LoadSink {
  /** One message of `unit` was answered with `rc`; `nowMs` is when the answer was read. */
  answered(unit: LoadUnit, rc: string | undefined, nowMs: number): void;
  /** `messages` messages of `unit` got no answer (timeout, disconnect, close); `code` is a ClientError code. */
  failed(unit: LoadUnit, messages: number, code: string): void;
}

/**
 * One connection of the load generator, as the driver sees it. Two kinds:
 * the SDK's SwitchClient (everything a host would use: reconnects, request
 * objects, promises) and the lean connection (sim/lean-connection.ts: the
 * same transports, pre-encoded requests, responses scanned for id and rc),
 * which costs far less CPU per message.
 */
export interface LoadConnection {
  readonly connected: boolean;
  /** Issues `unit.size` requests from `factory`; the outcome of each goes to `sink`. */
  send(unit: LoadUnit, factory: RequestFactory, sink: LoadSink): void;
  /** Writes what send() queued during this turn. */
  flush(): void;
  /** Called after a drop and a successful re-sign-on (the SDK reconnects; the lean connection does not). */
  onReconnect(listener: () => void): void;
  /** Polite end: sign off and wait for the close; a connection that cannot just closes. */
  signoff(): Promise<void>;
  /** Closes now; unanswered messages fail CLOSED. */
  close(): Promise<void>;
}

function errorCode(error: unknown): string {
  return error instanceof ClientError ? error.code : 'UNKNOWN';
}

/** The SDK client as a load connection. It coalesces a turn's sends by itself, so flush() does nothing. */
export class SdkLoadConnection implements LoadConnection {
  constructor(readonly client: SwitchClient) {}

  get connected(): boolean {
    return this.client.connected;
  }

  send(unit: LoadUnit, factory: RequestFactory, sink: LoadSink): void {
    const answered = (responses: readonly ResponseMessage[]): void => {
      const nowMs = performance.now();
      for (let i = 0; i < responses.length; i++) {
        const rc = responses[i]!.rc;
        sink.answered(unit, typeof rc === 'string' ? rc : undefined, nowMs);
      }
    };
    const failed = (error: unknown): void => sink.failed(unit, unit.size, errorCode(error));
    if (unit.size === 1) {
      this.client.request(factory.next()).then((response) => answered([response]), failed);
      return;
    }
    const messages = new Array<RequestMessage>(unit.size);
    for (let i = 0; i < unit.size; i++) messages[i] = factory.next();
    this.client.requestBatch(messages).then(answered, failed);
  }

  flush(): void {}

  onReconnect(listener: () => void): void {
    this.client.on('reconnect', listener);
  }

  async signoff(): Promise<void> {
    await this.client.signoff().catch(() => this.client.close());
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
