import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/log.js';
import {
  createKeyFile,
  exposedMode,
  type KeyFile,
  newKeyFileText,
  parseKeyFile,
  readKeyFile,
} from './key-file.js';

/** Environment variable holding the key file's JSON itself (a secret manager's way in). */
export const KEYS_ENV_VAR = 'SWITCHYARD_KEYS';
/** Environment variable naming the key file (over the config's `keys.file`). */
export const KEY_FILE_ENV_VAR = 'SWITCHYARD_KEY_FILE';
/** Where a switch whose config names no key source keeps the key file it generates. */
export const GENERATED_KEY_FILE = 'keys.json';

export interface KeySourceOptions {
  /** The config's `keys.file`, resolved against the config file's folder. */
  readonly file: string | undefined;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
}

export interface LoadedKeys {
  readonly keys: KeyFile;
  /** Where they came from, for the log: a path, or the environment variable's name. */
  readonly source: string;
}

/**
 * The switch's data keys, from the first source that is set:
 * SWITCHYARD_KEYS (the JSON itself), SWITCHYARD_KEY_FILE, the config's
 * `keys.file`, else `<dataDir>/keys.json`, generated on first start (mode
 * 0600; beside Redis's folder, never inside it, so a copy of Redis's files
 * carries no key). Called at start and again on SIGHUP; throws
 * KeyFileError or KeyFileExposedError when the source cannot be used.
 */
export function loadKeys(o: KeySourceOptions): LoadedKeys {
  const inline = o.env[KEYS_ENV_VAR];
  if (inline !== undefined && inline !== '') {
    return {
      keys: announced(parseKeyFile(inline, KEYS_ENV_VAR), KEYS_ENV_VAR, false, o.log),
      source: KEYS_ENV_VAR,
    };
  }
  const named = nonEmpty(o.env[KEY_FILE_ENV_VAR]) ?? o.file;
  let path = named;
  if (path === undefined) {
    path = join(o.dataDir, GENERATED_KEY_FILE);
    if (!existsSync(path)) {
      mkdirSync(o.dataDir, { recursive: true });
      createKeyFile(path, newKeyFileText(false));
      o.log.warn('generated a key file: back it up, the data it protects cannot be read without it', {
        path,
      });
    }
  }
  const keys = readKeyFile(path);
  return { keys: announced(keys, path, keys.development && exposedMode(path), o.log), source: path };
}

function announced(keys: KeyFile, source: string, exposed: boolean, log: Logger): KeyFile {
  if (keys.development) {
    // Loud on purpose: development keys are public, and data under them is as good as clear.
    log.warn('DEVELOPMENT KEYS: the data keys are public test keys; never use them for real cards', {
      source,
      readableByOthers: exposed,
    });
  }
  log.info('data keys loaded', {
    source,
    // Ids only, never key material; named *Id(s) so the log's secret-field rule lets them through.
    currentTokenKeyId: keys.currentTokenKey,
    previousTokenKeyId: keys.previousTokenKey,
    currentDataKeyId: keys.currentDataKey,
    tokenKeyIds: [...keys.tokenKeys.keys()],
    dataKeyIds: [...keys.dataKeys.keys()],
  });
  return keys;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
