/**
 * Log messages are constant strings; values go in fields (docs/logging.md).
 * A constant message can be searched for, counted and alerted on, and cannot
 * carry a PAN. This reads every log call in src/ and fails on any whose
 * message is not a plain string literal (a template with ${...}, a
 * concatenation, a variable).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Up to the message argument: a call on a logger (`log.info(`, `this.o.log.warn(`,
 * `ctx.log?.error(`), or a RepeatLog's message (`new RepeatLog(log, 'warn', `, `.ended(`).
 */
const LOG_CALL =
  /\blog\??\.(?:debug|info|warn|error)\(\s*|\bnew RepeatLog\([^,()]+,\s*'(?:warn|error)',\s*|\.ended\(\s*/g;
/** The logging plumbing itself forwards its callers' messages (checked at their call sites). */
const PLUMBING = join(SRC, 'observability');
/** The message as a string literal alone: quotes, no interpolation, then `,` or `)`. */
const CONSTANT_MESSAGE = /^(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`[^`$]*`)\s*[,)]/;

function offenders(): string[] {
  const out: string[] = [];
  for (const file of sourceFiles(SRC)) {
    if (file.startsWith(PLUMBING)) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(LOG_CALL)) {
      const rest = text.slice(match.index + match[0].length, match.index + match[0].length + 300);
      if (CONSTANT_MESSAGE.test(rest)) continue;
      const line = text.slice(0, match.index).split('\n').length;
      out.push(`${relative(SRC, file)}:${line}: ${match[0]}${rest.split('\n')[0]}`);
    }
  }
  return out;
}

describe('log messages', () => {
  it('are constant strings in every log call in src/', () => {
    expect(offenders()).toEqual([]);
  });

  it('the check finds calls and tells a constant from a built message', () => {
    // Guard against a pattern that matches nothing and so passes anything.
    const calls = sourceFiles(SRC).reduce(
      (n, file) => n + [...readFileSync(file, 'utf8').matchAll(LOG_CALL)].length,
      0,
    );
    expect(calls).toBeGreaterThan(30);
    const repeating = readFileSync(join(SRC, 'switch.ts'), 'utf8').match(LOG_CALL) ?? [];
    expect(repeating.some((call) => call.startsWith('new RepeatLog('))).toBe(true);
    expect(repeating.some((call) => call.startsWith('.ended('))).toBe(true);
    expect(CONSTANT_MESSAGE.test("'signed on', {")).toBe(true);
    expect(CONSTANT_MESSAGE.test("'stopped')")).toBe(true);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a built message, on purpose
    expect(CONSTANT_MESSAGE.test('`started on ${host}`, {')).toBe(false);
    expect(CONSTANT_MESSAGE.test("'account ' + pan, {")).toBe(false);
    expect(CONSTANT_MESSAGE.test('message, {')).toBe(false);
  });
});
