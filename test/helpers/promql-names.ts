/**
 * The metric names and label names a PromQL expression uses, read by a
 * small tokenizer: enough to check that a dashboard or an alert asks only
 * for series the switch exports, without a PromQL parser (none is a
 * dependency; the live Prometheus test parses them for real).
 */

export interface SelectorUse {
  readonly metric: string;
  /** Label names in the selector's matchers (`{worker="0", rc=~"96|30"}` gives worker and rc). */
  readonly labels: readonly string[];
}

export interface PromqlNames {
  readonly selectors: readonly SelectorUse[];
  /** Label names in `by`, `without`, `on`, `ignoring`, `group_left` and `group_right` lists. */
  readonly groupingLabels: readonly string[];
}

/** Words that are not metric names where an identifier stands alone. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2']);
/** Keywords followed by a list of label names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const IDENTIFIER = /^[A-Za-z_:][A-Za-z0-9_:]*/;
const NUMBER_OR_DURATION =
  /^(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?((ms|s|m|h|d|w|y)(\d+(ms|s|m|h|d|w|y))*)?)/;
const MATCHER = /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/y;

export function promqlNames(expr: string): PromqlNames {
  const selectors: SelectorUse[] = [];
  const groupingLabels: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      i = stringEnd(expr, i);
    } else if (c === '[') {
      // A range or a subquery's resolution: durations only.
      i = closing(expr, i, ']') + 1;
    } else if (c === '{') {
      // A selector without a name ({__name__=...}) would hide what it reads: refused.
      throw new Error(`a selector without a metric name in: ${expr}`);
    } else if (NUMBER_OR_DURATION.test(rest) && !/[A-Za-z_:]/.test(c)) {
      i += NUMBER_OR_DURATION.exec(rest)![0].length;
    } else if (IDENTIFIER.test(rest)) {
      const word = IDENTIFIER.exec(rest)![0];
      i += word.length;
      const after = skipSpace(expr, i);
      if (LABEL_LIST_KEYWORDS.has(word)) {
        if (expr[after] === '(') {
          const end = closing(expr, after, ')');
          for (const label of expr.slice(after + 1, end).split(',')) {
            if (label.trim() !== '') groupingLabels.push(label.trim());
          }
          i = end + 1;
        }
      } else if (expr[after] === '(' || /^(by|without)\s*\(/.test(expr.slice(after))) {
        // A function or an aggregation (`sum by (le) (...)`): its arguments are read as the loop goes on.
      } else if (!KEYWORDS.has(word.toLowerCase())) {
        const labels: string[] = [];
        if (expr[after] === '{') {
          const end = closing(expr, after, '}');
          labels.push(...matcherLabels(expr.slice(after + 1, end), expr));
          i = end + 1;
        }
        selectors.push({ metric: word, labels });
      }
    } else {
      i++;
    }
  }
  return { selectors, groupingLabels };
}

/** The label names of a selector's matchers; anything else between the braces is an error. */
function matcherLabels(inner: string, expr: string): string[] {
  const labels: string[] = [];
  let at = 0;
  while (at < inner.length) {
    at = skipSpace(inner, at);
    if (at >= inner.length) break;
    MATCHER.lastIndex = at;
    const match = MATCHER.exec(inner);
    if (match === null) throw new Error(`cannot read the matchers {${inner}} in: ${expr}`);
    labels.push(match[1]!);
    at = skipSpace(inner, MATCHER.lastIndex);
    if (inner[at] === ',') at++;
  }
  return labels;
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && /\s/.test(text[at]!)) at++;
  return at;
}

/** Just past the string literal that starts at `start`. */
function stringEnd(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote !== '`' && text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  throw new Error(`a string not closed in: ${text}`);
}

/** The index of the bracket that closes the one at `start`, passing over string literals. */
function closing(text: string, start: number, close: string): number {
  const open = text[start]!;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = stringEnd(text, i) - 1;
    } else if (c === open) {
      depth++;
    } else if (c === close && --depth === 0) {
      return i;
    }
  }
  throw new Error(`a ${open} not closed in: ${text}`);
}
