import { scrubText } from '../observability/log-redact.js';
import type { ItemBatches } from './cleared-item.js';
import { CLEARING_COLUMNS, type ClearingColumn, type ClearingRow, clearingRowOf } from './clearing-row.js';

/**
 * Reconciliation (docs/clearing.md): the rows a cycle's journal range makes
 * against the rows of its files on disk and, optionally, an institution's
 * own file. Rows are matched by (institution, rrn, mti, direction): the rrn is
 * unique per response of the switch and a response makes at most one cleared
 * item, the mti tells a reversal's row from its original's should an
 * institution's file reuse an rrn, and the direction tells an institution's
 * two rows of one item apart when it was both acquirer and issuer.
 */

export type DifferenceKind = 'missing' | 'extra' | 'amount differs';

/** Where a compared row comes from: our file on disk, or the institution's own. */
export type RowSource = 'file' | 'theirs';

export interface Difference {
  readonly kind: DifferenceKind;
  readonly source: RowSource;
  readonly institution: string;
  /** The row as the journal makes it (missing, amount differs). */
  readonly journal: ClearingRow | undefined;
  /** The row as found (extra, amount differs). */
  readonly found: ClearingRow | undefined;
}

export interface ReconcileInput {
  /** The cycle's items recomputed from the journal, in journal order (itemsInRange). */
  readonly items: ItemBatches;
  /** The rows of the cycle's files on disk, by institution (readCycleFiles). */
  readonly files: ReadonlyMap<string, readonly ClearingRow[]>;
  /** An institution's own file, compared with its rows of the journal. */
  readonly theirs?: { readonly institution: string; readonly rows: readonly ClearingRow[] };
}

/** Columns that say which row it is; a matched row must agree on them too. */
const IDENTITY_COLUMNS: readonly ClearingColumn[] = CLEARING_COLUMNS.filter(
  (c) => c !== 'amount' && c !== 'currency',
);

/**
 * Every difference, in a fixed order: per source (file, then theirs), the
 * journal's rows missing or differing in journal order, then the extra rows
 * by institution, in file order. A matched row that differs in a column other
 * than amount and currency is not the journal's row: it is reported as the
 * journal's row missing and the found row extra.
 */
export async function reconcile(input: ReconcileInput): Promise<Difference[]> {
  const file = new RowIndex('file', input.files);
  const theirs =
    input.theirs === undefined
      ? undefined
      : new RowIndex('theirs', new Map([[input.theirs.institution, input.theirs.rows]]));
  for await (const batch of input.items) {
    for (const item of batch) {
      for (const side of ['acquirer', 'issuer'] as const) {
        const row = clearingRowOf(item, side);
        const institution = item[side];
        file.match(institution, row);
        if (theirs?.covers(institution)) theirs.match(institution, row);
      }
    }
  }
  return [...file.differences(), ...(theirs?.differences() ?? [])];
}

/** One source's rows, by match key, with what matching them found. */
class RowIndex {
  private readonly unmatched = new Map<string, { institution: string; row: ClearingRow; order: number }[]>();
  private readonly found: Difference[] = [];
  private readonly institutions: Set<string>;

  constructor(
    private readonly source: RowSource,
    rows: ReadonlyMap<string, readonly ClearingRow[]>,
  ) {
    this.institutions = new Set(rows.keys());
    let order = 0;
    for (const [institution, list] of [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const row of list) {
        const key = matchKey(institution, row);
        const same = this.unmatched.get(key);
        const entry = { institution, row, order: order++ };
        if (same === undefined) this.unmatched.set(key, [entry]);
        else same.push(entry);
      }
    }
  }

  covers(institution: string): boolean {
    return this.institutions.has(institution);
  }

  match(institution: string, journal: ClearingRow): void {
    const key = matchKey(institution, journal);
    const same = this.unmatched.get(key);
    const hit = same?.shift();
    if (same?.length === 0) this.unmatched.delete(key);
    if (hit === undefined) {
      this.found.push(this.difference('missing', institution, journal, undefined));
    } else if (IDENTITY_COLUMNS.some((c) => hit.row[c] !== journal[c])) {
      this.found.push(this.difference('missing', institution, journal, undefined));
      // Put back as unmatched: reported extra, in its file order, with the rest.
      this.unmatched.set(`${key}\u0000mismatch${hit.order}`, [hit]);
    } else if (!sameMoney(hit.row, journal)) {
      this.found.push(this.difference('amount differs', institution, journal, hit.row));
    }
  }

  /** What matching found, then every row no journal row matched. */
  differences(): Difference[] {
    const extra = [...this.unmatched.values()].flat().sort((a, b) => a.order - b.order);
    return [...this.found, ...extra.map((e) => this.difference('extra', e.institution, undefined, e.row))];
  }

  private difference(
    kind: DifferenceKind,
    institution: string,
    journal: ClearingRow | undefined,
    found: ClearingRow | undefined,
  ): Difference {
    return { kind, source: this.source, institution, journal, found };
  }
}

function matchKey(institution: string, row: ClearingRow): string {
  return `${institution}\u0000${row.rrn}\u0000${row.mti}\u0000${row.direction}`;
}

/** Same amount (as integers: `0100` is 100) and same currency. */
function sameMoney(a: ClearingRow, b: ClearingRow): boolean {
  return a.currency === b.currency && integerText(a.amount) === integerText(b.amount);
}

function integerText(text: string): string {
  return /^[0-9]+$/.test(text) ? BigInt(text).toString() : text;
}

/**
 * A difference as one line, for people: what, where, and the row. A row read
 * from a file had its PAN masked when read (parseClearingCsv); any other
 * PAN-like digit run a file put in a column is masked here (the logger's
 * rule, which leaves times readable), so no line shows a full PAN whoever
 * wrote the file. The journal's rows are the switch's own: nothing to mask.
 */
export function describeDifference(d: Difference): string {
  const where = d.source === 'file' ? `${d.institution}.csv` : `${d.institution}'s own file`;
  const fromJournal = d.journal !== undefined;
  const row = (d.journal ?? d.found)!;
  const safe = (text: string): string => (fromJournal ? text : scrubText(text));
  const id = `${safe(`rrn ${row.rrn} mti ${row.mti} ${row.direction} stan ${row.stan} pan ${row.pan}`)} time ${row.time.length <= 13 ? row.time : safe(row.time)} ${safe(`acquirer ${row.acquirer} issuer ${row.issuer}`)}`;
  switch (d.kind) {
    case 'missing':
      return `missing from ${where}: ${id} ${row.amount} ${row.currency}`;
    case 'extra':
      return `extra in ${where} (not in the journal): ${id} ${safe(`${row.amount} ${row.currency}`)}`;
    case 'amount differs':
      return `amount differs in ${where}: ${id}: journal ${row.amount} ${row.currency}, file ${scrubText(`${d.found!.amount} ${d.found!.currency}`)}`;
  }
}
