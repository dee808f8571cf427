import type { Msg } from './wire.js';

/** Luhn check digit for `body` (digits only). */
export function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(pan: string): boolean {
  return /^[0-9]+$/.test(pan) && luhnDigit(pan.slice(0, -1)) === pan.slice(-1);
}

let panCounter = 0;

/** A Luhn-valid PAN of `length` digits starting with `prefix`; distinct on every call. */
export function makePan(prefix: string, length = 16): string {
  panCounter++;
  const fillLength = length - prefix.length - 1;
  const fill = `${Date.now()}${process.pid}${panCounter}`.padStart(fillLength, '7').slice(-fillLength);
  const body = prefix + fill;
  return body + luhnDigit(body);
}

/** The same PAN with a wrong check digit. */
export function breakLuhn(pan: string): string {
  const last = Number(pan.slice(-1));
  return pan.slice(0, -1) + String((last + 1) % 10);
}

let counter = 0;
/** A fresh request id (number). */
export const nextId = (): number => ++counter;
/** A fresh stan in 1..999999. */
export const nextStan = (): number => (counter++ % 999_999) + 1;

/** A request id matcher for nextMessage. */
export const byId =
  (id: unknown) =>
  (m: Msg): boolean =>
    m['id'] === id;

export interface TxOptions {
  readonly pan?: string;
  readonly amount?: number;
}

/** A valid request of class `mti` for the local route ("4..." PANs). 0220/0400 family carry `orig`. */
export function tx(mti: string, o: TxOptions = {}): Msg {
  const m: Msg = {
    mti,
    id: nextId(),
    stan: nextStan(),
    time: Date.now(),
    pan: o.pan ?? makePan('4'),
    amount: o.amount ?? 1000,
    currency: 'EUR',
  };
  if (mti.startsWith('022') || mti.startsWith('040'))
    m['orig'] = { stan: nextStan(), time: Date.now() - 60_000 };
  return m;
}

/** Response MTI of a transaction request (repeats answered as the original). */
export function responseMti(mti: string): string {
  const base = mti.endsWith('1') ? `${mti.slice(0, 3)}0` : mti;
  return String(Number(base) + 10).padStart(4, '0');
}

export const echo = (id: unknown = nextId()): Msg => ({ mti: '0800', id, code: 'echo' });
