import { codeString } from '../../util/code-source.js';

/** A response's fields as they travel (worker results, the wire): plain strings and numbers. */
export interface ResponseFields {
  readonly rc: string;
  readonly rrn: string;
  readonly authCode?: string;
  readonly amount?: number;
  readonly balance?: number;
  readonly error?: string;
}

/**
 * A ledger's response: what decide() returns and a worker result carries
 * until it is written out. The rrn and authCode are kept as their
 * generators made them, a shared head and a tail number (CodeSource), and
 * written from those parts (MsgpackWriter.code); `rrn` and `authCode` make
 * the strings when read. A record keeps the same fields inline (TxnRecord;
 * responseOf() makes one of these from them).
 */
export class StoredResponse implements ResponseFields {
  constructor(
    readonly rc: string,
    readonly rrnHead: string,
    readonly rrnTail: number,
    /** undefined: the response has no authCode. */
    readonly authHead: string | undefined,
    readonly authTail: number,
    readonly amount: number | undefined,
    readonly balance: number | undefined,
    readonly error: string | undefined,
  ) {}

  get rrn(): string {
    return codeString(this.rrnHead, this.rrnTail);
  }

  get authCode(): string | undefined {
    return this.authHead === undefined ? undefined : codeString(this.authHead, this.authTail);
  }

  /** A response with whole strings (decoded from Redis, or built off the hot path). */
  static of(fields: ResponseFields): StoredResponse {
    return new StoredResponse(
      fields.rc,
      fields.rrn,
      -1,
      fields.authCode,
      -1,
      fields.amount,
      fields.balance,
      fields.error,
    );
  }
}

/** The fields of a response as a plain object (only those it has), as decoded from a worker result. */
export function fieldsOf(r: ResponseFields): ResponseFields {
  const out: { -readonly [K in keyof ResponseFields]: ResponseFields[K] } = { rc: r.rc, rrn: r.rrn };
  const authCode = r.authCode;
  if (authCode !== undefined) out.authCode = authCode;
  if (r.amount !== undefined) out.amount = r.amount;
  if (r.balance !== undefined) out.balance = r.balance;
  if (r.error !== undefined) out.error = r.error;
  return out;
}
