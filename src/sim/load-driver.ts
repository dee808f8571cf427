import type { SwitchClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { ResponseMessage } from '../client/messages.js';
import type { SimLoadOptions } from './args.js';
import type { RequestFactory } from './request-factory.js';
import type { SimStats } from './stats.js';

/** How often the open-loop pacer looks at the clock when a rate is set. */
const RATE_TICK_MS_MIN = 1;
const RATE_TICK_MS_MAX = 10;

/**
 * Issues requests over the connections: closed loop (at most `inflightMax`
 * outstanding per connection) and, with a rate, paced by a budget of
 * rate x elapsed time. Units are one request or one requestBatch() of
 * `batch` messages; a unit is only issued whole.
 */
export class LoadDriver {
  private readonly inflight: number[];
  private totalInflight = 0;
  private stopping = false;
  private pumpQueued = false;
  private pumpDeferred = false;
  private nextConnection = 0;
  private startedMs = 0;
  private stoppedMs = 0;
  private rateTimer: NodeJS.Timeout | undefined;
  private settleDone: () => void = () => {};
  private readonly done: Promise<void>;

  constructor(
    private readonly clients: readonly SwitchClient[],
    private readonly factory: RequestFactory,
    private readonly stats: SimStats,
    private readonly options: Pick<SimLoadOptions, 'ratePerS' | 'count' | 'inflightMax' | 'batch'>,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.inflight = clients.map(() => 0);
    this.done = new Promise((resolve) => {
      this.settleDone = resolve;
    });
    for (const client of clients) client.on('reconnect', () => this.queuePump());
  }

  /** Milliseconds from start() until the last outstanding request settled after stop(). */
  get elapsedMs(): number {
    return (this.stoppedMs === 0 ? this.nowMs() : this.stoppedMs) - this.startedMs;
  }

  /** Resolves once stopped and every request issued has settled (answer, timeout or disconnect). */
  start(): Promise<void> {
    this.startedMs = this.nowMs();
    if (this.options.ratePerS > 0) {
      const tickMs = Math.min(RATE_TICK_MS_MAX, Math.max(RATE_TICK_MS_MIN, 1000 / this.options.ratePerS));
      this.rateTimer = setInterval(() => this.pump(), tickMs);
    }
    this.pump();
    return this.done;
  }

  /** Stop issuing; the run ends when the outstanding requests have settled. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.rateTimer !== undefined) clearInterval(this.rateTimer);
    this.rateTimer = undefined;
    this.finishIfDrained();
  }

  private queuePump(): void {
    if (this.pumpQueued || this.stopping) return;
    this.pumpQueued = true;
    // After the current batch of completions (all resolved from one payload), not once per response.
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /**
   * After failures, the next pump waits for the event loop: a request that
   * fails synchronously (say, not connected) must not spin in microtasks and
   * starve the timers that would stop the run.
   */
  private deferPump(): void {
    if (this.pumpDeferred || this.stopping) return;
    this.pumpDeferred = true;
    setImmediate(() => {
      this.pumpDeferred = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopping) return;
    const { ratePerS, count, batch, inflightMax } = this.options;
    let allowance =
      ratePerS > 0
        ? Math.floor((ratePerS * (this.nowMs() - this.startedMs)) / 1000) - this.stats.sent
        : Infinity;
    const remaining = count === undefined ? Infinity : count - this.stats.sent;
    if (remaining <= 0) {
      this.stop();
      return;
    }
    allowance = Math.min(allowance, remaining);
    const connections = this.clients.length;
    let issuedThisPass = true;
    while (allowance > 0 && issuedThisPass) {
      issuedThisPass = false;
      for (let k = 0; k < connections && allowance > 0; k++) {
        const index = (this.nextConnection + k) % connections;
        const unit = Math.min(batch, count === undefined ? batch : count - this.stats.sent);
        if (unit > allowance) break;
        if (!this.clients[index]!.connected || inflightMax - this.inflight[index]! < unit) continue;
        this.issue(index, unit);
        allowance -= unit;
        issuedThisPass = true;
      }
    }
    this.nextConnection = (this.nextConnection + 1) % connections;
    if (count !== undefined && this.stats.sent >= count) this.stop();
  }

  private issue(index: number, unit: number): void {
    const client = this.clients[index]!;
    const startedMs = this.nowMs();
    this.inflight[index]! += unit;
    this.totalInflight += unit;
    this.stats.sent += unit;
    if (unit === 1) {
      client.request(this.factory.next()).then(
        (response) => this.onAnswered(index, [response], startedMs),
        (error: unknown) => this.onFailed(index, 1, error),
      );
      return;
    }
    const messages = Array.from({ length: unit }, () => this.factory.next());
    client.requestBatch(messages).then(
      (responses) => this.onAnswered(index, responses, startedMs),
      (error: unknown) => this.onFailed(index, unit, error),
    );
  }

  private onAnswered(index: number, responses: readonly ResponseMessage[], startedMs: number): void {
    // A batch's messages are answered together as far as the caller can see: one latency each.
    const latencyMs = this.nowMs() - startedMs;
    for (const response of responses) this.stats.recordResponse(response.rc, latencyMs);
    this.settled(index, responses.length);
    this.queuePump();
  }

  private onFailed(index: number, unit: number, error: unknown): void {
    this.stats.recordError(error instanceof ClientError ? error.code : 'UNKNOWN', unit);
    this.settled(index, unit);
    this.deferPump();
  }

  private settled(index: number, unit: number): void {
    this.inflight[index]! -= unit;
    this.totalInflight -= unit;
    if (this.stopping) this.finishIfDrained();
  }

  private finishIfDrained(): void {
    if (this.totalInflight > 0 || this.stoppedMs !== 0) return;
    this.stoppedMs = this.nowMs();
    this.settleDone();
  }
}
