/**
 * A stream of traffic kept running while a test changes something under the switch (a key
 * rotation, a restart): purchases, holds and duplicates over a fixed set of accounts, in lanes
 * that each own some accounts and send one request at a time, so what every account's balance
 * must be follows from the answers. Written against the contract only (docs/protocol.md
 * sections 3 and 5). Seeded: the caller prints the seed.
 */
import { expect } from 'vitest';
import { again, masked, req, type Teller } from './ledger.js';
import type { SeededRng } from './seeded-rng.js';
import type { Msg } from './wire.js';

/** An approved request and its answer: a duplicate of it must be answered the same. */
export interface Approval {
  readonly request: Msg;
  readonly response: Msg;
}

export interface LiveLoadOptions {
  readonly pans: readonly string[];
  /** Every account's opening balance (large enough that nothing is declined for funds). */
  readonly openingBalance: number;
  readonly lanes: number;
  readonly rng: SeededRng;
}

/** What the traffic implies for one account once every hold it placed has expired. */
interface Expected {
  balance: number;
}

export class LiveLoad {
  readonly approvals: Approval[] = [];
  /** Holds placed, with when: a test checks those placed before a change expire after it. */
  readonly holds: { readonly pan: string; readonly atMs: number }[] = [];
  private readonly expected = new Map<string, Expected>();
  private running = false;
  private lanes: Promise<void>[] = [];
  sent = 0;
  duplicates = 0;

  constructor(
    private readonly teller: Teller,
    private readonly o: LiveLoadOptions,
  ) {
    for (const pan of o.pans) this.expected.set(pan, { balance: o.openingBalance });
  }

  start(): void {
    this.running = true;
    this.lanes = Array.from({ length: this.o.lanes }, (_, lane) =>
      this.lane(this.o.pans.filter((_, i) => i % this.o.lanes === lane)),
    );
  }

  /** Stops sending; resolves once every lane's last request was answered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }

  /** The balance `pan` must show once its holds expired: opening minus the purchases approved. */
  balanceOf(pan: string): number {
    return this.expected.get(pan)!.balance;
  }

  private async lane(pans: readonly string[]): Promise<void> {
    const { rng } = this.o;
    while (this.running) {
      const pan = rng.pick(pans);
      const kind = this.approvals.length > 0 ? rng.weighted(KINDS) : 'purchase';
      if (kind === 'duplicate') {
        const { request, response } = rng.pick(this.approvals);
        this.duplicates++;
        expectSameAnswer(await this.send(again(request)), response, request);
        continue;
      }
      const amount = rng.int(1, 500);
      const request = req(kind === 'purchase' ? '0200' : '0100', { pan, amount });
      const response = await this.send(request);
      expect(response['rc'], `${kind} of ${amount} on ${masked(pan)}`).toBe('00');
      this.approvals.push({ request, response });
      if (kind === 'purchase') this.expected.get(pan)!.balance -= amount;
      else this.holds.push({ pan, atMs: Date.now() });
    }
  }

  /**
   * Sends `m` and returns its answer; a 96 (the switch could not tell, say while a worker
   * restarts) is asked again under the same key, which learns the real outcome.
   */
  private async send(m: Msg): Promise<Msg> {
    for (let attempt = 0; ; attempt++) {
      this.sent++;
      const response = await this.teller.ask(attempt === 0 ? m : again(m));
      if (response['rc'] !== '96') return response;
    }
  }
}

const KINDS = [
  ['purchase', 5],
  ['hold', 2],
  ['duplicate', 3],
] as const;

/** A duplicate's answer: the original's rc, rrn, authCode, amount and balance. */
export function expectSameAnswer(replay: Msg, original: Msg, request: Msg): void {
  const fields = (m: Msg) => ({
    rc: m['rc'],
    rrn: m['rrn'],
    authCode: m['authCode'],
    amount: m['amount'],
    balance: m['balance'],
  });
  expect(
    fields(replay),
    `duplicate of ${String(request['mti'])} on ${masked(String(request['pan']))}`,
  ).toEqual(fields(original));
}
