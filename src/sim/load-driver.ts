import type { SimLoadOptions } from './args.js';
import type { LoadConnection, LoadSink, LoadUnit } from './load-connection.js';
import type { RequestFactory } from './request-factory.js';
import type { SimStats } from './stats.js';

/** How often the open-loop pacer looks at the clock when a rate is set. */
const RATE_TICK_MS_MIN = 1;
const RATE_TICK_MS_MAX = 10;

/**
 * Issues requests over the connections: closed loop (at most `inflightMax`
 * outstanding per connection) and, with a rate, paced by a budget of
 * rate x elapsed time. Units are one request or one batch of `batch`
 * messages; a unit is only issued whole.
 *
 * Open loop (a rate) follows a fixed schedule: the n-th message is due at
 * start + n / rate, whatever happened to the earlier ones. A unit's latency is
 * timed from when its last message was DUE, not from when it was actually
 * written: if the switch stalls, or the in-flight cap or this process holds a
 * unit back, the wait counts against the answer (no coordinated omission).
 * How late units left against their schedule is reported separately
 * (`stats.recordSendLag`): a large lag means the load generator, not the
 * switch, could not keep the schedule.
 */
export class LoadDriver implements LoadSink {
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
  private readonly touched: boolean[];
  private readonly pumpNow = (): void => {
    this.pumpQueued = false;
    this.pump();
  };

  constructor(
    private readonly connections: readonly LoadConnection[],
    private readonly factory: RequestFactory,
    private readonly stats: SimStats,
    private readonly options: Pick<SimLoadOptions, 'ratePerS' | 'count' | 'inflightMax' | 'batch'>,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.inflight = connections.map(() => 0);
    this.touched = connections.map(() => false);
    this.done = new Promise((resolve) => {
      this.settleDone = resolve;
    });
    for (const connection of connections) connection.onReconnect(() => this.queuePump());
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

  // --- LoadSink ----------------------------------------------------------

  answered(unit: LoadUnit, rc: string | undefined, nowMs: number): void {
    this.stats.recordResponse(rc, nowMs - unit.startedMs);
    this.settled(unit.connection, 1);
    this.queuePump();
  }

  failed(unit: LoadUnit, messages: number, code: string): void {
    this.stats.recordError(code, messages);
    this.settled(unit.connection, messages);
    this.deferPump();
  }

  // --- pacing --------------------------------------------------------------

  private queuePump(): void {
    if (this.pumpQueued || this.stopping) return;
    this.pumpQueued = true;
    // After the current batch of completions (all read from one payload), not once per response.
    queueMicrotask(this.pumpNow);
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
    const connections = this.connections.length;
    let issuedThisPass = true;
    while (allowance > 0 && issuedThisPass) {
      issuedThisPass = false;
      for (let k = 0; k < connections && allowance > 0; k++) {
        const index = (this.nextConnection + k) % connections;
        const unit = Math.min(batch, count === undefined ? batch : count - this.stats.sent);
        if (unit > allowance) break;
        if (!this.connections[index]!.connected || inflightMax - this.inflight[index]! < unit) continue;
        this.issue(index, unit, ratePerS > 0 ? this.dueMs(this.stats.sent + unit) : -1);
        allowance -= unit;
        issuedThisPass = true;
      }
    }
    this.nextConnection = (this.nextConnection + 1) % connections;
    for (let i = 0; i < connections; i++) {
      if (!this.touched[i]) continue;
      this.touched[i] = false;
      this.connections[i]!.flush();
    }
    if (count !== undefined && this.stats.sent >= count) this.stop();
  }

  /** Open loop: when the `n`-th message (1-based) of the run is due on the schedule. */
  private dueMs(n: number): number {
    return this.startedMs + (n * 1000) / this.options.ratePerS;
  }

  /** `dueMs` < 0: closed loop, timed from now. */
  private issue(index: number, size: number, dueMs: number): void {
    const nowMs = this.nowMs();
    let startedMs = nowMs;
    if (dueMs >= 0) {
      // Never earlier than due (the pacer only issues what is due), so the lag is >= 0 up to rounding.
      this.stats.recordSendLag(Math.max(0, nowMs - dueMs), size);
      startedMs = Math.min(dueMs, nowMs);
    }
    this.inflight[index]! += size;
    this.totalInflight += size;
    this.stats.sent += size;
    this.touched[index] = true;
    const unit: LoadUnit = { size, connection: index, startedMs };
    this.connections[index]!.send(unit, this.factory, this);
  }

  private settled(index: number, messages: number): void {
    this.inflight[index]! -= messages;
    this.totalInflight -= messages;
    if (this.stopping) this.finishIfDrained();
  }

  private finishIfDrained(): void {
    if (this.totalInflight > 0 || this.stoppedMs !== 0) return;
    this.stoppedMs = this.nowMs();
    this.settleDone();
  }
}
