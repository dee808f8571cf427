import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import { RepeatLog } from '../../observability/repeat-log.js';
import type { OutboundMessage } from '../../protocol/request.js';
import type { IssuerLinks } from '../../protocol/txn-context.js';
import { readAdvices, sealKeyIdOf } from '../../runtime/storage/advice-seals.js';
import type { AdviceRecord } from '../../runtime/storage/state-codec.js';
import type { AccountRefs } from '../../security/account-refs.js';
import type { KeySpace } from '../../store/keys.js';

/** How often a delivery looks for new advices and repeats due ones. */
const TICK_MS = 100;
/** The delivery lease's life; renewed every tick, so a dead owner's lease frees within this. */
const LEASE_MS = 5_000;

/** The repeat MTI of each advice (docs/protocol.md section 4). */
const REPEAT_MTI: Readonly<Record<string, string>> = { '0120': '0121', '0220': '0221', '0420': '0421' };
/** The acknowledgment MTI of each advice and its repeat. */
export const ACK_MTI: Readonly<Record<string, string>> = {
  '0120': '0130',
  '0121': '0130',
  '0220': '0230',
  '0221': '0230',
  '0420': '0430',
  '0421': '0430',
};

/** The acknowledgment MTIs (0130/0230/0430): an issuer message with one is for the delivery, not an answer. */
export const ADVICE_ACK_MTIS: ReadonlySet<string> = new Set(Object.values(ACK_MTI));

/** Renews the lease only while this owner holds it (compare and extend in one step). */
const RENEW_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export interface AdviceDeliveryOptions {
  readonly issuer: string;
  readonly redis: Redis;
  readonly keys: KeySpace;
  readonly links: IssuerLinks;
  /** Opens the advices' sealed PANs (the switch's data keys, current at each call). */
  readonly refs: () => AccountRefs;
  /** Advices sent and not yet acknowledged, at most (config issuerAdvicesInFlightMax). */
  readonly inFlightMax: number;
  /** A sent advice not acknowledged within this is sent again as a repeat. */
  readonly repeatAfterMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

interface Sent {
  readonly streamId: string;
  /** undefined: an entry that could not be read (passed over as delivered). */
  readonly advice: AdviceRecord | undefined;
  /**
   * The PAN's seal this delivery opens: the entry's own, or the one the
   * re-seal job wrote under a newer data key (keys.adviceSeals), which
   * replaces it here once read (refreshSeals).
   */
  seal: Uint8Array | undefined;
  sentAtMs: number;
  acked: boolean;
}

/**
 * Store-and-forward delivery of one issuer's advices (docs/issuers.md):
 * in the order they were queued, at most `inFlightMax` unacknowledged,
 * each repeated (0121/0221/0421, same id) whenever its acknowledgment did not
 * come within issuerTimeoutMs, while the issuer has a signed-on connection.
 * What was delivered is durable: the cursor (the stream id up to which every
 * advice is acknowledged) and the acknowledged ids beyond it are in Redis,
 * so after a restart an acknowledged advice is never sent again and an
 * unacknowledged one always is. One switch process delivers an issuer's
 * advices at a time: the one holding its lease in Redis, not whichever holds
 * the connection (DESIGN.md section 5). An advice's PAN is opened from the
 * seal the re-seal job wrote under the current data key when there is one
 * (a stream entry cannot be rewritten): its own may be under a retired key.
 */
export class AdviceDelivery {
  private readonly owner = randomUUID();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private leased = false;
  /** Sent and not yet past the cursor, in stream order. */
  private window: Sent[] = [];
  private readonly byId = new Map<string, Sent>();
  /** The stream id up to which every advice is acknowledged ('0' for none). */
  private cursor = '0';
  private loaded = false;
  /**
   * A pass runs every TICK_MS: in a Redis outage a line per failed pass
   * would be ten a second, so failures are a RepeatLog, ended by the next
   * pass that succeeds. Repeats of unacknowledged advices likewise: the first
   * names its advice, the rest are counted until an acknowledgment comes.
   */
  private readonly passFailures: RepeatLog;
  private readonly unacknowledgedRepeats: RepeatLog;

  constructor(private readonly o: AdviceDeliveryOptions) {
    this.now = o.now ?? Date.now;
    this.passFailures = new RepeatLog(o.log, 'warn', 'advice delivery: a pass failed; the next one goes on');
    this.unacknowledgedRepeats = new RepeatLog(o.log, 'warn', 'advice not acknowledged in time; sent again');
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Advices queued and not yet acknowledged (the stream's length at the last pass; metrics). */
  depth = 0;

  /** Advices sent and not yet acknowledged. */
  get unacknowledged(): number {
    return this.window.filter((sent) => !sent.acked).length;
  }

  /** An acknowledgment (0130/0230/0430) from the issuer: true when it named an advice of this delivery. */
  acknowledge(mti: string, id: unknown): boolean {
    if (typeof id !== 'string') return false;
    const sent = this.byId.get(id);
    if (sent?.advice === undefined || ACK_MTI[sent.advice.mti] !== mti) return false;
    if (!sent.acked) {
      sent.acked = true;
      void this.persistAck(id).catch(() => {});
      this.unacknowledgedRepeats.ended('advice acknowledged again', { issuer: this.o.issuer });
    }
    return true;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.leased) await this.o.redis.eval(RELEASE_LEASE, 1, this.leaseKey, this.owner).catch(() => 0);
    this.leased = false;
  }

  private get leaseKey(): string {
    return `${this.o.keys.advices(this.o.issuer)}:lease`;
  }

  private get cursorKey(): string {
    return `${this.o.keys.advices(this.o.issuer)}:cursor`;
  }

  private get ackedKey(): string {
    return `${this.o.keys.advices(this.o.issuer)}:acked`;
  }

  private get sealsKey(): string {
    return this.o.keys.adviceSeals(this.o.issuer);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      if (!(await this.holdLease())) return;
      if (!this.loaded) await this.load();
      await this.advanceCursor();
      this.depth = await this.o.redis.xlen(this.o.keys.advices(this.o.issuer));
      if (this.o.links.linksOf(this.o.issuer).length === 0) return;
      await this.refreshSeals();
      this.repeatDue();
      await this.sendNew();
      this.passFailures.ended('advice delivery: passes succeed again', { issuer: this.o.issuer });
    } catch (error) {
      this.passFailures.note({ issuer: this.o.issuer, error });
    } finally {
      this.ticking = false;
    }
  }

  /** Takes the lease when free, or renews it while it is this owner's. */
  private async holdLease(): Promise<boolean> {
    const { redis } = this.o;
    if (this.leased) {
      this.leased = (await redis.eval(RENEW_LEASE, 1, this.leaseKey, this.owner, LEASE_MS)) === 1;
      // Lost (this process stalled past the lease): what it had sent is another owner's to repeat now.
      if (!this.leased) this.forget();
    } else {
      this.leased = (await redis.set(this.leaseKey, this.owner, 'PX', LEASE_MS, 'NX')) === 'OK';
    }
    return this.leased;
  }

  /** The durable position: the cursor and the acknowledged ids beyond it. */
  private async load(): Promise<void> {
    this.cursor = (await this.o.redis.get(this.cursorKey)) ?? '0';
    this.loaded = true;
  }

  private forget(): void {
    this.window = [];
    this.byId.clear();
    this.loaded = false;
  }

  /** Sends what the window has room for, in stream order, after what was already sent. */
  private async sendNew(): Promise<void> {
    const room = this.o.inFlightMax - this.window.length;
    if (room <= 0) return;
    const after = this.window.at(-1)?.streamId ?? this.cursor;
    const current = this.o.refs().currentDataKeyId;
    // A re-sealed copy is looked for only where the entry's own seal is not under the current key.
    const entries = await readAdvices(
      this.o.redis,
      this.o.keys,
      this.o.issuer,
      after === '0' ? undefined : after,
      room,
      (advice) => sealKeyIdOf(advice.panSealed) !== current,
    );
    if (entries.length === 0) return;
    const acked = new Set(await this.o.redis.smembers(this.ackedKey));
    for (const { streamId, advice, error, resealed } of entries) {
      if (advice === undefined) {
        // Nothing can send it: counted as delivered, so the queue behind it is not held up for good.
        this.o.log.error('advice delivery: an advice cannot be read; passed over', {
          issuer: this.o.issuer,
          streamId,
          error,
        });
        this.window.push({ streamId, advice: undefined, seal: undefined, sentAtMs: 0, acked: true });
        continue;
      }
      const sent: Sent = {
        streamId,
        advice,
        seal: resealed ?? advice.panSealed,
        sentAtMs: this.now(),
        acked: acked.has(advice.id),
      };
      this.window.push(sent);
      this.byId.set(advice.id, sent);
      if (!sent.acked) this.send(sent, advice.mti);
    }
  }

  /**
   * Takes up the seals the re-seal job wrote for unacknowledged advices of
   * the window whose seal here is not under the current data key (one read, none when all
   * are current): a key retired after they were read would leave them
   * unopenable otherwise.
   */
  private async refreshSeals(): Promise<void> {
    const current = this.o.refs().currentDataKeyId;
    const stale = this.window.filter(
      (sent) => !sent.acked && sent.advice !== undefined && sealKeyIdOf(sent.seal) !== current,
    );
    if (stale.length === 0) return;
    const values = await this.o.redis.hmgetBuffer(this.sealsKey, ...stale.map((sent) => sent.advice!.id));
    stale.forEach((sent, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) sent.seal = value;
    });
  }

  private repeatDue(): void {
    const dueBeforeMs = this.now() - this.o.repeatAfterMs;
    for (const sent of this.window) {
      if (sent.acked || sent.advice === undefined || sent.sentAtMs > dueBeforeMs) continue;
      sent.sentAtMs = this.now();
      const { advice } = sent;
      const mti = REPEAT_MTI[advice.mti] ?? advice.mti;
      this.unacknowledgedRepeats.note({ issuer: this.o.issuer, ...adviceIds(advice), mti });
      this.send(sent, mti);
    }
  }

  private send(sent: Sent, mti: string): void {
    const advice = sent.advice!;
    let message: OutboundMessage;
    try {
      message = this.messageOf(advice, sent.seal!, mti);
    } catch (error) {
      this.o.log.error('advice delivery: the PAN of an advice does not open; it waits for its key', {
        issuer: this.o.issuer,
        ...adviceIds(advice),
        error,
      });
      return;
    }
    for (const link of this.o.links.linksOf(this.o.issuer)) if (link.sendToHost(message)) return;
  }

  /** The advice as the contract gives it (docs/protocol.md section 4). */
  private messageOf(a: AdviceRecord, seal: Uint8Array, mti: string): OutboundMessage {
    const message: OutboundMessage = {
      mti,
      id: a.id,
      stan: a.stan,
      time: a.time,
      pan: this.o.refs().openPan(seal, a.id),
      amount: a.approvedAmount ?? a.amount,
      currency: a.currency,
      proc: a.proc,
      acquirer: a.acquirer,
      rrn: a.rrn,
    };
    if (a.authCode !== undefined) message.authCode = a.authCode;
    if (a.merchant !== undefined) message.merchant = a.merchant;
    if (a.terminal !== undefined) message.terminal = a.terminal;
    if (a.mcc !== undefined) message.mcc = a.mcc;
    if (a.origStan !== undefined && a.origTime !== undefined)
      message.orig = { stan: a.origStan, time: a.origTime };
    return message;
  }

  /** An acknowledgment is durable before anything else happens to it: its id joins the set. */
  private async persistAck(id: string): Promise<void> {
    await this.o.redis.sadd(this.ackedKey, id);
  }

  /** Moves the cursor over the acknowledged prefix of the window, and forgets their ids. */
  private async advanceCursor(): Promise<void> {
    let done = 0;
    while (done < this.window.length && this.window[done]!.acked) done++;
    if (done === 0) return;
    const passed = this.window.slice(0, done);
    const cursor = passed.at(-1)!.streamId;
    const ids = passed.flatMap((sent) => (sent.advice === undefined ? [] : [sent.advice.id]));
    // Delivered: out of the stream too (the cursor says so already; the stream keeps only what is owed),
    // with their re-sealed PANs in the same step: the re-seal job's compare-and-set sees both or neither.
    const tx = this.o.redis
      .multi()
      .set(this.cursorKey, cursor)
      .xdel(this.o.keys.advices(this.o.issuer), ...passed.map((sent) => sent.streamId));
    if (ids.length > 0) tx.srem(this.ackedKey, ...ids).hdel(this.sealsKey, ...ids);
    await tx.exec();
    this.cursor = cursor;
    this.window = this.window.slice(done);
    for (const id of ids) this.byId.delete(id);
  }
}

/** The ids of an advice's transaction for the log: its id, the acquirer, rrn, stan and the PAN as stored, masked. */
function adviceIds(advice: AdviceRecord): Readonly<Record<string, unknown>> {
  return {
    advice: advice.id,
    institution: advice.acquirer,
    rrn: advice.rrn,
    stan: advice.stan,
    pan: advice.panMasked,
  };
}

const RELEASE_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
