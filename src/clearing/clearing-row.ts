import { maskPan } from '../util/pan.js';
import type { ClearedItem } from './cleared-item.js';
import { csvField, parseCsv } from './csv.js';

/** The columns of a clearing file, in order (docs/protocol.md section 7). */
export const CLEARING_COLUMNS = [
  'rrn',
  'stan',
  'time',
  'pan',
  'mti',
  'proc',
  'amount',
  'currency',
  'direction',
  'acquirer',
  'issuer',
] as const;

export type ClearingColumn = (typeof CLEARING_COLUMNS)[number];

/** A clearing file's row as written: every column as its text. */
export type ClearingRow = Readonly<Record<ClearingColumn, string>>;

export const CLEARING_HEADER = `${CLEARING_COLUMNS.join(',')}\n`;

/** `D` when the institution pays, `C` when it is paid. */
export type Direction = 'D' | 'C';

/** The direction of `item` for one of its two institutions. */
export function directionOf(item: ClearedItem, side: 'acquirer' | 'issuer'): Direction {
  return item.payer === side ? 'D' : 'C';
}

/** An item's row for one side, as fields. */
export function clearingRowOf(item: ClearedItem, side: 'acquirer' | 'issuer'): ClearingRow {
  return {
    rrn: item.rrn,
    stan: String(item.stan),
    time: String(item.time),
    pan: item.panMasked,
    mti: item.mti,
    proc: item.proc,
    amount: String(item.amount),
    currency: item.currency,
    direction: directionOf(item, side),
    acquirer: item.acquirer,
    issuer: item.issuer,
  };
}

/**
 * An item's two lines, as the acquirer's and the issuer's files hold them:
 * the same but for the direction, so the text before and after it is made
 * once (the writer's per-item cost). Numbers need no escaping.
 */
export function clearingLinesOf(item: ClearedItem): { readonly acquirer: string; readonly issuer: string } {
  const head = `${csvField(item.rrn)},${item.stan},${item.time},${csvField(item.panMasked)},${item.mti},${item.proc},${item.amount},${csvField(item.currency)},`;
  const tail = `,${csvField(item.acquirer)},${csvField(item.issuer)}\n`;
  return {
    acquirer: `${head}${directionOf(item, 'acquirer')}${tail}`,
    issuer: `${head}${directionOf(item, 'issuer')}${tail}`,
  };
}

/**
 * The rows of a clearing file's text (ours, or an institution's own in the
 * same format). The `pan` column is masked as read (ours already is; an
 * institution's own file may hold full PANs, which then go no further).
 * Throws when the header is not exactly ours or a row has another number of
 * fields.
 */
export function parseClearingCsv(text: string, name: string): ClearingRow[] {
  const [header, ...records] = parseCsv(text);
  if (header === undefined || header.join(',') !== CLEARING_COLUMNS.join(','))
    throw new Error(`${name}: the header must be exactly ${CLEARING_COLUMNS.join(',')}`);
  return records.map((fields, i) => {
    if (fields.length !== CLEARING_COLUMNS.length)
      throw new Error(`${name}: row ${i + 1} has ${fields.length} fields, not ${CLEARING_COLUMNS.length}`);
    const row = Object.fromEntries(CLEARING_COLUMNS.map((column, c) => [column, fields[c]!])) as ClearingRow;
    return { ...row, pan: maskPan(row.pan) };
  });
}
