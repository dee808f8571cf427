import type { LogLevel } from '../config/types.js';

/**
 * Minimal structured logger: one JSON object per line on stdout, fixed key
 * order (time, level, msg, then fields). Levels below the threshold cost one
 * integer compare. Callers pass PANs through maskPan before they get here;
 * there is no per-field scrubbing on the hot path.
 */

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line);
};

export function createLogger(
  level: LogLevel = 'info',
  sink: LogSink = stdoutSink,
  bindings: LogFields = {},
): Logger {
  const threshold = LEVEL_RANK[level];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVEL_RANK[lvl] < threshold) return;
    const record = { time: new Date().toISOString(), level: lvl, msg, ...bindings, ...fields };
    sink(`${JSON.stringify(record, jsonSafe)}\n`);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (more) => createLogger(level, sink, { ...bindings, ...more }),
  };
}

/** Errors serialise as {name, message, code}; bigints as strings. Stacks only at debug level would be noise here. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export const silentLogger: Logger = createLogger('error', () => {});
