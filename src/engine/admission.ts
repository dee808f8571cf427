import { responseMtiOf, type TxnClass } from '../protocol/mti.js';
import { RC } from '../protocol/rc.js';
import type { OutboundMessage } from '../protocol/request.js';
import type { ReplyTarget, TxnContext } from '../protocol/txn-context.js';
import { echoableId, validateRequest } from '../protocol/validate-request.js';
import type { RrnGenerator } from '../runtime/rrn.js';
import { isPanShaped, luhnValid } from '../util/pan.js';
import type { RouteTable } from './route-table.js';

/** A transaction the switch answers itself, without an engine: the response to send. */
export interface Refusal {
  readonly refused: OutboundMessage;
}

/** What admission needs besides the message: the session's institution and where the answer goes. */
export interface AdmissionInput {
  readonly institution: string;
  readonly receivedAtMs: number;
  readonly replyTo: ReplyTarget;
  readonly routes: RouteTable;
  readonly rrn: RrnGenerator;
}

/**
 * The pure admission step of docs/protocol.md section 3 for a signed-on
 * acquirer's transaction: format (30) and MTI/proc (12) checks, routing
 * (15), then the card check (14), in the contract's order. A message in;
 * a TxnContext for an engine, or the response the switch gives itself, out.
 * Every refusal but 30 carries an rrn (section 3).
 */
export function admit(
  msg: Readonly<Record<string, unknown>>,
  txnClass: TxnClass,
  repeat: boolean,
  input: AdmissionInput,
): TxnContext | Refusal {
  const validated = validateRequest(msg, txnClass, repeat);
  if (!validated.ok) {
    const rrn = validated.rc === RC.formatError ? undefined : input.rrn();
    return refusal(txnClass, echoableId(msg.id), msg.stan, validated.rc, rrn, validated.error);
  }
  const request = validated.request;
  const issuer = input.routes.lookup(request.pan);
  if (issuer === undefined) return refusal(txnClass, request.id, request.stan, RC.noRoute, input.rrn());
  if (!isPanShaped(request.pan) || !luhnValid(request.pan))
    return refusal(txnClass, request.id, request.stan, RC.invalidCard, input.rrn());
  return {
    request,
    institution: input.institution,
    issuer,
    receivedAtMs: input.receivedAtMs,
    replyTo: input.replyTo,
  };
}

export function isRefusal(result: TxnContext | Refusal): result is Refusal {
  return (result as Partial<Refusal>).refused !== undefined;
}

/** The 63 a transaction gets from a session that may not send one (section 2). */
export function securityRefusal(txnClass: TxnClass, msg: Readonly<Record<string, unknown>>): OutboundMessage {
  return refusal(txnClass, echoableId(msg.id), msg.stan, RC.securityViolation, undefined).refused;
}

function refusal(
  txnClass: TxnClass,
  id: unknown,
  stan: unknown,
  rc: string,
  rrn: string | undefined,
  error?: string,
): Refusal {
  const response: OutboundMessage = {
    mti: responseMtiOf(txnClass),
    id,
    stan: typeof stan === 'number' ? stan : undefined,
    rc,
    rrn,
  };
  if (error !== undefined) response.error = error;
  return { refused: response };
}
