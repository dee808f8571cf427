import { LatencyHistogram, type LatencyPercentilesMs } from './latency-histogram.js';

export interface SimSummary {
  readonly institution: string;
  readonly transport: string;
  readonly connections: number;
  readonly batch: number;
  /** Which connections generated the load: the SDK client, or the lean load connection (--lean). */
  readonly client?: 'sdk' | 'lean';
  readonly targetRatePerS: number;
  readonly seed: number;
  /** Requests handed to the SDK. */
  readonly sent: number;
  /** Requests that got a response (any rc). */
  readonly answered: number;
  /** Requests that got no response: timeout, disconnect, close. */
  readonly errors: number;
  /** errors by ClientError code. */
  readonly errorCounts: Readonly<Record<string, number>>;
  readonly rcCounts: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  /** answered / elapsed seconds. */
  readonly achievedRatePerS: number;
  readonly latencyMs: LatencyPercentilesMs;
  /**
   * Open loop only: how long after their scheduled time messages were
   * written. Near zero while the load generator keeps its schedule; when it
   * grows, the generator (or its in-flight cap) is the bottleneck, and the
   * latency above already includes the wait.
   */
  readonly sendLagMs?: LatencyPercentilesMs;
  /** CPU the simulator process used over the whole run (user + system), for the cost of the load itself. */
  readonly cpuMs?: { readonly user: number; readonly system: number };
}

export interface ProgressSnapshot {
  readonly sent: number;
  readonly answered: number;
  readonly errors: number;
  readonly ratePerS: number;
  readonly rcCounts: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Counters of one simulator run. Latency goes into a per-interval histogram, folded into the run's on each tick. */
export class SimStats {
  sent = 0;
  answered = 0;
  errors = 0;
  readonly rcCounts: Record<string, number> = {};
  readonly errorCounts: Record<string, number> = {};
  private readonly interval = new LatencyHistogram();
  private readonly total = new LatencyHistogram();
  private readonly sendLag = new LatencyHistogram();
  private answeredAtLastTick = 0;
  private lastTickMs: number;

  constructor(private readonly nowMs: () => number = () => performance.now()) {
    this.lastTickMs = nowMs();
  }

  recordResponse(rc: unknown, latencyMs: number): void {
    this.answered++;
    const key = typeof rc === 'string' ? rc : 'none';
    this.rcCounts[key] = (this.rcCounts[key] ?? 0) + 1;
    this.interval.recordMs(latencyMs);
  }

  /** Open loop: `messages` left `lagMs` after their scheduled send time. */
  recordSendLag(lagMs: number, messages: number): void {
    this.sendLag.recordMs(lagMs, messages);
  }

  /** Percentiles of the send lag, or undefined when nothing was scheduled (closed loop). */
  sendLagMs(): LatencyPercentilesMs | undefined {
    return this.sendLag.count === 0 ? undefined : this.sendLag.percentilesMs();
  }

  recordError(code: string, messages: number): void {
    this.errors += messages;
    this.errorCounts[code] = (this.errorCounts[code] ?? 0) + messages;
  }

  /** The progress line's numbers for the interval since the last tick; starts the next interval. */
  tick(): ProgressSnapshot {
    const nowMs = this.nowMs();
    const elapsedS = Math.max(nowMs - this.lastTickMs, 1) / 1000;
    const snapshot: ProgressSnapshot = {
      sent: this.sent,
      answered: this.answered,
      errors: this.errors,
      ratePerS: (this.answered - this.answeredAtLastTick) / elapsedS,
      rcCounts: { ...this.rcCounts },
      p50Ms: this.interval.quantileMs(0.5),
      p99Ms: this.interval.quantileMs(0.99),
    };
    this.total.merge(this.interval);
    this.interval.reset();
    this.answeredAtLastTick = this.answered;
    this.lastTickMs = nowMs;
    return snapshot;
  }

  latencyMs(): LatencyPercentilesMs {
    this.total.merge(this.interval);
    this.interval.reset();
    return this.total.percentilesMs();
  }
}

/** `rc:count` pairs in rc order, e.g. `00:95 51:5`; `-` when empty. */
export function formatRcCounts(rcCounts: Readonly<Record<string, number>>): string {
  const keys = Object.keys(rcCounts).sort();
  return keys.length === 0 ? '-' : keys.map((rc) => `${rc}:${rcCounts[rc]}`).join(' ');
}

export function formatProgressLine(snapshot: ProgressSnapshot): string {
  return (
    `sent ${snapshot.sent} answered ${snapshot.answered} errors ${snapshot.errors} ` +
    `rate ${Math.round(snapshot.ratePerS)}/s rc ${formatRcCounts(snapshot.rcCounts)} ` +
    `p50 ${snapshot.p50Ms.toFixed(2)}ms p99 ${snapshot.p99Ms.toFixed(2)}ms`
  );
}

export function formatSummary(summary: SimSummary): string {
  const latency = summary.latencyMs;
  const errors =
    Object.keys(summary.errorCounts).length === 0 ? '' : ` (${formatRcCounts(summary.errorCounts)})`;
  return [
    `acquirer ${summary.institution} over ${summary.transport}: ${summary.connections} connection(s), batch ${summary.batch}, ` +
      `target ${summary.targetRatePerS === 0 ? 'max' : `${summary.targetRatePerS}/s`}, seed ${summary.seed}`,
    `sent ${summary.sent}, answered ${summary.answered}, errors ${summary.errors}${errors}`,
    `rc ${formatRcCounts(summary.rcCounts)}`,
    `elapsed ${(summary.elapsedMs / 1000).toFixed(2)} s, achieved ${Math.round(summary.achievedRatePerS)}/s`,
    `latency ms: p50 ${latency.p50.toFixed(3)} p90 ${latency.p90.toFixed(3)} p99 ${latency.p99.toFixed(3)} ` +
      `p99.9 ${latency.p999.toFixed(3)} max ${latency.max.toFixed(3)} mean ${latency.mean.toFixed(3)}`,
    ...(summary.sendLagMs === undefined
      ? []
      : [
          `send lag behind schedule ms: p50 ${summary.sendLagMs.p50.toFixed(3)} p99 ${summary.sendLagMs.p99.toFixed(3)} ` +
            `max ${summary.sendLagMs.max.toFixed(3)}`,
        ]),
    '',
  ].join('\n');
}
