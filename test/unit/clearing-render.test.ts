/**
 * Rendering a cycle (docs/clearing.md, docs/protocol.md section 7): CSV escaping, rows in
 * journal order with each side's direction, positions and their order, the zero-sum check,
 * settlement.json's exact bytes, and byte-identical output for the same items, in memory
 * and on disk (atomic writes that leave no temporary file behind).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClearedItem } from '../../src/clearing/cleared-item.js';
import {
  CLEARING_COLUMNS,
  CLEARING_HEADER,
  clearingLinesOf,
  clearingRowOf,
  parseClearingCsv,
} from '../../src/clearing/clearing-row.js';
import { csvField, csvLine, parseCsv } from '../../src/clearing/csv.js';
import { writeCycleFiles } from '../../src/clearing/cycle-files.js';
import { cycleDir, institutionFileName } from '../../src/clearing/cycle-paths.js';
import { renderCycle } from '../../src/clearing/cycle-renderer.js';
import { imbalances, type Position } from '../../src/clearing/positions.js';
import { renderSettlementJson } from '../../src/clearing/settlement.js';
import { clearedItem } from '../helpers/cleared-items.js';
import { sha256Of } from '../helpers/file-digests.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-clearing-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A small cycle: two acquirers, the on-us issuer and one issuer institution, two currencies. */
const CYCLE: readonly ClearedItem[] = [
  clearedItem({ rrn: 'R01', stan: 1, amount: 1_000, acquirer: 'acq-b', issuer: 'sw-test', payer: 'issuer' }),
  clearedItem({
    rrn: 'R02',
    stan: 2,
    amount: 300,
    proc: '20',
    acquirer: 'acq-a',
    issuer: 'sw-test',
    payer: 'acquirer',
  }),
  clearedItem({
    rrn: 'R03',
    stan: 3,
    amount: 700,
    currency: 'USD',
    acquirer: 'acq-a',
    issuer: 'iss-x',
    payer: 'issuer',
  }),
  clearedItem({
    rrn: 'R04',
    stan: 4,
    amount: 250,
    mti: '0220',
    acquirer: 'acq-b',
    issuer: 'iss-x',
    payer: 'issuer',
  }),
  clearedItem({
    rrn: 'R05',
    stan: 5,
    amount: 1_000,
    mti: '0400',
    acquirer: 'acq-b',
    issuer: 'sw-test',
    payer: 'acquirer',
  }),
];

describe('CSV (RFC 4180)', () => {
  it('quotes a field only when it holds a comma, a quote or a line break, doubling its quotes', () => {
    expect(csvField('plain-1.2_x')).toBe('plain-1.2_x');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvLine(['a', 'b,c', ''])).toBe('a,"b,c",\n');
  });

  it('reads back what it writes, for random fields (seeded), with LF or CRLF line ends', () => {
    const seed = seedFromEnv(0xc1ea2);
    console.log(`csv round trip seed ${seed}`);
    const rng = new SeededRng(seed);
    const alphabet = ['a', 'Z', '0', ',', '"', '\n', '\r', ' ', '*', 'é'];
    for (let run = 0; run < 300; run++) {
      const records = Array.from({ length: rng.int(1, 5) }, () =>
        Array.from({ length: rng.int(1, 6) }, () =>
          Array.from({ length: rng.int(0, 8) }, () => rng.pick(alphabet)).join(''),
        ),
      );
      // A record of one empty field is an empty line, which a CSV reader cannot tell from none.
      if (records.some((r) => r.length === 1 && r[0] === '')) continue;
      const text = records.map(csvLine).join('');
      expect(parseCsv(text), `seed ${seed} run ${run}`).toEqual(records);
      expect(
        parseCsv(text.replaceAll(/\n(?=(?:[^"]*"[^"]*")*[^"]*$)/g, '\r\n')),
        `seed ${seed} run ${run}`,
      ).toEqual(records);
    }
  });

  it('refuses a quote that is never closed, or text after a closing quote', () => {
    expect(() => parseCsv('a,"b\n')).toThrow(/not closed/);
    expect(() => parseCsv('a,"b"c\n')).toThrow(/after a closing quote/);
  });
});

describe('rows', () => {
  it('a row has the section 7 columns; an item’s two lines differ only in direction', () => {
    expect(CLEARING_HEADER).toBe('rrn,stan,time,pan,mti,proc,amount,currency,direction,acquirer,issuer\n');
    const item = clearedItem({ payer: 'acquirer', proc: '20' });
    const lines = clearingLinesOf(item);
    for (const side of ['acquirer', 'issuer'] as const) {
      const row = clearingRowOf(item, side);
      expect(lines[side]).toBe(csvLine(CLEARING_COLUMNS.map((c) => row[c])));
    }
    expect(lines.acquirer).toBe(
      'RRN000000001,1,1773144000000,400000******0002,0200,20,1000,EUR,D,acq-1,sw-test\n',
    );
    expect(lines.issuer).toBe(
      'RRN000000001,1,1773144000000,400000******0002,0200,20,1000,EUR,C,acq-1,sw-test\n',
    );
  });

  it('a field that needs it is escaped in the line, and reads back as it was', () => {
    const item = clearedItem({ currency: 'E,R', rrn: 'R"1' });
    const text = CLEARING_HEADER + clearingLinesOf(item).acquirer;
    expect(text).toContain('"R""1"');
    expect(parseClearingCsv(text, 'x.csv')).toEqual([clearingRowOf(item, 'acquirer')]);
  });

  it('reading a file masks its PANs and refuses another header or a short row', () => {
    const full = `${CLEARING_HEADER}R1,1,2,4000000000000002,0200,00,5,EUR,D,acq-1,sw-test\n`;
    expect(parseClearingCsv(full, 'theirs.csv')[0]!.pan).toBe('400000******0002');
    expect(() => parseClearingCsv('rrn,stan\nR1,1\n', 'theirs.csv')).toThrow(/header must be exactly/);
    expect(() => parseClearingCsv(`${CLEARING_HEADER}R1,1,2\n`, 'theirs.csv')).toThrow(/row 1 has 3 fields/);
  });
});

describe('a cycle rendered', () => {
  it('gives each institution the header and its rows in journal order, with its own direction', () => {
    const { csv } = renderCycle([CYCLE], 1, 'done');
    expect([...csv.keys()]).toEqual(['acq-a', 'acq-b', 'iss-x', 'sw-test']);
    const rows = (institution: string) =>
      parseClearingCsv(csv.get(institution)!, institution).map((r) => `${r.rrn} ${r.direction} ${r.amount}`);
    expect(rows('acq-a')).toEqual(['R02 D 300', 'R03 C 700']);
    expect(rows('acq-b')).toEqual(['R01 C 1000', 'R04 C 250', 'R05 D 1000']);
    expect(rows('iss-x')).toEqual(['R03 D 700', 'R04 D 250']);
    expect(rows('sw-test')).toEqual(['R01 D 1000', 'R02 C 300', 'R05 C 1000']);
  });

  it('positions: per institution and currency, debit, credit, net = credit - debit, count; sorted; items counted once', () => {
    const { settlement } = renderCycle([CYCLE], 3, 'done');
    const p = (
      institution: string,
      currency: string,
      debit: bigint,
      credit: bigint,
      count: number,
    ): Position => ({
      institution,
      currency,
      debit,
      credit,
      net: credit - debit,
      count,
    });
    expect(settlement).toEqual({
      cycle: 3,
      status: 'done',
      items: 5,
      positions: [
        p('acq-a', 'EUR', 300n, 0n, 1),
        p('acq-a', 'USD', 0n, 700n, 1),
        p('acq-b', 'EUR', 1_000n, 1_250n, 3),
        p('iss-x', 'EUR', 250n, 0n, 1),
        p('iss-x', 'USD', 700n, 0n, 1),
        p('sw-test', 'EUR', 1_000n, 1_300n, 3),
      ],
    });
    expect(imbalances(settlement.positions)).toEqual([]);
  });

  it('positions sum exactly past 2^53 minor units (no rounding)', () => {
    const big = Array.from({ length: 10 }, (_, i) => clearedItem({ rrn: `B${i}`, amount: 10 ** 15 + 1 }));
    const { settlement } = renderCycle([big], 1, 'done');
    expect(settlement.positions.find((p) => p.institution === 'sw-test')!.debit).toBe(
      10_000_000_000_000_010n,
    );
    expect(renderSettlementJson(settlement)).toContain('"debit":10000000000000010');
  });

  it('an institution that is both acquirer and issuer of an item gets both rows and nets zero on it', () => {
    const { csv, settlement } = renderCycle([[clearedItem({ acquirer: 'bank', issuer: 'bank' })]], 1, 'done');
    expect(parseClearingCsv(csv.get('bank')!, 'bank').map((r) => r.direction)).toEqual(['C', 'D']);
    expect(settlement.positions).toEqual([
      { institution: 'bank', currency: 'EUR', debit: 1_000n, credit: 1_000n, net: 0n, count: 2 },
    ]);
  });

  it('the zero-sum check names each currency whose nets do not sum to zero', () => {
    const { settlement } = renderCycle([CYCLE], 1, 'done');
    const planted = settlement.positions.map((p) =>
      p.institution === 'iss-x' && p.currency === 'USD' ? { ...p, debit: 650n, net: -650n } : p,
    );
    expect(imbalances(planted)).toEqual([{ currency: 'USD', netSum: 50n }]);
  });

  it('settlement.json: fixed key order, exact integers, one position per line', () => {
    const { settlement } = renderCycle([[CYCLE[2]!]], 2, 'closing');
    expect(renderSettlementJson(settlement)).toBe(
      [
        '{',
        '  "cycle": 2,',
        '  "status": "closing",',
        '  "items": 1,',
        '  "positions": [',
        '    {"institution":"acq-a","currency":"USD","debit":0,"credit":700,"net":700,"count":1},',
        '    {"institution":"iss-x","currency":"USD","debit":700,"credit":0,"net":-700,"count":1}',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
    expect(renderSettlementJson({ cycle: 9, status: 'done', items: 0, positions: [] })).toBe(
      '{\n  "cycle": 9,\n  "status": "done",\n  "items": 0,\n  "positions": []\n}\n',
    );
  });

  it('is byte-identical for the same items, however they are batched', () => {
    const once = renderCycle([CYCLE], 1, 'done');
    const again = renderCycle(
      CYCLE.map((item) => [item]),
      1,
      'done',
    );
    expect(again.csv).toEqual(once.csv);
    expect(renderSettlementJson(again.settlement)).toBe(renderSettlementJson(once.settlement));
  });
});

async function* batchesOf(items: readonly ClearedItem[]): AsyncGenerator<ClearedItem[]> {
  for (const item of items) yield [item];
}

describe('cycle files on disk', () => {
  it('writes each institution’s CSV and settlement.json; a rerun writes the same bytes and leaves no temp file', async () => {
    const outDir = tempDir();
    const settlement = await writeCycleFiles({ outDir, cycle: 4, status: 'done', items: batchesOf(CYCLE) });
    const dir = cycleDir(outDir, 4);
    const first = sha256Of(dir);
    expect(Object.keys(first)).toEqual([
      'acq-a.csv',
      'acq-b.csv',
      'iss-x.csv',
      'settlement.json',
      'sw-test.csv',
    ]);
    const rendered = renderCycle([CYCLE], 4, 'done');
    expect(readFileSync(path.join(dir, 'acq-b.csv'), 'utf8')).toBe(rendered.csv.get('acq-b'));
    expect(readFileSync(path.join(dir, 'settlement.json'), 'utf8')).toBe(renderSettlementJson(settlement));
    await writeCycleFiles({ outDir, cycle: 4, status: 'done', items: [CYCLE] });
    expect(sha256Of(dir)).toEqual(first);
    const elsewhere = tempDir();
    await writeCycleFiles({ outDir: elsewhere, cycle: 4, status: 'done', items: batchesOf(CYCLE) });
    expect(sha256Of(cycleDir(elsewhere, 4))).toEqual(first);
  });

  it('streams a large cycle through chunks and still writes every row', async () => {
    const outDir = tempDir();
    const many = Array.from({ length: 20_000 }, (_, i) =>
      clearedItem({ rrn: `R${i}`, stan: (i % 999_999) + 1 }),
    );
    await writeCycleFiles({ outDir, cycle: 1, status: 'done', items: [many] });
    const text = readFileSync(path.join(cycleDir(outDir, 1), 'acq-1.csv'), 'utf8');
    expect(text).toBe(renderCycle([many], 1, 'done').csv.get('acq-1'));
    expect(text.length).toBeGreaterThan(2 * 256 * 1024);
  });

  it('an empty cycle writes settlement.json alone', async () => {
    const outDir = tempDir();
    const settlement = await writeCycleFiles({ outDir, cycle: 2, status: 'done', items: [] });
    expect(settlement).toEqual({ cycle: 2, status: 'done', items: 0, positions: [] });
    expect(readdirSync(cycleDir(outDir, 2))).toEqual(['settlement.json']);
  });

  it('a failure midway writes nothing and leaves no temporary file', async () => {
    const outDir = tempDir();
    const bad = [...CYCLE, clearedItem({ issuer: '../escape' })];
    await expect(
      writeCycleFiles({ outDir, cycle: 1, status: 'done', items: batchesOf(bad) }),
    ).rejects.toThrow(/cannot name a clearing file/);
    expect(readdirSync(cycleDir(outDir, 1))).toEqual([]);
  });
});

describe('file names', () => {
  it('an institution id names its file; a name that could leave the folder is refused', () => {
    expect(institutionFileName('acq-1.EU_2')).toBe('acq-1.EU_2.csv');
    for (const name of ['../x', 'a/b', 'a\\b', '', 'a b', '/abs', 'x\u0000', 'é', 'a'.repeat(65)]) {
      expect(() => institutionFileName(name), JSON.stringify(name)).toThrow(/cannot name a clearing file/);
    }
    // The refusal never echoes a PAN-shaped name whole.
    expect(() => institutionFileName('4000000000000002/')).toThrow(/400000\*+0002/);
  });

  it('a cycle is a whole number from 1', () => {
    expect(cycleDir('/out', 12)).toBe(path.join('/out', '12'));
    for (const cycle of [0, -1, 1.5, Number.NaN])
      expect(() => cycleDir('/out', cycle)).toThrow(/whole number/);
  });
});
