import type { Logger } from '../../observability/log.js';
import { TXN_SAMPLES_MAX, type TxnIds, txnIds } from '../../observability/txn-ids.js';
import { RC } from '../../protocol/rc.js';
import type { OutboundMessage } from '../../protocol/request.js';
import type {
  HostIdentity,
  HostMessageSink,
  IssuerLink,
  IssuerLinkEnd,
  IssuerLinks,
} from '../../protocol/txn-context.js';
import type { ForwardOrder, IssuerOutcome, StandInLimits } from '../../runtime/worker/worker-protocol.js';
import { ADVICE_ACK_MTIS } from './advice-delivery.js';
import { ForwardTroubleLog } from './forward-trouble-log.js';
import { checkIssuerAnswer } from './issuer-answer.js';

const FORWARD_IDS_PER_MS = 1_000;

/** How often the timeout sweep runs at most: a forward times out within this after issuerTimeoutMs. */
const SWEEP_EVERY_MS_MAX = 50;

export interface IssuerEngineOptions {
  /** The signed-on connections of each issuer (the connection registry). */
  readonly links: IssuerLinks;
  /** Where a forward's end goes: the actor of its PAN (LedgerEngine.issuerAnswer). */
  readonly settle: (order: ForwardOrder, outcome: IssuerOutcome) => void;
  readonly timeoutMs: number;
  /** An issuer's `standIn` limits, if it has them (the config's institution entry). */
  readonly standInOf: (issuer: string) => StandInLimits | undefined;
  /** An issuer's advice acknowledgment (0130/0230/0430), for its advice delivery. */
  readonly acknowledge?: (issuer: string, mti: string, id: unknown) => void;
  /** A forward ended (metrics): approved or declined with the seconds it took, timed out, or never sent. */
  readonly ended?: (
    issuer: string,
    outcome: 'approved' | 'declined' | 'timeout' | 'unavailable',
    seconds?: number,
  ) => void;
  readonly now?: () => number;
  /** Timeouts, unavailable issuers and lost connections, rate-limited (docs/logging.md). */
  readonly log: Logger;
}

interface InFlight {
  readonly id: number;
  readonly order: ForwardOrder;
  /** The connection it was written to: a loss of that connection strands it (logged by linkClosed). */
  readonly link: IssuerLink;
  readonly sentAtMs: number;
  readonly deadlineMs: number;
}

/**
 * The main thread's side of issuer routing (docs/issuers.md): sends what
 * the issuer rules forward on a signed-on connection of the issuer (round
 * robin), under a switch-assigned `id`; takes the issuers' answers, checks
 * them against the contract and hands them to the actor of the PAN; and
 * times forwards out with one sweep for all (forwards are filed in the
 * order they were sent, and all wait the same issuerTimeoutMs, so the
 * oldest is always first: no timer per forward). A forward written
 * to a connection that then closes is not sent again anywhere: it runs to
 * its timeout.
 */
export class IssuerEngine implements HostMessageSink {
  /**
   * Forwards with the issuer, by id less firstId: small integers, which V8
   * keeps unboxed and hashes as such, where the ids themselves (~2^50) are
   * heap numbers (~0.4 us more per forward, set, found and deleted). A Map
   * iterates in insertion order, which is deadline order here, so it is the
   * timeout sweep's queue too, and an answered forward leaves memory at once
   * (a queue of every forward for issuerTimeoutMs kept tens of thousands
   * alive long enough to reach V8's old generation: garbage collector work).
   */
  private readonly inFlight = new Map<number, InFlight>();
  private readonly nextLink = new Map<string, number>();
  private readonly now: () => number;
  /**
   * Switch ids start from the clock (ms x 1000): a late answer to a forward
   * of an earlier process must not match one of this process's forwards. A
   * process would have to forward over 1,000 a millisecond for as long as it
   * ran to reach the next start's ids; ids stay safe integers to year 2255.
   */
  private readonly firstId = Date.now() * FORWARD_IDS_PER_MS;
  private nextId = this.firstId;
  private sweepTimer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] = [];
  private readonly trouble: ForwardTroubleLog;

  constructor(private readonly o: IssuerEngineOptions) {
    this.now = o.now ?? (() => performance.now());
    this.trouble = new ForwardTroubleLog(o.log, o.timeoutMs);
  }

  /** Forwards now with the issuer. */
  get forwardsInFlight(): number {
    return this.inFlight.size;
  }

  /** Sends a forward, or settles it at once as `unavailable` when the issuer has no connection that takes it. */
  forward(order: ForwardOrder): void {
    const id = ++this.nextId;
    const link = this.send(order, this.requestOf(order, id));
    if (link === undefined) {
      const standIn = this.o.standInOf(order.issuer);
      this.trouble.unavailable(order, standIn !== undefined);
      this.o.ended?.(order.issuer, 'unavailable');
      this.o.settle(order, { k: 'unavailable', standIn });
      return;
    }
    if (this.trouble.any) this.trouble.sent(order.issuer);
    const nowMs = this.now();
    const entry: InFlight = { id, order, link, sentAtMs: nowMs, deadlineMs: nowMs + this.o.timeoutMs };
    this.inFlight.set(id - this.firstId, entry);
    this.sweepTimer ??= setInterval(
      () => this.sweep(),
      Math.max(1, Math.min(SWEEP_EVERY_MS_MAX, Math.floor(this.o.timeoutMs / 10))),
    ).unref();
  }

  /** An issuer's answer: matched by `id` and issuer; one nobody awaits, or one that breaks the contract, is no answer. */
  hostMessage(from: HostIdentity, msg: Readonly<Record<string, unknown>>): void {
    if (from.role !== 'issuer') return;
    if (ADVICE_ACK_MTIS.has(msg.mti as string)) {
      this.o.acknowledge?.(from.institution, msg.mti as string, msg.id);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const entry = this.inFlight.get(msg.id - this.firstId);
    if (entry === undefined || entry.id !== msg.id || entry.order.issuer !== from.institution) return;
    const answer = checkIssuerAnswer(entry.order.req, msg);
    if (answer === undefined) return;
    this.inFlight.delete(entry.id - this.firstId);
    if (this.trouble.any) this.trouble.answered(entry.order.issuer);
    const approved = answer.rc === RC.approved || answer.rc === RC.partial;
    this.o.ended?.(
      entry.order.issuer,
      approved ? 'approved' : 'declined',
      (this.now() - entry.sentAtMs) / 1000,
    );
    this.o.settle(entry.order, answer);
    this.maybeDrained();
  }

  isReady(): boolean {
    return true;
  }

  /**
   * A signed-on connection of an issuer closed. A forward written to it is
   * not sent again elsewhere (docs/issuers.md): it runs to its timeout, and
   * its acquirer gets stand-in or 91. Logged when the connection was lost,
   * or when a sign-off left forwards behind: which transactions, so their
   * acquirers' questions can be answered.
   */
  linkClosed(end: IssuerLinkEnd): void {
    let stranded = 0;
    const forwards: TxnIds[] = [];
    for (const entry of this.inFlight.values()) {
      if (entry.link !== end.link) continue;
      stranded++;
      const { order } = entry;
      if (forwards.length < TXN_SAMPLES_MAX) forwards.push(txnIds(order.institution, order.req, order.rrn));
    }
    if (end.graceful && stranded === 0) return;
    this.o.log.warn('issuer connection lost', {
      issuer: end.issuer,
      remote: end.remote,
      graceful: end.graceful,
      forwardsInFlight: stranded,
      forwards,
      connectionsLeft: end.connectionsLeft,
      issuerTimeoutMs: this.o.timeoutMs,
    });
  }

  /** Resolves once every forward in flight was answered or timed out (SIGTERM drains them). */
  async close(): Promise<void> {
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.stopSweep();
  }

  /** One connection of the issuer, in turn (a closing one is passed over): the one it went on, if any. */
  private send(order: ForwardOrder, message: OutboundMessage): IssuerLink | undefined {
    const links: readonly IssuerLink[] = this.o.links.linksOf(order.issuer);
    const start = this.nextLink.get(order.issuer) ?? 0;
    for (let i = 0; i < links.length; i++) {
      const at = (start + i) % links.length;
      const link = links[at]!;
      if (link.sendToHost(message)) {
        this.nextLink.set(order.issuer, at + 1);
        return link;
      }
    }
    return undefined;
  }

  /** The request as the issuer gets it (docs/protocol.md section 4): its fields, the switch's id, acquirer and rrn. */
  private requestOf(order: ForwardOrder, id: number): OutboundMessage {
    const { req } = order;
    const message: OutboundMessage = {
      mti: req.txnClass,
      id,
      stan: req.stan,
      time: req.time,
      pan: req.pan,
      amount: req.amount,
      currency: req.currency,
      proc: req.proc,
      acquirer: order.institution,
      rrn: order.rrn,
    };
    if (req.partial) message.partial = true;
    if (req.merchant !== undefined) message.merchant = req.merchant;
    if (req.terminal !== undefined) message.terminal = req.terminal;
    if (req.mcc !== undefined) message.mcc = req.mcc;
    return message;
  }

  private sweep(): void {
    const nowMs = this.now();
    // Oldest first (insertion order), answered ones gone already: stop at the first not yet due.
    for (const [key, oldest] of this.inFlight) {
      if (oldest.deadlineMs > nowMs) break;
      this.inFlight.delete(key);
      const standIn = this.o.standInOf(oldest.order.issuer);
      this.trouble.timedOut(oldest.order, standIn !== undefined);
      this.o.ended?.(oldest.order.issuer, 'timeout');
      this.o.settle(oldest.order, { k: 'timeout', standIn });
    }
    if (this.inFlight.size === 0) this.stopSweep();
    this.maybeDrained();
  }

  private stopSweep(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private maybeDrained(): void {
    if (this.inFlight.size === 0) for (const wake of this.drainWaiters.splice(0)) wake();
  }
}
