import { responseMtiOf } from '../../protocol/mti.js';
import { RC } from '../../protocol/rc.js';
import type { HostIdentity, SwitchEngine, TxnContext } from '../../protocol/txn-context.js';
import type { RrnGenerator } from '../../runtime/rrn.js';

/**
 * The issuer side of the switch: transactions whose route names an issuer
 * institution, and the answers issuer hosts send back. Until forwarding
 * exists (stand-in, advices and their queues come with it) no issuer is
 * ever signed on as far as routing goes and none has stand-in, so every
 * transaction gets what docs/protocol.md section 4 gives that case: `rc` 91 with
 * an rrn. Host answers reach it and, with nothing awaiting them, are ignored
 * as section 4 says of a response with an unknown `id`.
 */
export class IssuerEngine implements SwitchEngine {
  private closed = false;

  constructor(private readonly rrn: RrnGenerator) {}

  submit(ctx: TxnContext): void {
    ctx.replyTo.deliver(
      {
        mti: responseMtiOf(ctx.request.txnClass),
        id: ctx.request.id,
        stan: ctx.request.stan,
        rc: RC.issuerUnavailable,
        rrn: this.rrn(),
      },
      ctx.receivedAtMs,
    );
  }

  hostMessage(_from: HostIdentity, _msg: Readonly<Record<string, unknown>>): void {
    // Nothing is forwarded yet, so no id is awaited: every answer is one with an unknown id.
  }

  isReady(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
