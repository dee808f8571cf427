import type { Position } from './positions.js';

/**
 * A cycle's settlement (docs/protocol.md section 7): `closing` while its
 * files are not written, `done` once they are, `failed` when the job gave up
 * on it (the nets did not sum to zero).
 */
export type SettlementStatus = 'closing' | 'done' | 'failed';

export interface Settlement {
  readonly cycle: number;
  readonly status: SettlementStatus;
  /** The number of cleared items. */
  readonly items: number;
  readonly positions: readonly Position[];
}

/**
 * settlement.json's text: keys in a fixed order, one position per line, sums
 * as exact integers (JSON.stringify cannot write a bigint), a final LF. The
 * same settlement always gives the same bytes.
 */
export function renderSettlementJson(s: Settlement): string {
  const positions = s.positions.map(
    (p) =>
      `    {"institution":${JSON.stringify(p.institution)},"currency":${JSON.stringify(p.currency)},` +
      `"debit":${p.debit},"credit":${p.credit},"net":${p.net},"count":${p.count}}`,
  );
  const list = positions.length === 0 ? '[]' : `[\n${positions.join(',\n')}\n  ]`;
  return `{\n  "cycle": ${s.cycle},\n  "status": ${JSON.stringify(s.status)},\n  "items": ${s.items},\n  "positions": ${list}\n}\n`;
}
