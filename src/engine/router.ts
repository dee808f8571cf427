import type {
  HostIdentity,
  HostMessageSink,
  SwitchEngine,
  TransactionEngine,
  TxnContext,
} from '../protocol/txn-context.js';

/**
 * Every admitted transaction goes to the account actors, whatever its route
 * (`local`: the on-us rules decide it; an issuer: the issuer rules decide
 * what the switch can and forward the rest, docs/issuers.md), so exactly-once
 * is one mechanism. Answers from hosts go to the issuer engine, the only one
 * that forwards anything.
 */
export class Router implements SwitchEngine {
  constructor(
    private readonly actors: TransactionEngine,
    private readonly issuers: Omit<TransactionEngine, 'submit'> & HostMessageSink,
  ) {}

  submit(ctx: TxnContext): void {
    this.actors.submit(ctx);
  }

  hostMessage(from: HostIdentity, msg: Readonly<Record<string, unknown>>): void {
    this.issuers.hostMessage(from, msg);
  }

  isReady(): boolean {
    return this.actors.isReady() && this.issuers.isReady();
  }

  /** Together: forwards still with an issuer end (answered or timed out) through the actors, which wait for them. */
  async close(): Promise<void> {
    await Promise.all([this.actors.close(), this.issuers.close()]);
  }
}
