import type { HandlerAnswer, ResponseMessage } from '../client/messages.js';
import { RC } from '../protocol/rc.js';
import { type LatencyDistribution, latencySampler } from './latency-distribution.js';

/** How the simulated issuer answers, and how it misbehaves (docs/cli.md, `sim issuer`). */
export interface IssuerBehaviour {
  readonly latency: LatencyDistribution;
  /** Added to every answer's delay, late ones included. */
  readonly slowMs: number;
  /** Share of requests declined, with one of `declineRcs` picked at random. */
  readonly declineRatio: number;
  readonly declineRcs: readonly string[];
  /** Share of the approvals of requests that allow it (`partial: true`) answered 10 for half the amount. */
  readonly partialRatio: number;
  /** Answers no request at all. */
  readonly silent: boolean;
  /** Share of answers sent `lateMs` after the request instead of after the latency. */
  readonly lateRatio: number;
  readonly lateMs: number;
  /** Share of answers sent twice. */
  readonly twiceRatio: number;
  /** Drops a connection when it has brought this many requests (the last unanswered); undefined: never. */
  readonly dropAfter: number | undefined;
  /** Acknowledges advices (`--no-ack`: false). */
  readonly acknowledgeAdvices: boolean;
}

export type IssuerDecision =
  | { readonly kind: 'drop' }
  | { readonly kind: 'silent' }
  | {
      readonly kind: 'answer';
      readonly answer: HandlerAnswer;
      /** From the request's arrival to the answer's write. */
      readonly delayMs: number;
      readonly late: boolean;
      readonly twice: boolean;
    };

const PROC_BALANCE_INQUIRY = '31';
const AUTH_CODE_DIGITS = 6;
const AUTH_CODE_MODULUS = 10 ** AUTH_CODE_DIGITS;
/** What the simulated issuer says every card holds, on balance inquiries (proc 31). */
export const SIM_BALANCE_MINOR = 100_000_000;

/**
 * Decides each forwarded request, from one seeded stream: the same seed and
 * requests give the same answers, delays and misbehaviour. Every request
 * takes the same seven draws, whatever is decided, so changing one ratio
 * changes only the decisions it governs (a higher --decline-ratio declines
 * a superset; the latencies stay put).
 *
 * Answers keep the contract a real issuer must (docs/protocol.md section 4:
 * an approval carries an `authCode`, `amount` is never above the request's,
 * 10 only when `partial` was set), so any breach the switch sees is one
 * asked for. Auth codes are all digits: the switch's stand-in codes start
 * with `S`, and an operator reading both should tell them apart.
 */
export class IssuerPolicy {
  private readonly sampleLatencyMs: () => number;
  private authCodeCounter: number;

  constructor(
    private readonly behaviour: IssuerBehaviour,
    private readonly random: () => number,
  ) {
    this.sampleLatencyMs = latencySampler(behaviour.latency, random);
    this.authCodeCounter = Math.floor(random() * AUTH_CODE_MODULUS);
  }

  /** `requestsOnConnection`: how many requests the connection has brought, this one included. */
  decide(request: ResponseMessage, requestsOnConnection: number): IssuerDecision {
    const b = this.behaviour;
    const latencyMs = this.sampleLatencyMs();
    const lateDraw = this.random();
    const twiceDraw = this.random();
    const declineDraw = this.random();
    const rcDraw = this.random();
    const partialDraw = this.random();

    if (b.dropAfter !== undefined && requestsOnConnection >= b.dropAfter) return { kind: 'drop' };
    if (b.silent) return { kind: 'silent' };

    const late = lateDraw < b.lateRatio;
    return {
      kind: 'answer',
      answer: this.answerFor(request, declineDraw, rcDraw, partialDraw),
      delayMs: (late ? b.lateMs : latencyMs) + b.slowMs,
      late,
      twice: twiceDraw < b.twiceRatio,
    };
  }

  private answerFor(
    request: ResponseMessage,
    declineDraw: number,
    rcDraw: number,
    partialDraw: number,
  ): HandlerAnswer {
    const b = this.behaviour;
    if (declineDraw < b.declineRatio && b.declineRcs.length > 0) {
      return { rc: b.declineRcs[Math.floor(rcDraw * b.declineRcs.length)]! };
    }
    const authCode = this.nextAuthCode();
    if (request.proc === PROC_BALANCE_INQUIRY)
      return { rc: RC.approved, authCode, balance: SIM_BALANCE_MINOR };
    const amount = request.amount;
    if (typeof amount !== 'number') return { rc: RC.approved, authCode };
    if (request.partial === true && amount >= 2 && partialDraw < b.partialRatio) {
      return { rc: RC.partial, authCode, amount: Math.floor(amount / 2) };
    }
    return { rc: RC.approved, authCode, amount };
  }

  private nextAuthCode(): string {
    this.authCodeCounter = (this.authCodeCounter + 1) % AUTH_CODE_MODULUS;
    return String(this.authCodeCounter).padStart(AUTH_CODE_DIGITS, '0');
  }
}
