import type { Setting, Spec } from './schema.js';
import { SWITCH_SETTINGS } from './settings.js';

/**
 * The configuration tables, rendered from the declared settings: the full
 * one (docs/configuration.md: key, default, values with bounds and units,
 * meaning) and the short one in the README (key, default, meaning), and the
 * splice that puts a table between a file's markers (`npm run docs:config`
 * rewrites both; a test fails when either copy is stale).
 */

export const TABLE_BEGIN = '<!-- config-table:begin -->';
export const TABLE_END = '<!-- config-table:end -->';

const HEADER = ['key', 'default', 'values', 'meaning'] as const;
const SHORT_HEADER = ['key', 'default', 'meaning'] as const;
/** After a key in the short table: a setting of this implementation, not of the contract. */
export const NOT_IN_CONTRACT_MARK = '†';

type Row = readonly [string, string, string, string];

/**
 * One row per setting; settings that share one declaration (the three
 * listeners) share a row. `short`: without the values column, and a setting
 * that is not in the contract marked after its key instead of in words.
 */
export function renderConfigTable(root: Setting = SWITCH_SETTINGS, short = false): string {
  const rows: Row[] = [];
  collect(root, '', rows);
  if (short) {
    const shortRow = ([key, byDefault, , meaning]: Row): readonly string[] => {
      const internal = meaning.endsWith(NOT_IN_CONTRACT);
      return [
        internal ? `${key} ${NOT_IN_CONTRACT_MARK}` : key,
        byDefault,
        internal ? meaning.slice(0, -NOT_IN_CONTRACT.length) : meaning,
      ];
    };
    return [
      lineOf(SHORT_HEADER),
      lineOf(SHORT_HEADER.map(() => '---')),
      ...collapseTuning(rows.map(shortRow)).map(lineOf),
    ].join('\n');
  }
  return [lineOf(HEADER), lineOf(HEADER.map(() => '---')), ...rows.map(lineOf)].join('\n');
}

/** A group of settings outside the contract this large or larger is one row of the short table. */
const TUNING_GROUP_ROWS_MIN = 4;

/**
 * The short table (the README's) keeps one row for a large group of
 * settings outside the contract that share a parent (the ledger's tuning),
 * naming them; their defaults and meanings are in docs/configuration.md.
 */
function collapseTuning(rows: readonly (readonly string[])[]): (readonly string[])[] {
  const parentOf = (row: readonly string[]): string | undefined => {
    const match = /^`([a-zA-Z]+)\.([a-zA-Z.]+)` †$/.exec(row[0]!);
    return match === null ? undefined : match[1];
  };
  const sizes = new Map<string, number>();
  for (const row of rows) {
    const parent = parentOf(row);
    if (parent !== undefined) sizes.set(parent, (sizes.get(parent) ?? 0) + 1);
  }
  const out: (readonly string[])[] = [];
  const done = new Set<string>();
  for (const row of rows) {
    const parent = parentOf(row);
    if (parent === undefined || (sizes.get(parent) ?? 0) < TUNING_GROUP_ROWS_MIN) {
      out.push(row);
      continue;
    }
    if (done.has(parent)) continue;
    done.add(parent);
    const names = rows
      .filter((r) => parentOf(r) === parent)
      .map((r) => r[0]!.slice(parent.length + 2, -3))
      .join(', ');
    out.push([
      `\`${parent}.*\` ${NOT_IN_CONTRACT_MARK}`,
      'see docs',
      `tuning (${names}): [docs/configuration.md](docs/configuration.md)`,
    ]);
  }
  return out;
}

/** Cells are not padded to a column width: a padded table is twice the bytes, and renders the same. */
function lineOf(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** `text` with the block between the markers replaced by `table`; throws when the markers are missing. */
export function spliceConfigTable(text: string, table: string): string {
  const span = markedSpan(text);
  if (span === undefined) throw new Error(`the markers ${TABLE_BEGIN} and ${TABLE_END} were not found`);
  return `${text.slice(0, span.begin)}\n${table}\n${text.slice(span.end)}`;
}

/** The table currently between the markers, or undefined without them. */
export function configTableIn(text: string): string | undefined {
  const span = markedSpan(text);
  return span === undefined ? undefined : text.slice(span.begin, span.end).trim();
}

/** Where the text between the markers starts and ends (the end marker searched after the begin one). */
function markedSpan(text: string): { begin: number; end: number } | undefined {
  const marker = text.indexOf(TABLE_BEGIN);
  if (marker < 0) return undefined;
  const begin = marker + TABLE_BEGIN.length;
  const end = text.indexOf(TABLE_END, begin);
  return end < 0 ? undefined : { begin, end };
}

function collect(setting: Setting, path: string, rows: Row[]): void {
  const spec = setting.spec;
  if (spec.kind === 'array') {
    collect(spec.item, `${path}[]`, rows);
    return;
  }
  if (spec.kind !== 'object') return;
  // Fields declared by one shared setting (listen.tcp, .ws, .admin) are documented once.
  const groups = new Map<Setting, string[]>();
  for (const [key, field] of Object.entries(spec.fields)) {
    const keys = groups.get(field);
    if (keys === undefined) groups.set(field, [key]);
    else keys.push(key);
  }
  for (const [field, keys] of groups) {
    const name = keys.length === 1 ? keys[0]! : `{${keys.join(',')}}`;
    const fieldPath = path === '' ? name : `${path}.${name}`;
    const kind = field.spec.kind;
    // A block with defaults is documented by its keys; an optional block or a list also gets its own row.
    const container = kind === 'object' || kind === 'array';
    if (!container || field.presence !== 'defaulted' || kind === 'array') rows.push(rowOf(field, fieldPath));
    if (container) collect(field, fieldPath, rows);
  }
}

function rowOf(setting: Setting, path: string): Row {
  const suffix = setting.internal ? NOT_IN_CONTRACT : '';
  return [
    code(setting.spec.kind === 'array' ? `${path}[]` : path),
    cell(defaultText(setting)),
    cell(valuesText(setting.spec)),
    cell(`${setting.doc}${suffix}`),
  ];
}

const NOT_IN_CONTRACT = ' (not in the contract)';

function defaultText(setting: Setting): string {
  if (setting.presence === 'required') return 'required';
  if (setting.presence === 'optional') return 'none';
  const value = setting.default;
  if (typeof value === 'string') return code(value);
  if (typeof value === 'number' && setting.spec.kind === 'integer')
    return numberText(value, setting.spec.unit);
  return code(JSON.stringify(value));
}

function valuesText(spec: Spec): string {
  switch (spec.kind) {
    case 'integer': {
      const unit = spec.unit === undefined ? '' : ` ${spec.unit}`;
      const note = spec.maxNote === '' ? '' : ` ${spec.maxNote}`;
      return `integer ${spec.min}..${spec.max}${unit}${note}`;
    }
    case 'boolean':
      return '`true`, `false`';
    case 'enum':
      return spec.values.map(code).join(', ');
    case 'string':
      return spec.format;
    case 'path':
      return spec.file
        ? 'readable file path (relative: to the config file)'
        : 'path (relative: to the config file)';
    case 'object':
      return `{${Object.entries(spec.fields)
        .map(([key, field]) => (field.presence === 'optional' ? `${key}?` : key))
        .join(', ')}}`;
    case 'array':
      return `list of ${valuesText(spec.item.spec)}`;
  }
}

/** A default in its unit, with a human reading for durations and sizes. */
function numberText(value: number, unit: string | undefined): string {
  if (unit === 'ms' && value >= 1_000) return `${value} (${durationText(value)})`;
  if (unit === 'bytes' && value >= 1024 && value % 1024 === 0) return `${value} (${bytesText(value)})`;
  return String(value);
}

function durationText(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1_000, 's'],
  ];
  for (const [size, name] of units) if (ms % size === 0) return `${ms / size} ${name}`;
  return `${ms} ms`;
}

function bytesText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

function code(text: string): string {
  return `\`${text}\``;
}

/** A pipe would end the cell early. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}
