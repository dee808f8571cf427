import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The checks behind every setting, and the wording of their problems. Each
 * check returns the value when it is valid, else records why under the
 * value's JSON path and returns undefined; nothing stops at the first
 * problem, so an operator sees them all at once.
 */

export type Json = Record<string, unknown>;

export class Checker {
  readonly problems: string[] = [];

  /** `baseDir`: the folder relative paths are resolved against (the config file's). */
  constructor(private readonly baseDir: string) {}

  add(path: string, message: string): void {
    this.problems.push(`${path === '' ? '(root)' : path}: ${message}`);
  }

  object(path: string, value: unknown, allowedKeys: readonly string[]): Json | undefined {
    if (!isPlainObject(value)) return this.wrongType(path, 'an object', value);
    for (const key of Object.keys(value)) {
      if (!allowedKeys.includes(key)) this.add(joinPath(path, key), 'unknown key');
    }
    return value;
  }

  array(path: string, value: unknown): readonly unknown[] | undefined {
    return Array.isArray(value) ? value : this.wrongType(path, 'an array', value);
  }

  string(path: string, value: unknown): string | undefined {
    return typeof value === 'string' ? value : this.wrongType(path, 'a string', value);
  }

  boolean(path: string, value: unknown): boolean | undefined {
    return typeof value === 'boolean' ? value : this.wrongType(path, 'a boolean', value);
  }

  /** `maxNote` says what the bound means in human units, e.g. "(1 day)". */
  integer(path: string, value: unknown, min: number, max: number, maxNote = ''): number | undefined {
    if (typeof value !== 'number') return this.wrongType(path, 'an integer', value);
    if (!Number.isInteger(value)) return this.fail(path, `must be an integer, got ${value}`);
    if (value < min || value > max) {
      const note = maxNote === '' ? '' : ` ${maxNote}`;
      return this.fail(path, `must be an integer from ${min} to ${max}${note}, got ${value}`);
    }
    return value;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (typeof value !== 'string') return this.wrongType(path, 'a string', value);
    const match = allowed.find((a) => a === value);
    if (match === undefined) {
      return this.fail(
        path,
        `must be one of ${allowed.map((a) => quote(a)).join(', ')}, got ${quote(value)}`,
      );
    }
    return match;
  }

  /** A non-empty path string, returned absolute (resolved against baseDir). */
  dirPath(path: string, value: unknown): string | undefined {
    const text = this.string(path, value);
    if (text === undefined) return undefined;
    if (text === '') return this.fail(path, 'must not be empty');
    return resolve(this.baseDir, text);
  }

  /** Like dirPath, and the file must exist and be readable now: a typo fails at start, not at first TLS handshake. */
  readableFile(path: string, value: unknown): string | undefined {
    const file = this.dirPath(path, value);
    if (file === undefined) return undefined;
    try {
      accessSync(file, fsConstants.R_OK);
      if (!statSync(file).isFile()) return this.fail(path, `${file} is not a regular file`);
    } catch (err) {
      return this.fail(path, `cannot read file ${file} (${errorCode(err)})`);
    }
    return file;
  }

  private wrongType(path: string, expected: string, value: unknown): undefined {
    return this.fail(path, `must be ${expected}, got ${typeName(value)}`);
  }

  private fail(path: string, message: string): undefined {
    this.add(path, message);
    return undefined;
  }
}

export function isPlainObject(value: unknown): value is Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** `a.b`, or `a["odd key"]` for a key that is not an identifier (an unknown key is shown as given). */
export function joinPath(path: string, key: string): string {
  const segment = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return segment;
  return segment.startsWith('[') ? `${path}${segment}` : `${path}.${segment}`;
}

/** Appends a path written by our own code (`ca`, `[2].id`, `''` for the path itself). */
export function subPath(path: string, sub: string): string {
  if (sub === '' || path === '') return path === '' ? sub : path;
  return sub.startsWith('[') ? `${path}${sub}` : `${path}.${sub}`;
}

/** Quote a user string for a message, bounded so a huge value cannot flood the log. */
export function quote(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return JSON.stringify(shown);
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(err);
}
