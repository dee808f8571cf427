import type { LogFields, Logger } from '../../observability/log.js';
import { RepeatLog } from '../../observability/repeat-log.js';
import { txnIds } from '../../observability/txn-ids.js';
import type { ForwardOrder } from '../../runtime/worker/worker-protocol.js';

/** One issuer's two repeating troubles. */
interface Troubles {
  readonly timeouts: RepeatLog;
  readonly unavailable: RepeatLog;
}

/**
 * The lines for forwards an issuer did not answer (docs/logging.md, "Lines
 * for on-call"): each names its transaction (institution, rrn, stan, masked
 * PAN), so an acquirer's question about one 91 or stand-in can be answered,
 * but an outage must not write a line per transaction. So each issuer's
 * timeouts, and its forwards with no connection to go on, are a RepeatLog
 * each: the first at once, then at most one line per 10 s carrying how many
 * were left out (`repeated`), and one info line when it is over (the issuer
 * answers again; a forward goes out again) with the count.
 */
export class ForwardTroubleLog {
  private readonly byIssuer = new Map<string, Troubles>();
  /** Issuers with a trouble not yet over: the hot path checks this number, nothing else, while it is 0. */
  private troubled = 0;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** Whether any issuer has a trouble not yet over (one comparison for the paths that end them). */
  get any(): boolean {
    return this.troubled > 0;
  }

  /** A forward ran to issuerTimeoutMs: its actor answers by stand-in (within the limits) or 91. */
  timedOut(order: ForwardOrder, standIn: boolean): void {
    this.note(this.troublesOf(order.issuer).timeouts, order, { issuerTimeoutMs: this.timeoutMs, standIn });
  }

  /** A forward found no signed-on connection of its issuer: answered at once, by stand-in or 91. */
  unavailable(order: ForwardOrder, standIn: boolean): void {
    this.note(this.troublesOf(order.issuer).unavailable, order, { standIn });
  }

  /** The issuer answered a forward: its timeouts, if it had any, are over. */
  answered(issuer: string): void {
    const timeouts = this.byIssuer.get(issuer)?.timeouts;
    if (timeouts === undefined || !timeouts.ongoingEvent) return;
    this.troubled--;
    timeouts.ended('issuer answering again', { issuer });
  }

  /** A forward went out on a connection of the issuer: its unavailability, if any, is over. */
  sent(issuer: string): void {
    const unavailable = this.byIssuer.get(issuer)?.unavailable;
    if (unavailable === undefined || !unavailable.ongoingEvent) return;
    this.troubled--;
    unavailable.ended('issuer reachable again', { issuer });
  }

  private note(trouble: RepeatLog, order: ForwardOrder, fields: LogFields): void {
    if (!trouble.ongoingEvent) this.troubled++;
    trouble.note({ issuer: order.issuer, ...txnIds(order.institution, order.req, order.rrn), ...fields });
  }

  private troublesOf(issuer: string): Troubles {
    let troubles = this.byIssuer.get(issuer);
    if (troubles === undefined) {
      troubles = {
        timeouts: new RepeatLog(this.log, 'warn', 'issuer timeout: answering by stand-in or 91'),
        unavailable: new RepeatLog(this.log, 'warn', 'issuer unavailable: answering by stand-in or 91'),
      };
      this.byIssuer.set(issuer, troubles);
    }
    return troubles;
  }
}
