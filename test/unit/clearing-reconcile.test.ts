/**
 * Reconciliation's diff (docs/clearing.md "Reconcile"): the journal's rows against the
 * files on disk and an institution's own file; each kind of difference planted and found,
 * in a fixed order, with its one-line form, and no full PAN in any line.
 */
import { describe, expect, it } from 'vitest';
import type { ClearedItem } from '../../src/clearing/cleared-item.js';
import { CLEARING_HEADER, type ClearingRow, parseClearingCsv } from '../../src/clearing/clearing-row.js';
import { renderCycle } from '../../src/clearing/cycle-renderer.js';
import { describeDifference, reconcile } from '../../src/clearing/reconcile.js';
import { clearedItem } from '../helpers/cleared-items.js';

const ITEMS: readonly ClearedItem[] = [
  clearedItem({ rrn: 'R01', stan: 1, amount: 1_000, acquirer: 'acq-a', issuer: 'sw-test' }),
  clearedItem({
    rrn: 'R02',
    stan: 2,
    amount: 300,
    proc: '20',
    acquirer: 'acq-a',
    issuer: 'iss-x',
    payer: 'acquirer',
  }),
  clearedItem({ rrn: 'R03', stan: 3, amount: 700, mti: '0220', acquirer: 'acq-b', issuer: 'sw-test' }),
];

/** The files a clearing run writes for ITEMS, read back as rows. */
function filesOf(items: readonly ClearedItem[]): Map<string, ClearingRow[]> {
  const { csv } = renderCycle([items], 1, 'done');
  return new Map([...csv].map(([institution, text]) => [institution, parseClearingCsv(text, institution)]));
}

function edit(
  files: Map<string, ClearingRow[]>,
  institution: string,
  change: (rows: ClearingRow[]) => ClearingRow[],
): Map<string, ClearingRow[]> {
  return new Map([...files, [institution, change(files.get(institution) ?? [])]]);
}

async function linesOf(input: Parameters<typeof reconcile>[0]): Promise<string[]> {
  return (await reconcile(input)).map(describeDifference);
}

describe('reconcile against the files on disk', () => {
  it('finds nothing when the files are what the journal makes', async () => {
    expect(await reconcile({ items: [ITEMS], files: filesOf(ITEMS) })).toEqual([]);
  });

  it('missing: a journal row the file lacks, and every row of a file that is not there', async () => {
    const files = edit(filesOf(ITEMS), 'acq-a', (rows) => rows.filter((r) => r.rrn !== 'R02'));
    files.delete('acq-b');
    expect(await linesOf({ items: [ITEMS], files })).toEqual([
      'missing from acq-a.csv: rrn R02 mti 0200 D stan 2 pan 400000******0002 time 1773144000000 acquirer acq-a issuer iss-x 300 EUR',
      'missing from acq-b.csv: rrn R03 mti 0220 C stan 3 pan 400000******0002 time 1773144000000 acquirer acq-b issuer sw-test 700 EUR',
    ]);
  });

  it('extra: a file row no journal row matches, a repeated row, a file for an institution with no items', async () => {
    const planted = { ...filesOf(ITEMS).get('acq-a')![0]!, rrn: 'R99' };
    let files = edit(filesOf(ITEMS), 'acq-a', (rows) => [...rows, planted]);
    files = edit(files, 'iss-x', (rows) => [...rows, rows[0]!]);
    files.set('nobody', [{ ...planted, acquirer: 'nobody' }]);
    const found = await reconcile({ items: [ITEMS], files });
    expect(found.map((d) => [d.kind, d.institution, d.found?.rrn])).toEqual([
      ['extra', 'acq-a', 'R99'],
      ['extra', 'iss-x', 'R02'],
      ['extra', 'nobody', 'R99'],
    ]);
    expect(describeDifference(found[0]!)).toBe(
      'extra in acq-a.csv (not in the journal): rrn R99 mti 0200 C stan 1 pan 400000******0002 time 1773144000000 acquirer acq-a issuer sw-test 1000 EUR',
    );
  });

  it('amount differs: same row, another amount or currency; the same integer written otherwise is no difference', async () => {
    let files = edit(filesOf(ITEMS), 'sw-test', (rows) =>
      rows.map((r) => (r.rrn === 'R03' ? { ...r, amount: '650' } : r)),
    );
    files = edit(files, 'acq-a', (rows) =>
      rows.map((r) => (r.rrn === 'R02' ? { ...r, currency: 'USD' } : r)),
    );
    files = edit(files, 'iss-x', (rows) => rows.map((r) => ({ ...r, amount: `0${r.amount}` })));
    expect(await linesOf({ items: [ITEMS], files })).toEqual([
      'amount differs in acq-a.csv: rrn R02 mti 0200 D stan 2 pan 400000******0002 time 1773144000000 acquirer acq-a issuer iss-x: journal 300 EUR, file 300 USD',
      'amount differs in sw-test.csv: rrn R03 mti 0220 D stan 3 pan 400000******0002 time 1773144000000 acquirer acq-b issuer sw-test: journal 700 EUR, file 650 EUR',
    ]);
  });

  it('a matched row that differs in another column is the journal’s row missing and the file’s extra', async () => {
    const files = edit(filesOf(ITEMS), 'acq-b', (rows) =>
      rows.map((r) => ({ ...r, pan: '411111******1111' })),
    );
    const found = await reconcile({ items: [ITEMS], files });
    expect(found.map((d) => [d.kind, d.institution, (d.journal ?? d.found)!.pan])).toEqual([
      ['missing', 'acq-b', '400000******0002'],
      ['extra', 'acq-b', '411111******1111'],
    ]);
  });
});

describe('reconcile against an institution’s own file', () => {
  it('compares only that institution’s rows, masks the PANs it holds, and reports each kind', async () => {
    const ours = `${CLEARING_HEADER}R01,1,1773144000000,4000000000000002,0200,00,1000,EUR,C,acq-a,sw-test\nR02,2,1773144000000,4000000000000002,0200,20,350,EUR,D,acq-a,iss-x\nR77,7,1773144000000,4000000000000002,0200,00,5,EUR,C,acq-a,sw-test\n`;
    const theirs = { institution: 'acq-a', rows: parseClearingCsv(ours, 'theirs.csv') };
    const lines = await linesOf({
      items: [[...ITEMS, clearedItem({ rrn: 'R04', acquirer: 'acq-a' })]],
      files: filesOf(ITEMS),
      theirs,
    });
    expect(lines).toEqual([
      // Our file lacks R04 (it was added to the journal after the files here were rendered).
      'missing from acq-a.csv: rrn R04 mti 0200 C stan 1 pan 400000******0002 time 1773144000000 acquirer acq-a issuer sw-test 1000 EUR',
      'missing from sw-test.csv: rrn R04 mti 0200 D stan 1 pan 400000******0002 time 1773144000000 acquirer acq-a issuer sw-test 1000 EUR',
      "amount differs in acq-a's own file: rrn R02 mti 0200 D stan 2 pan 400000******0002 time 1773144000000 acquirer acq-a issuer iss-x: journal 300 EUR, file 350 EUR",
      "missing from acq-a's own file: rrn R04 mti 0200 C stan 1 pan 400000******0002 time 1773144000000 acquirer acq-a issuer sw-test 1000 EUR",
      "extra in acq-a's own file (not in the journal): rrn R77 mti 0200 C stan 7 pan 400000******0002 time 1773144000000 acquirer acq-a issuer sw-test 5 EUR",
    ]);
    expect(lines.join('\n')).not.toContain('4000000000000002');
  });

  it('a PAN-shaped number in another column of their file is masked in the line', async () => {
    const text = `${CLEARING_HEADER}4000000000000002,1,1773144000000,x,0200,00,1,EUR,C,acq-a,sw-test\n`;
    const lines = await linesOf({
      items: [],
      files: new Map(),
      theirs: { institution: 'acq-a', rows: parseClearingCsv(text, 't') },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('4000000000000002');
    expect(lines[0]).toContain('400000******0002');
  });
});
