import { resolve } from 'node:path';
import { Checker, isPlainObject, type Json, joinPath, subPath, typeName } from './checker.js';
import type { Setting } from './schema.js';
import { SWITCH_SETTINGS } from './settings.js';
import type { SwitchConfig } from './types.js';

/**
 * Strict validation of a configuration (docs/protocol.md section 9) against the
 * declared settings: an absent setting takes its default, every unknown key
 * and every bad value is a problem, and ALL problems are collected, each
 * prefixed with its JSON path, so an operator fixes the file in one pass
 * instead of one restart per typo. On success the result is a fresh, deeply
 * frozen object with absolute file paths: nothing downstream can mutate it
 * or depend on the process's working directory.
 */

export type ValidationResult = { ok: true; config: SwitchConfig } | { ok: false; problems: string[] };

export interface ValidateOptions {
  /** Folder that relative paths (tls files, dataDir, clearing.outDir) are resolved against. */
  readonly baseDir: string;
}

/** An optional setting that is absent: left out of its object. */
const ABSENT = Symbol('absent');
/** The value had problems (already recorded). */
const INVALID = undefined;

export function validateConfig(raw: unknown, options: ValidateOptions): ValidationResult {
  if (!isPlainObject(raw)) {
    return { ok: false, problems: [`(root): must be an object, got ${typeName(raw)}`] };
  }
  const walk = new Walk(new Checker(resolve(options.baseDir)), raw);
  const config = walk.visit(SWITCH_SETTINGS, '', raw);
  const { problems } = walk.c;
  if (problems.length > 0) return { ok: false, problems };
  // No problems means every required value was present and valid; a missing
  // result here would be a bug in this file, not in the config.
  if (!isPlainObject(config)) throw new Error('validateConfig: a valid config produced no value (bug)');
  return { ok: true, config: deepFreeze(config as unknown as SwitchConfig) };
}

class Walk {
  constructor(
    readonly c: Checker,
    private readonly root: Json,
  ) {}

  visit(setting: Setting, path: string, given: unknown): unknown {
    let value = given;
    if (value === undefined) {
      if (setting.presence === 'optional') return ABSENT;
      if (setting.presence === 'required') {
        this.c.add(path, setting.requiredMessage ?? 'is required');
        return INVALID;
      }
      value = setting.default;
    }
    const spec = setting.spec;
    switch (spec.kind) {
      case 'integer':
        return this.c.integer(path, value, spec.min, spec.max, spec.maxNote);
      case 'boolean':
        return this.c.boolean(path, value);
      case 'enum':
        return this.c.oneOf(path, value, spec.values);
      case 'path':
        return spec.file ? this.c.readableFile(path, value) : this.c.dirPath(path, value);
      case 'string': {
        const text = this.c.string(path, value);
        const problem = text === undefined ? undefined : spec.check?.(text, this.root);
        if (problem === undefined) return text;
        this.c.add(path, problem);
        return INVALID;
      }
      case 'object': {
        const obj = this.c.object(path, value, Object.keys(spec.fields));
        if (obj === undefined) return INVALID;
        const out: Json = {};
        let valid = true;
        for (const [key, field] of Object.entries(spec.fields)) {
          const result = this.visit(
            field,
            joinPath(path, key),
            Object.hasOwn(obj, key) ? obj[key] : undefined,
          );
          if (result === INVALID) valid = false;
          else if (result !== ABSENT) out[key] = result;
        }
        spec.rule?.(out, obj, (sub, message) => this.c.add(subPath(path, sub), message));
        return valid ? out : INVALID;
      }
      case 'array': {
        const items = this.c.array(path, value);
        if (items === undefined) return INVALID;
        const out = items.map((item, i) => this.visit(spec.item, `${path}[${i}]`, item));
        spec.rule?.(out, items, (sub, message) => this.c.add(subPath(path, sub), message));
        return out.includes(INVALID) ? INVALID : out;
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
