import type { LogLevel } from '../config/types.js';
import { fieldsJson, type LogFields, messageJson } from './log-json.js';

/**
 * Structured logger: one JSON object per line, keys in a fixed order (time,
 * level, msg, the child's bindings, then the call's fields). docs/logging.md
 * describes the format and the measurements that chose this over pino
 * (bench/scenarios/log.bench.ts): with the same redaction, a typical line here costs
 * about a fifth of pino's and allocates less; a disabled call costs the same.
 *
 * Habits taken from pino: a disabled level is a shared no-op function, so a
 * debug call on the hot path costs a call and nothing else; a child's
 * bindings are serialised once, when the child is made; the time string is
 * rebuilt at most once per millisecond.
 *
 * Messages are constant strings; values go in fields. Fields are scrubbed on
 * the way out (log-redact.ts): a `pan` field is masked, secrets redacted, and
 * any Luhn-valid 12-19 digit run in a string masked, so a forgotten maskPan
 * does not put a card number in a log.
 */

export type { LogFields } from './log-json.js';

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogMethod = (msg: string, fields?: LogFields) => void;

export interface Logger {
  /** The threshold: calls below it write nothing. Worker threads are given the same one. */
  readonly level: LogLevel;
  /** Guard for fields that are costly to build; a plain call at a disabled level is already cheap. */
  isLevelEnabled(level: LogLevel): boolean;
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  /** A logger whose lines all carry `bindings` (after msg, before the call's fields). */
  child(bindings: LogFields): Logger;
}

/** Receives whole lines, newline included. */
export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line);
};

const noop: LogMethod = () => {};

export function createLogger(
  level: LogLevel = 'info',
  sink: LogSink = stdoutSink,
  bindings: LogFields = {},
): Logger {
  return makeLogger(level, sink, safeFieldsJson(bindings));
}

function makeLogger(level: LogLevel, sink: LogSink, bindingsJson: string): Logger {
  const threshold = LEVEL_RANK[level];
  const method = (lvl: LogLevel): LogMethod => {
    if (LEVEL_RANK[lvl] < threshold) return noop;
    const head = `","level":"${lvl}","msg":`;
    return (msg, fields) => {
      sink(`{"time":"${isoNow()}${head}${messageJson(msg)}${bindingsJson}${fieldsTail(fields)}}\n`);
    };
  };
  return {
    level,
    isLevelEnabled: (lvl) => LEVEL_RANK[lvl] >= threshold,
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: (more) => makeLogger(level, sink, bindingsJson + safeFieldsJson(more)),
  };
}

function fieldsTail(fields: LogFields | undefined): string {
  return fields === undefined ? '' : safeFieldsJson(fields);
}

/** A log call must never throw into its caller (a getter or toJSON that throws, say). */
function safeFieldsJson(fields: LogFields): string {
  try {
    return fieldsJson(fields);
  } catch (error) {
    return `,"logFieldsUnwritable":${messageJson(error instanceof Error ? error.message : String(error))}`;
  }
}

let isoMs = -1;
let iso = '';

/** ISO-8601 UTC with milliseconds: readable by a person, sortable, and what log tools parse. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    iso = new Date(ms).toISOString();
  }
  return iso;
}

export const silentLogger: Logger = createLogger('error', () => {});
