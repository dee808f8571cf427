import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { DATA_KEY_BYTES, KEY_ID_PATTERN } from './aead.js';
import { TOKEN_KEY_BYTES } from './pan-token.js';
import { SHARD_KEY_BYTES } from './shard-hash.js';

/**
 * The data keys of one switch, as a JSON file (docs/security.md):
 *
 * ```json
 * { "development": false,
 *   "shardKey": "<base64, 16 bytes>",
 *   "tokenKeys": { "t1": "<base64, 32 bytes>" }, "currentTokenKey": "t1", "previousTokenKey": "t0",
 *   "dataKeys": { "d1": "<base64, 32 bytes>" }, "currentDataKey": "d1" }
 * ```
 *
 * Keys live here and nowhere else: never in Redis, never in a log (only
 * their ids are logged). New writes use the current ids at once; older ids
 * stay readable until the jobs that re-key and re-encrypt retire them.
 */
export interface KeyFile {
  /** Development keys: public, may be readable by others (with a loud warning); never for real cards. */
  readonly development: boolean;
  readonly shardKey: Buffer;
  readonly tokenKeys: ReadonlyMap<string, Buffer>;
  readonly currentTokenKey: string;
  /** Still accepted for lookups while accounts are re-keyed to the current token key. */
  readonly previousTokenKey: string | undefined;
  readonly dataKeys: ReadonlyMap<string, Buffer>;
  readonly currentDataKey: string;
}

/** The key file could not be used; every problem is listed, each with its JSON path. */
export class KeyFileError extends Error {
  readonly code = 'SWITCHYARD_KEY_FILE_INVALID';
  constructor(
    readonly problems: readonly string[],
    source: string,
  ) {
    super(
      `unusable key file ${source} (${problems.length === 1 ? '1 problem' : `${problems.length} problems`}):\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.name = 'KeyFileError';
  }
}

/** A key file that is not for development and that other users can read: refused. */
export class KeyFileExposedError extends Error {
  readonly code = 'SWITCHYARD_KEY_FILE_EXPOSED';
  constructor(path: string, mode: number) {
    super(
      `key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        'run chmod 600 on it (or mark it "development": true if its keys are public test keys)',
    );
    this.name = 'KeyFileExposedError';
  }
}

/** Parses and checks a key file's JSON; throws KeyFileError listing every problem. */
export function parseKeyFile(text: string, source: string): KeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new KeyFileError([`not JSON: ${(error as Error).message}`], source);
  }
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new KeyFileError(['must be a JSON object'], source);
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN_FIELDS.has(key)) problems.push(`${key}: unknown field`);
  const development = o['development'] ?? false;
  if (typeof development !== 'boolean') problems.push('development: must be true or false');
  const shardKey = keyBytes(o['shardKey'], 'shardKey', SHARD_KEY_BYTES, problems);
  const tokenKeys = keyMap(o['tokenKeys'], 'tokenKeys', TOKEN_KEY_BYTES, problems);
  const dataKeys = keyMap(o['dataKeys'], 'dataKeys', DATA_KEY_BYTES, problems);
  const currentTokenKey = keyId(o['currentTokenKey'], 'currentTokenKey', tokenKeys, problems, true)!;
  const previousTokenKey = keyId(o['previousTokenKey'], 'previousTokenKey', tokenKeys, problems, false);
  if (previousTokenKey !== undefined && previousTokenKey === currentTokenKey)
    problems.push('previousTokenKey: must differ from currentTokenKey');
  const currentDataKey = keyId(o['currentDataKey'], 'currentDataKey', dataKeys, problems, true)!;
  if (problems.length > 0) throw new KeyFileError(problems, source);
  return {
    development: development as boolean,
    shardKey: shardKey!,
    tokenKeys,
    currentTokenKey,
    previousTokenKey,
    dataKeys,
    currentDataKey,
  };
}

/**
 * Reads a key file, refusing one that other users can read unless it is
 * marked for development (which the caller warns about). The mode is taken
 * from the open file, so the check and the read see the same file.
 */
export function readKeyFile(path: string): KeyFile {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (error) {
    throw new KeyFileError([`cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`], path);
  }
  try {
    const mode = fstatSync(fd).mode;
    const keys = parseKeyFile(readFileSync(fd, 'utf8'), path);
    if ((mode & 0o077) !== 0 && !keys.development) throw new KeyFileExposedError(path, mode);
    return keys;
  } finally {
    closeSync(fd);
  }
}

/** Whether the file at `path` can be read by users other than its owner. */
export function exposedMode(path: string): boolean {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    return (fstatSync(fd).mode & 0o077) !== 0;
  } finally {
    closeSync(fd);
  }
}

/** A fresh key file's JSON: new random keys, ids `t1` and `d1`. */
export function newKeyFileText(development = false): string {
  const file = {
    development,
    shardKey: randomBytes(SHARD_KEY_BYTES).toString('base64'),
    tokenKeys: { t1: randomBytes(TOKEN_KEY_BYTES).toString('base64') },
    currentTokenKey: 't1',
    dataKeys: { d1: randomBytes(DATA_KEY_BYTES).toString('base64') },
    currentDataKey: 'd1',
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Writes a new key file at `path`, mode 0600 from the start (created with
 * that mode, never widened), and fails if the file exists: a key file is
 * never overwritten, its keys may protect data.
 */
export function createKeyFile(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** The file's keys as JSON text again (for the `keys` commands that add a key). */
export function keyFileText(keys: KeyFile): string {
  const file: Record<string, unknown> = {
    development: keys.development,
    shardKey: keys.shardKey.toString('base64'),
    tokenKeys: Object.fromEntries([...keys.tokenKeys].map(([id, key]) => [id, key.toString('base64')])),
    currentTokenKey: keys.currentTokenKey,
  };
  if (keys.previousTokenKey !== undefined) file['previousTokenKey'] = keys.previousTokenKey;
  file['dataKeys'] = Object.fromEntries([...keys.dataKeys].map(([id, key]) => [id, key.toString('base64')]));
  file['currentDataKey'] = keys.currentDataKey;
  return `${JSON.stringify(file, null, 2)}\n`;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const KNOWN_FIELDS = new Set([
  'development',
  'shardKey',
  'tokenKeys',
  'currentTokenKey',
  'previousTokenKey',
  'dataKeys',
  'currentDataKey',
]);

function keyBytes(value: unknown, path: string, bytes: number, problems: string[]): Buffer | undefined {
  if (typeof value !== 'string') {
    problems.push(`${path}: required, base64 of ${bytes} bytes`);
    return undefined;
  }
  // Buffer.from skips characters that are not base64 instead of failing: check the text first.
  const key = BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
  if (key === undefined || key.length !== bytes) {
    problems.push(`${path}: must be base64 of exactly ${bytes} bytes`);
    return undefined;
  }
  return key;
}

function keyMap(value: unknown, path: string, bytes: number, problems: string[]): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${path}: required, an object of key id -> base64 key`);
    return keys;
  }
  for (const [id, encoded] of Object.entries(value)) {
    if (!KEY_ID_PATTERN.test(id)) {
      problems.push(`${path}.${id}: a key id is 1 to 32 of A-Z a-z 0-9 . _ -`);
      continue;
    }
    const key = keyBytes(encoded, `${path}.${id}`, bytes, problems);
    if (key !== undefined) keys.set(id, key);
  }
  if (Object.keys(value).length === 0) problems.push(`${path}: needs at least one key`);
  return keys;
}

function keyId(
  value: unknown,
  path: string,
  keys: ReadonlyMap<string, Buffer>,
  problems: string[],
  required: boolean,
): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') {
    problems.push(`${path}: required, the id of one of the keys`);
    return undefined;
  }
  if (!keys.has(value)) problems.push(`${path}: no key with id ${JSON.stringify(value)}`);
  return value;
}
