import { responseMtiOf } from '../../protocol/mti.js';
import { RC } from '../../protocol/rc.js';
import type { TxnRequest } from '../../protocol/request.js';
import type { IssuerOutcome } from '../../runtime/worker/worker-protocol.js';

/** Every response code of the contract (docs/protocol.md section 3): an issuer answering another gave no answer. */
const KNOWN_RCS: ReadonlySet<string> = new Set(Object.values(RC));
/** Longest authCode taken from an issuer (the switch's own are 6 characters). */
const AUTH_CODE_CHARS_MAX = 12;

/**
 * An issuer's answer to `req` as the switch relays it, or undefined when it
 * breaks the contract and counts as no answer (docs/issuers.md): the wrong
 * MTI, an unknown `rc`, an `amount` that is not a whole number of minor
 * units or is above the request's, 10 for a request that did not allow a
 * partial approval, 00 without an `authCode`, a `balance` that is not a
 * whole number.
 */
export function checkIssuerAnswer(
  req: TxnRequest,
  msg: Readonly<Record<string, unknown>>,
): Extract<IssuerOutcome, { k: 'answered' }> | undefined {
  if (msg.mti !== responseMtiOf(req.txnClass)) return undefined;
  const { rc, amount, balance, authCode } = msg;
  if (typeof rc !== 'string' || !KNOWN_RCS.has(rc)) return undefined;
  if (
    amount !== undefined &&
    !(Number.isSafeInteger(amount) && (amount as number) >= 0 && (amount as number) <= req.amount)
  )
    return undefined;
  if (balance !== undefined && !Number.isSafeInteger(balance)) return undefined;
  if (
    authCode !== undefined &&
    !(typeof authCode === 'string' && authCode.length > 0 && authCode.length <= AUTH_CODE_CHARS_MAX)
  )
    return undefined;
  if (rc === RC.partial && (!req.partial || amount === undefined)) return undefined;
  if ((rc === RC.approved || rc === RC.partial) && authCode === undefined) return undefined;
  return {
    k: 'answered',
    rc,
    authCode: authCode as string | undefined,
    amount: amount as number | undefined,
    balance: balance as number | undefined,
  };
}
