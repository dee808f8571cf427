import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import type { SwitchConfig } from './types.js';
import { type ValidateOptions, type ValidationResult, validateConfig } from './validate.js';

/** Environment variable naming the config file when `--config` is not given (docs/protocol.md section 9). */
export const CONFIG_ENV_VAR = 'SWITCHYARD_CONFIG';

/**
 * Reads, parses and validates a config file. Relative paths inside it are
 * resolved against the file's own folder, so the switch behaves the same
 * whatever directory it is started from. Throws ConfigError listing every
 * problem; returns a deeply frozen config.
 */
export function loadConfig(path: string): SwitchConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`(file): cannot read ${file} (${errorText(err)})`], file);
  }
  const result = parseConfig(text, { baseDir: dirname(file), source: file });
  if (!result.ok) throw new ConfigError(result.problems, file);
  return result.config;
}

/**
 * Parses and validates config JSON text: the frozen config, or every problem
 * (invalid JSON is one problem). For `switchyard config check` and for a
 * reload, which must judge a new file without throwing.
 */
export function parseConfig(
  text: string,
  options: ValidateOptions & { readonly source?: string },
): ValidationResult {
  let raw: unknown;
  try {
    // Editors on some platforms prepend a BOM, which JSON.parse refuses.
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const where = options.source === undefined ? '' : ` in ${options.source}`;
    return { ok: false, problems: [`(file): invalid JSON${where} (${errorText(err)})`] };
  }
  return validateConfig(raw, options);
}

/**
 * The config file named on the command line (`--config FILE` or
 * `--config=FILE`, the last one wins), else in SWITCHYARD_CONFIG, else
 * undefined. Arguments after `--` are not options. A `--config` without a
 * value is a ConfigError rather than a silent fallback to the environment.
 */
export function resolveConfigPath(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  let fromArgs: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    if (arg === '--config') {
      const next = argv[i + 1];
      if (next === undefined || next === '' || next.startsWith('-')) throw missingValue();
      fromArgs = next;
      i++;
    } else if (arg?.startsWith('--config=')) {
      const value = arg.slice('--config='.length);
      if (value === '') throw missingValue();
      fromArgs = value;
    }
  }
  if (fromArgs !== undefined) return fromArgs;
  const fromEnv = env[CONFIG_ENV_VAR];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

function missingValue(): ConfigError {
  return new ConfigError(['--config: needs a file path (--config FILE or --config=FILE)']);
}

function errorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}
