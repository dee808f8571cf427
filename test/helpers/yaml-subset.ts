/**
 * A reader for the small part of YAML that grafana/'s provisioning, rule and
 * rule-test files use: block mappings and sequences (a sequence item may
 * open a mapping on its own line: `- alert: X`), plain, single- and
 * double-quoted scalars, block scalars (`|`, `|-`, `>`, `>-`), empty or
 * one-line flow collections (`[]`, `{}`, `[a, b]`) and comments. Written
 * because no YAML parser is a dependency and these files are read only by
 * tests; anything outside the subset (anchors, tags, multi-line flow or
 * quoted scalars, tabs) is an error, never a silent misreading.
 *
 * Every scalar is read as a string (no booleans or numbers): the tests
 * compare text, and promtool and Grafana do their own typing.
 */

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  readonly number: number;
  readonly indent: number;
  /** The line without its indent, comment or trailing spaces ('' for a blank or comment line). */
  readonly content: string;
  /** The line as written (block scalars keep what a comment strip would take). */
  readonly raw: string;
}

export function parseYaml(text: string): YamlValue {
  const reader = new Reader(text);
  const value = reader.document();
  return value;
}

class Reader {
  private readonly lines: Line[];
  private at = 0;

  constructor(text: string) {
    this.lines = text.split(/\r?\n/).map((raw, i) => {
      if (/^\s*\t/.test(raw)) throw yamlError(i + 1, 'a tab in the indent');
      const indent = raw.length - raw.trimStart().length;
      return { number: i + 1, indent, content: withoutComment(raw.slice(indent)).trimEnd(), raw };
    });
  }

  document(): YamlValue {
    const first = this.nextContent();
    if (first === undefined) return null;
    if (first.content === '---') this.at++;
    const start = this.nextContent();
    if (start === undefined) return null;
    const value = this.block(start.indent);
    const rest = this.nextContent();
    if (rest !== undefined) throw yamlError(rest.number, `unexpected content at indent ${rest.indent}`);
    return value;
  }

  /** The next line with content, skipping blank and comment lines (the cursor stays on it). */
  private nextContent(): Line | undefined {
    while (this.at < this.lines.length && this.lines[this.at]!.content === '') this.at++;
    return this.lines[this.at];
  }

  private block(indent: number): YamlValue {
    const line = this.nextContent()!;
    return isItem(line.content) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.nextContent(); line !== undefined; line = this.nextContent()) {
      if (line.indent < indent) break;
      if (line.indent > indent) throw yamlError(line.number, 'more indent than the sequence it is in');
      if (!isItem(line.content)) break;
      const rest = line.content.slice(1).trimStart();
      if (rest === '') {
        this.at++;
        items.push(this.nested(indent));
      } else if (isMappingEntry(rest)) {
        // `- key: value` opens a mapping whose keys line up with `key`.
        const keyIndent = line.indent + (line.content.length - rest.length);
        this.lines[this.at] = { ...line, indent: keyIndent, content: rest };
        items.push(this.mapping(keyIndent));
      } else {
        this.at++;
        items.push(scalar(rest, line.number));
      }
    }
    return items;
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (let line = this.nextContent(); line !== undefined; line = this.nextContent()) {
      if (line.indent < indent) break;
      if (line.indent > indent) throw yamlError(line.number, 'more indent than the mapping it is in');
      if (isItem(line.content)) break;
      const entry = splitEntry(line.content, line.number);
      if (Object.hasOwn(map, entry.key)) throw yamlError(line.number, `key ${entry.key} given twice`);
      this.at++;
      if (entry.value === '') {
        // A sequence may sit at its key's own indent (`key:\n- a`).
        const next = this.nextContent();
        map[entry.key] =
          next !== undefined && next.indent === indent && isItem(next.content)
            ? this.sequence(indent)
            : this.nested(indent);
      } else if (/^[|>][+-]?$/.test(entry.value)) {
        map[entry.key] = this.blockScalar(indent, entry.value);
      } else {
        map[entry.key] = scalar(entry.value, line.number);
      }
    }
    return map;
  }

  /** The value of an entry or item left empty on its line: a block indented under it, or null. */
  private nested(parentIndent: number): YamlValue {
    const next = this.nextContent();
    if (next === undefined || next.indent <= parentIndent) return null;
    return this.block(next.indent);
  }

  private blockScalar(parentIndent: number, header: string): string {
    const body: string[] = [];
    let indent: number | undefined;
    while (this.at < this.lines.length) {
      const line = this.lines[this.at]!;
      const blank = line.raw.trim() === '';
      if (!blank && line.indent <= parentIndent) break;
      if (!blank) indent ??= line.indent;
      if (!blank && line.indent < indent!)
        throw yamlError(line.number, 'a block scalar line less indented than its first');
      body.push(blank ? '' : line.raw.slice(indent));
      this.at++;
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    const text = header.startsWith('>') ? fold(body) : body.join('\n');
    if (header.endsWith('-') || text === '') return text;
    return `${text}\n`;
  }
}

/** Folded style: lines joined by a space, a blank line kept as a line break. */
function fold(lines: readonly string[]): string {
  let text = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') text += '\n';
    else text += text === '' || text.endsWith('\n') ? line : ` ${line}`;
  }
  return text;
}

function isItem(content: string): boolean {
  return content === '-' || content.startsWith('- ');
}

function isMappingEntry(content: string): boolean {
  try {
    splitEntry(content, 0);
    return true;
  } catch {
    return false;
  }
}

/** `key: value` (the key plain or quoted); the value '' when the line ends at the colon. */
function splitEntry(content: string, lineNumber: number): { key: string; value: string } {
  let keyEnd: number;
  let key: string;
  if (content.startsWith('"') || content.startsWith("'")) {
    keyEnd = quotedEnd(content, lineNumber);
    key = scalar(content.slice(0, keyEnd), lineNumber) as string;
  } else {
    const colon = content.search(/:(\s|$)/);
    if (colon <= 0) throw yamlError(lineNumber, `not a mapping entry: ${content}`);
    keyEnd = colon;
    key = content.slice(0, colon).trimEnd();
  }
  const after = content.slice(keyEnd);
  if (!/^\s*:(\s|$)/.test(after)) throw yamlError(lineNumber, `not a mapping entry: ${content}`);
  return { key, value: after.replace(/^\s*:/, '').trim() };
}

/** Where the quoted scalar that opens `text` ends (just past its closing quote). */
function quotedEnd(text: string, lineNumber: number): number {
  const quote = text[0];
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  throw yamlError(lineNumber, 'a quoted scalar not closed on its line');
}

/** A comment starts at `#` after a space (or at the line's start), outside quotes. */
function withoutComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s:[{,-]/.test(text[i - 1]!))) {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      return text.slice(0, i);
    }
  }
  return text;
}

function scalar(text: string, lineNumber: number): YamlValue {
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = quotedEnd(text, lineNumber);
    if (text.slice(end).trim() !== '') throw yamlError(lineNumber, `text after a quoted scalar: ${text}`);
    const inner = text.slice(1, end - 1);
    return text[0] === "'" ? inner.replace(/''/g, "'") : unescapeDouble(inner, lineNumber);
  }
  if (text.startsWith('[') || text.startsWith('{')) return flow(text, lineNumber);
  if (/^[&*!%@`]/.test(text)) throw yamlError(lineNumber, `YAML outside the subset read here: ${text}`);
  if (text === '~' || text === 'null') return null;
  return text;
}

/** A one-line flow sequence or an empty flow mapping. */
function flow(text: string, lineNumber: number): YamlValue {
  if (text === '{}') return {};
  if (!text.endsWith(']') || /[[\]{}]/.test(text.slice(1, -1)))
    throw yamlError(lineNumber, `a flow collection outside the subset read here: ${text}`);
  const inner = text.slice(1, -1).trim();
  if (inner === '') return [];
  return inner.split(',').map((item) => scalar(item.trim(), lineNumber));
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
};

function unescapeDouble(inner: string, lineNumber: number): string {
  return inner.replace(/\\(.)/g, (_all, c: string) => {
    const replacement = ESCAPES[c];
    if (replacement === undefined)
      throw yamlError(lineNumber, `an escape outside the subset read here: \\${c}`);
    return replacement;
  });
}

function yamlError(lineNumber: number, what: string): Error {
  return new Error(`YAML line ${lineNumber}: ${what}`);
}
