import { responseMtiOf } from '../protocol/mti.js';
import { RC } from '../protocol/rc.js';
import type { TransactionEngine, TxnContext } from './engine.js';
import type { RrnGenerator } from './rrn.js';

/**
 * The engine used while no ledger is wired in: every transaction is declined
 * with 96 (system malfunction). Never a fake approval: nothing is approved
 * that is not durable.
 */
export class UnavailableEngine implements TransactionEngine {
  constructor(private readonly rrn: RrnGenerator) {}

  submit(ctx: TxnContext): void {
    const { request } = ctx;
    ctx.replyTo.deliver(
      {
        mti: responseMtiOf(request.txnClass),
        id: request.id,
        stan: request.stan,
        rc: RC.systemMalfunction,
        rrn: this.rrn(),
      },
      ctx.receivedAtMs,
    );
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
