/**
 * The issuer host of the kill -9 test (test/integration/crash-kill9.test.ts): one signed-on TCP
 * connection that approves every forwarded request at once, and acknowledges advices, except that
 * it leaves a seeded share of advices unacknowledged at their first delivery and its first repeat
 * (the switch repeats every issuerTimeoutMs; the second repeat is acknowledged). At the end
 * (skipSome false) it acknowledges everything. Like a real issuer it answers a request it has
 * seen before (same acquirer, stan and time: a retry forwarded again after a restart) as it did
 * the first time. It records every advice delivery, with the switch process (generation) that
 * made it, for the test's advice invariants.
 */
import { Redis } from 'ioredis';
import { ACK_MTI } from '../../src/rules/issuer/advice-delivery.js';
import { decodeAdvice } from '../../src/runtime/storage/state-codec.js';
import { keySpace } from '../../src/store/keys.js';
import type { ConnectOptions, RawClient } from './raw-client.js';
import type { SeededRng } from './seeded-rng.js';
import { connectSignedOn, type Institution } from './signon.js';
import type { Msg } from './wire.js';

const ANSWER_MTI: Readonly<Record<string, string>> = { '0100': '0110', '0200': '0210' };

export interface AdviceDelivery {
  readonly id: string;
  readonly mti: string;
  readonly rrn: string;
  readonly generation: number;
}

export class CrashIssuer {
  /** Every advice message received, in arrival order. */
  readonly deliveries: AdviceDelivery[] = [];
  /** Advice ids this host acknowledged (it may have been lost with a killed switch). */
  readonly acknowledged = new Set<string>();
  /** Requests forwarded to this host (a retry forwarded again counts again). */
  forwards = 0;
  /** While false, every advice is acknowledged (the end of the run, draining the queue). */
  skipSome = true;
  private client: RawClient | undefined;
  private generation = 0;
  private readonly answers = new Map<string, Msg>();
  private readonly seen = new Set<string>();
  /** Deliveries still to leave unacknowledged, per advice id. */
  private readonly toSkip = new Map<string, number>();
  private nextAuth = 1;

  constructor(
    private readonly institution: Institution,
    private readonly rng: SeededRng,
    private readonly skipAckShare: number,
  ) {}

  get connected(): boolean {
    return this.client !== undefined && !this.client.isClosed;
  }

  /** Advices delivered on the current connection and not acknowledged by this host (yet). */
  get unacknowledgedNow(): number {
    const ids = new Set(this.deliveries.filter((d) => d.generation === this.generation).map((d) => d.id));
    return [...ids].filter((id) => !this.acknowledged.has(id)).length;
  }

  async connect(options: ConnectOptions, generation: number): Promise<void> {
    this.generation = generation;
    const client = await connectSignedOn(options, this.institution);
    client.listeners.push((m) => this.onMessage(client, m));
    this.client = client;
  }

  disconnect(): void {
    this.client?.destroy();
    this.client = undefined;
  }

  private onMessage(client: RawClient, m: Msg): void {
    const mti = String(m['mti']);
    const answerMti = ANSWER_MTI[mti];
    if (answerMti !== undefined) {
      this.forwards++;
      client.send({ ...this.answerTo(m), mti: answerMti, id: m['id'] });
      return;
    }
    const ackMti = ACK_MTI[mti];
    if (ackMti === undefined) return;
    const id = String(m['id']);
    const first = !this.seen.has(id);
    this.seen.add(id);
    this.deliveries.push({ id, mti, rrn: String(m['rrn']), generation: this.generation });
    // A skipped advice misses its first repeat too: unacknowledged for two issuerTimeoutMs at least.
    if (first && this.skipSome && this.rng.chance(this.skipAckShare)) this.toSkip.set(id, 2);
    const skips = this.skipSome ? (this.toSkip.get(id) ?? 0) : 0;
    if (skips > 0) {
      this.toSkip.set(id, skips - 1);
      return;
    }
    this.acknowledged.add(id);
    client.send({ mti: ackMti, id, rc: '00' });
  }

  /** The approval of a request: the same one each time the same transaction comes. */
  private answerTo(m: Msg): Msg {
    const key = `${String(m['acquirer'])}|${String(m['stan'])}|${String(m['time'])}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = { rc: '00', amount: m['amount'], authCode: String(this.nextAuth++).padStart(6, '0') };
      this.answers.set(key, answer);
    }
    return answer;
  }
}

/** What the switch still owes an issuer, as Redis holds it: the advice ids queued, and those acknowledged beyond the cursor. */
export async function adviceQueueOf(
  redisUrl: string,
  issuer: string,
): Promise<{ queued: Set<string>; acked: Set<string> }> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    const stream = keySpace().advices(issuer);
    const entries = await redis.xrangeBuffer(stream, '-', '+');
    const queued = new Set(entries.map(([, fields]) => decodeAdvice(fields[1]!).id));
    return { queued, acked: new Set(await redis.smembers(`${stream}:acked`)) };
  } finally {
    redis.disconnect();
  }
}
