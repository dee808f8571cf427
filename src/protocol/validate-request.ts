import type { TxnClass } from './mti.js';
import { RC } from './rc.js';
import type { Proc, TxnRequest } from './request.js';

/**
 * Format (30) and MTI/proc (12) checks of docs/protocol.md section 3, in the
 * contract's order. Routing (15) and the card check (14) follow in the
 * router; the ledger decides the rest.
 *
 * Reading of one ambiguity, marked as a clarification in docs/protocol.md section 3: a `pan`
 * that is missing or not a string is a format error (30); a string that is
 * not 12..19 ASCII digits, or fails Luhn, is an invalid card (14), decided
 * after routing.
 */

export const ID_STRING_BYTES_MAX = 64;
export const STAN_MAX = 999_999;
export const AMOUNT_MAX = 1e15;
export const TEXT_FIELD_BYTES_MAX = 32;

export type Rejection = { readonly rc: string; readonly error: string };
export type Validated =
  | { readonly ok: true; readonly request: TxnRequest }
  | ({ readonly ok: false } & Rejection);

const CURRENCY_PATTERN = /^[A-Z]{3}$/;
const MCC_PATTERN = /^[0-9]{4}$/;

const ALLOWED_PROCS: Readonly<Record<'0100' | '0200', readonly Proc[]>> = {
  '0100': ['00', '01', '31'],
  '0200': ['00', '01', '20'],
};
const KNOWN_PROCS: readonly string[] = ['00', '01', '20', '31'];

type Msg = Readonly<Record<string, unknown>>;

function formatError(error: string): Validated {
  return { ok: false, rc: RC.formatError, error };
}

export function isValidId(id: unknown): id is number | string {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0;
  if (typeof id === 'string') return Buffer.byteLength(id, 'utf8') <= ID_STRING_BYTES_MAX;
  return false;
}

/** The id to echo in an error response: the request's, when it is a value a client could have meant as one. */
export function echoableId(id: unknown): number | string | bigint | undefined {
  if (typeof id === 'number' || typeof id === 'string' || typeof id === 'bigint') return id;
  return undefined;
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function optionalText(msg: Msg, field: string): string | undefined | Validated {
  const value = msg[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || Buffer.byteLength(value, 'utf8') > TEXT_FIELD_BYTES_MAX) {
    return formatError(`${field} must be a string of at most ${TEXT_FIELD_BYTES_MAX} bytes`);
  }
  return value;
}

function isRejection(value: unknown): value is Validated {
  return typeof value === 'object' && value !== null;
}

export function validateRequest(msg: Msg, txnClass: TxnClass, repeat: boolean): Validated {
  const id = msg.id;
  if (id === undefined || id === null) return formatError('id is required');
  if (!isValidId(id))
    return formatError(
      `id must be an unsigned integer below 2^53 or a string of at most ${ID_STRING_BYTES_MAX} bytes`,
    );
  const stan = msg.stan;
  if (!isInt(stan, 1, STAN_MAX)) return formatError(`stan must be an integer 1..${STAN_MAX}`);
  const time = msg.time;
  if (!isInt(time, 0, Number.MAX_SAFE_INTEGER))
    return formatError('time must be a non-negative integer (epoch ms)');
  const pan = msg.pan;
  if (typeof pan !== 'string') return formatError('pan must be a string');
  const amount = msg.amount;
  if (!isInt(amount, 0, AMOUNT_MAX)) return formatError('amount must be an integer 0..10^15 (minor units)');
  const currency = msg.currency;
  if (typeof currency !== 'string' || !CURRENCY_PATTERN.test(currency)) {
    return formatError('currency must be an ISO 4217 alpha-3 code in upper case');
  }
  const rawProc = msg.proc;
  if (rawProc !== undefined && rawProc !== null && typeof rawProc !== 'string')
    return formatError('proc must be a string');
  const partial = msg.partial;
  if (partial !== undefined && partial !== null && typeof partial !== 'boolean')
    return formatError('partial must be a boolean');
  const merchant = optionalText(msg, 'merchant');
  if (isRejection(merchant)) return merchant;
  const terminal = optionalText(msg, 'terminal');
  if (isRejection(terminal)) return terminal;
  const mcc = msg.mcc;
  if (mcc !== undefined && mcc !== null && (typeof mcc !== 'string' || !MCC_PATTERN.test(mcc))) {
    return formatError('mcc must be 4 digits');
  }
  let origStan = 0;
  let origTime = 0;
  if (txnClass === '0220' || txnClass === '0400') {
    const orig = msg.orig;
    if (typeof orig !== 'object' || orig === null || Array.isArray(orig) || orig instanceof Uint8Array) {
      return formatError('orig {stan, time} is required on 0220 and 0400');
    }
    const o = orig as Msg;
    if (!isInt(o.stan, 1, STAN_MAX)) return formatError(`orig.stan must be an integer 1..${STAN_MAX}`);
    if (!isInt(o.time, 0, Number.MAX_SAFE_INTEGER))
      return formatError('orig.time must be a non-negative integer (epoch ms)');
    origStan = o.stan;
    origTime = o.time;
  }

  // MTI/proc combination (12). 0220/0400 take proc from the original: theirs is ignored.
  let proc: Proc = '00';
  if (txnClass === '0100' || txnClass === '0200') {
    if (typeof rawProc === 'string') {
      if (!KNOWN_PROCS.includes(rawProc) || !ALLOWED_PROCS[txnClass].includes(rawProc as Proc)) {
        return {
          ok: false,
          rc: '12',
          error: `proc ${JSON.stringify(rawProc).slice(0, 12)} is not valid on ${txnClass}`,
        };
      }
      proc = rawProc as Proc;
    }
  }

  return {
    ok: true,
    request: {
      txnClass,
      repeat,
      id,
      stan,
      time,
      pan,
      amount,
      currency,
      proc,
      partial: txnClass === '0100' || txnClass === '0200' ? partial === true : false,
      merchant,
      terminal,
      mcc: typeof mcc === 'string' ? mcc : undefined,
      origStan,
      origTime,
    },
  };
}
