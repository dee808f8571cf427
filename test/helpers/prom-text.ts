/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4),
 * for tests that check /metrics as Prometheus would read it: every sample
 * belongs to a family declared by `# TYPE` before it, names and label names
 * are valid, label values are quoted with the format's escapes, no label
 * appears twice in a sample, no series twice in a page, and every value is a
 * number. Anything else throws with the line it met. Written here rather
 * than borrowed from prom-client, which only writes the format.
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  /** The sample's own name: the family's, or `<family>_bucket`, `_sum`, `_count` for histograms. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  readonly name: string;
  readonly type: PromType;
  readonly help: string | undefined;
  readonly samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly PromType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** The sample names a family of `type` may have. */
function sampleNames(name: string, type: PromType): string[] {
  if (type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === 'summary') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

/** As Prometheus reads a value (Go's ParseFloat): infinities and NaN in any case (prom-client writes `Nan`). */
function parseValue(text: string, line: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a number: ${line}`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `text[0] === '{'`; returns the labels and the rest after `}`. */
function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const fail = (why: string): never => {
    throw new Error(`${why}: ${line}`);
  };
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) fail('label without =');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`label ${name} twice`);
    if (text[eq + 1] !== '"') fail('label value not quoted');
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) fail('unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const next = text[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail('bad escape in label value');
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail('expected , or } after a label');
  }
}

/** Every family of a /metrics page by name, in page order. */
export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  /** Sample name -> its family, from the TYPE lines so far. */
  const owners = new Map<string, PromFamily>();
  const helps = new Map<string, string>();
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const help = /^# HELP ([^ ]+) (.*)$/.exec(line);
      if (help !== null) {
        const [, name, doc] = help as unknown as [string, string, string];
        if (helps.has(name)) throw new Error(`HELP twice for ${name}`);
        helps.set(name, doc.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'));
        continue;
      }
      const type = /^# TYPE ([^ ]+) ([a-z]+)$/.exec(line);
      if (type !== null) {
        const [, name, kind] = type as unknown as [string, string, string];
        if (!METRIC_NAME.test(name)) throw new Error(`bad metric name: ${line}`);
        if (!TYPES.includes(kind as PromType)) throw new Error(`unknown type: ${line}`);
        if (families.has(name)) throw new Error(`TYPE twice for ${name}`);
        const family: PromFamily = { name, type: kind as PromType, help: undefined, samples: [] };
        families.set(name, family);
        for (const sample of sampleNames(name, family.type)) {
          if (owners.has(sample)) throw new Error(`${sample} claimed by two families`);
          owners.set(sample, family);
        }
        continue;
      }
      if (/^# (HELP|TYPE)/.test(line)) throw new Error(`malformed: ${line}`);
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`malformed sample: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name: ${line}`);
    let rest = line.slice(nameEnd);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const fields = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || fields.length < 1 || fields.length > 2)
      throw new Error(`malformed sample: ${line}`);
    const value = parseValue(fields[0]!, line);
    if (fields.length === 2 && !/^-?\d+$/.test(fields[1]!)) throw new Error(`bad timestamp: ${line}`);
    const family = owners.get(name);
    if (family === undefined) throw new Error(`sample before its # TYPE: ${line}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`series twice: ${line}`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  }
  for (const [name, help] of helps) {
    const family = families.get(name);
    if (family === undefined) throw new Error(`HELP for ${name} without a TYPE`);
    (family as { help: string | undefined }).help = help;
  }
  return families;
}

/** The value of the one sample named `name` with exactly these labels; throws when there is none. */
export function sampleValue(
  families: ReadonlyMap<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const family of families.values())
    for (const s of family.samples)
      if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
  throw new Error(`no sample ${name}${want}`);
}
