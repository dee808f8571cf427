import { LatencyHistogram, type LatencyPercentilesMs } from './latency-histogram.js';
import { formatRcCounts } from './stats.js';

export interface IssuerSimSummary {
  readonly institution: string;
  readonly transport: string;
  readonly connections: number;
  readonly seed: number;
  /** Requests the switch forwarded (0100, 0200 and repeats). */
  readonly received: number;
  /** Requests answered (a request answered twice counts once here, once in `twice`). */
  readonly answered: number;
  readonly rcCounts: Readonly<Record<string, number>>;
  /** Requests left unanswered on purpose (--silent). */
  readonly silent: number;
  /** Answers sent late (--late-ratio). */
  readonly late: number;
  /** Second copies sent (--twice-ratio). */
  readonly twice: number;
  /** Answers never sent: their connection closed first, or the run ended. */
  readonly lost: number;
  /** Connections dropped on purpose (--drop-after). */
  readonly drops: number;
  /** Sign-ons after a drop, whoever dropped. */
  readonly reconnects: number;
  /** Advices received (0120/0220/0420), repeats (0121/0221/0421) included. */
  readonly advices: number;
  readonly adviceRepeats: number;
  readonly advicesAcknowledged: number;
  readonly elapsedMs: number;
  /** received / elapsed seconds. */
  readonly receivedRatePerS: number;
  /** From a request's arrival to its answer's write, answers sent. */
  readonly answerDelayMs: LatencyPercentilesMs;
}

export interface IssuerProgressSnapshot {
  readonly received: number;
  readonly answered: number;
  readonly rcCounts: Readonly<Record<string, number>>;
  readonly silent: number;
  readonly late: number;
  readonly twice: number;
  readonly lost: number;
  readonly drops: number;
  readonly advices: number;
  readonly advicesAcknowledged: number;
  /** Requests received per second over the interval since the last tick. */
  readonly ratePerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Counters of one issuer simulator run; answer delays per interval, folded into the run's on each tick. */
export class IssuerSimStats {
  received = 0;
  answered = 0;
  silent = 0;
  late = 0;
  twice = 0;
  lost = 0;
  drops = 0;
  reconnects = 0;
  advices = 0;
  adviceRepeats = 0;
  advicesAcknowledged = 0;
  readonly rcCounts: Record<string, number> = {};
  private readonly interval = new LatencyHistogram();
  private readonly total = new LatencyHistogram();
  private receivedAtLastTick = 0;
  private lastTickMs: number;

  constructor(private readonly nowMs: () => number = () => performance.now()) {
    this.lastTickMs = nowMs();
  }

  recordAnswer(rc: string, delayMs: number): void {
    this.answered++;
    this.rcCounts[rc] = (this.rcCounts[rc] ?? 0) + 1;
    this.interval.recordMs(delayMs);
  }

  recordAdvice(repeat: boolean): void {
    this.advices++;
    if (repeat) this.adviceRepeats++;
  }

  tick(): IssuerProgressSnapshot {
    const nowMs = this.nowMs();
    const elapsedS = Math.max(nowMs - this.lastTickMs, 1) / 1000;
    const snapshot: IssuerProgressSnapshot = {
      received: this.received,
      answered: this.answered,
      rcCounts: { ...this.rcCounts },
      silent: this.silent,
      late: this.late,
      twice: this.twice,
      lost: this.lost,
      drops: this.drops,
      advices: this.advices,
      advicesAcknowledged: this.advicesAcknowledged,
      ratePerS: (this.received - this.receivedAtLastTick) / elapsedS,
      p50Ms: this.interval.quantileMs(0.5),
      p99Ms: this.interval.quantileMs(0.99),
    };
    this.total.merge(this.interval);
    this.interval.reset();
    this.receivedAtLastTick = this.received;
    this.lastTickMs = nowMs;
    return snapshot;
  }

  answerDelayMs(): LatencyPercentilesMs {
    this.total.merge(this.interval);
    this.interval.reset();
    return this.total.percentilesMs();
  }
}

export function formatIssuerProgressLine(s: IssuerProgressSnapshot): string {
  return (
    `received ${s.received} answered ${s.answered} rc ${formatRcCounts(s.rcCounts)} ` +
    `silent ${s.silent} late ${s.late} twice ${s.twice} lost ${s.lost} drops ${s.drops} ` +
    `advices ${s.advices} acked ${s.advicesAcknowledged} rate ${Math.round(s.ratePerS)}/s ` +
    `delay p50 ${s.p50Ms.toFixed(2)}ms p99 ${s.p99Ms.toFixed(2)}ms`
  );
}

export function formatIssuerSummary(s: IssuerSimSummary): string {
  const delay = s.answerDelayMs;
  return [
    `issuer ${s.institution} over ${s.transport}: ${s.connections} connection(s), seed ${s.seed}`,
    `received ${s.received}, answered ${s.answered} (rc ${formatRcCounts(s.rcCounts)})`,
    `silent ${s.silent}, late ${s.late}, twice ${s.twice}, lost ${s.lost}`,
    `advices ${s.advices} (repeats ${s.adviceRepeats}), acknowledged ${s.advicesAcknowledged}`,
    `connections dropped on purpose ${s.drops}, reconnects ${s.reconnects}`,
    `elapsed ${(s.elapsedMs / 1000).toFixed(2)} s, received ${Math.round(s.receivedRatePerS)}/s`,
    `answer delay ms: p50 ${delay.p50.toFixed(3)} p90 ${delay.p90.toFixed(3)} p99 ${delay.p99.toFixed(3)} ` +
      `max ${delay.max.toFixed(3)} mean ${delay.mean.toFixed(3)}`,
    '',
  ].join('\n');
}
