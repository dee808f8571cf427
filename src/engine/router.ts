import {
  type HostIdentity,
  type HostMessageSink,
  LOCAL_ISSUER,
  type SwitchEngine,
  type TransactionEngine,
  type TxnContext,
} from '../protocol/txn-context.js';

/**
 * Sends each admitted transaction to the engine its route names: `local` to
 * the on-us rules (the ledger's account actors), every other issuer to the
 * issuer engine. Answers from hosts go to the issuer engine, the only one
 * that forwards anything.
 */
export class Router implements SwitchEngine {
  constructor(
    private readonly onUs: TransactionEngine,
    private readonly issuers: TransactionEngine & HostMessageSink,
  ) {}

  submit(ctx: TxnContext): void {
    if (ctx.issuer === LOCAL_ISSUER) this.onUs.submit(ctx);
    else this.issuers.submit(ctx);
  }

  hostMessage(from: HostIdentity, msg: Readonly<Record<string, unknown>>): void {
    this.issuers.hostMessage(from, msg);
  }

  isReady(): boolean {
    return this.onUs.isReady() && this.issuers.isReady();
  }

  async close(): Promise<void> {
    await Promise.all([this.onUs.close(), this.issuers.close()]);
  }
}
