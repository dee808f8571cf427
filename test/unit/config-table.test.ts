import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  configTableIn,
  renderConfigTable,
  spliceConfigTable,
  TABLE_BEGIN,
  TABLE_END,
} from '../../src/config/config-table.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { integer, object } from '../../src/config/schema.js';
import { SWITCH_SETTINGS } from '../../src/config/settings.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The key column of every row, without the backticks. */
function keysOf(table: string): string[] {
  return table
    .split('\n')
    .slice(2)
    .map((row) => row.split('|')[1]!.trim().replaceAll('`', ''));
}

describe("the README's configuration table", () => {
  it('is the table generated from the settings (run `npm run docs:config` after changing one)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const inReadme = configTableIn(readme);
    expect(inReadme, `README.md needs ${TABLE_BEGIN} ... ${TABLE_END}`).toBeDefined();
    expect(inReadme).toBe(renderConfigTable(undefined, true));
  });

  it("is docs/configuration.md's full table, generated the same way", () => {
    const doc = readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8');
    expect(configTableIn(doc)).toBe(renderConfigTable());
  });

  it('the short table names every key of the full one, marks what is not in the contract, and drops the values', () => {
    const full = renderConfigTable().split('\n');
    const short = renderConfigTable(undefined, true).split('\n');
    // The ledger's tuning settings (outside the contract) share one row that names them all.
    const tuning = short.find((r) => r.startsWith('| `ledger.*` † |'))!;
    expect(tuning).toContain('[docs/configuration.md](docs/configuration.md)');
    const shortKeys = keysOf(short.join('\n')).map((k) => k.replace(' †', ''));
    for (const key of keysOf(full.join('\n'))) {
      if (key.startsWith('ledger.'))
        expect(tuning).toMatch(new RegExp(`[(, ]${key.slice('ledger.'.length)}[,)]`));
      else expect(shortKeys).toContain(key);
    }
    expect(shortKeys.filter((k) => k.startsWith('ledger.') && k !== 'ledger.*')).toEqual([]);
    const workers = short.find((r) => r.startsWith('| `workers` †'))!;
    expect(
      workers
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    ).toEqual(['`workers` †', '0', 'ledger worker threads; 0 = one per core']);
    expect(short.find((r) => r.startsWith('| `switchId` |'))).toBeDefined();
  });

  it('has a row for every setting, in declaration order', () => {
    const keys = keysOf(renderConfigTable());
    expect(keys.slice(0, 3)).toEqual(['switchId', 'listen.{tcp,ws,admin}', 'listen.{tcp,ws,admin}.host']);
    for (const key of Object.keys(SWITCH_SETTINGS.fields)) {
      expect(keys.some((k) => k === key || k.startsWith(`${key}.`) || k.startsWith(`${key}[]`))).toBe(true);
    }
    for (const key of Object.keys(DEFAULTS.ledger)) expect(keys).toContain(`ledger.${key}`);
    for (const key of Object.keys(DEFAULTS.limits)) expect(keys).toContain(`limits.${key}`);
    expect(keys).toContain('institutions[].standIn.perTxnMax');
    expect(keys).toContain('routes[].issuer');
  });

  it('shows defaults with their unit, bounds, and marks what is not in the contract', () => {
    const rows = renderConfigTable().split('\n');
    const row = (key: string): string[] =>
      rows
        .find((r) => r.startsWith(`| \`${key}\` `))!
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
    expect(row('holdTtlMs')).toEqual([
      '`holdTtlMs`',
      '604800000 (7 d)',
      'integer 1..34560000000 ms (400 days)',
      'authorization holds expire after this',
    ]);
    expect(row('limits.frameBytesMax')[1]).toBe('1048576 (1 MiB)');
    expect(row('admin.token')[1]).toBe('required');
    expect(row('redis.url')[1]).toBe('none');
    expect(row('workers')[3]).toMatch(/\(not in the contract\)$/);
    expect(row('switchId')[3]).not.toMatch(/not in the contract/);
  });

  it('follows a change to a declaration', () => {
    const settings = object(
      { waitMs: integer({ min: 5, max: 9_000, unit: 'ms', default: 7_000, doc: 'how | long' }) },
      { doc: 'test' },
    );
    expect(renderConfigTable(settings).split('\n')[2]).toBe(
      '| `waitMs` | 7000 (7 s) | integer 5..9000 ms | how \\| long |',
    );
  });
});

describe('spliceConfigTable', () => {
  const doc = `# T\n\n${TABLE_BEGIN}\nold table\n${TABLE_END}\n\nafter\n`;

  it('replaces only what is between the markers, and is idempotent', () => {
    const once = spliceConfigTable(doc, '| new |');
    expect(once).toBe(`# T\n\n${TABLE_BEGIN}\n| new |\n${TABLE_END}\n\nafter\n`);
    expect(spliceConfigTable(once, '| new |')).toBe(once);
    expect(configTableIn(once)).toBe('| new |');
  });

  it('looks for the end marker after the begin marker', () => {
    const text = `${TABLE_END} named in prose\n${TABLE_BEGIN}\nold\n${TABLE_END}\n`;
    expect(spliceConfigTable(text, '| new |')).toBe(
      `${TABLE_END} named in prose\n${TABLE_BEGIN}\n| new |\n${TABLE_END}\n`,
    );
    expect(configTableIn(`${TABLE_BEGIN}\nno end`)).toBeUndefined();
  });

  it('refuses a text without the markers', () => {
    expect(() => spliceConfigTable('# T\n', '| new |')).toThrow(/markers/);
    expect(configTableIn('# T\n')).toBeUndefined();
  });
});
