import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROLES } from '../protocol/mti.js';
import { PUBLIC_KEY_BYTES } from '../protocol/signon.js';
import type { Mutable } from '../util/mutable.js';
import { DEFAULTS } from './defaults.js';
import type {
  InstitutionConfig,
  ListenerConfig,
  LogLevel,
  RouteConfig,
  StandInConfig,
  SwitchConfig,
  TlsConfig,
} from './types.js';

/**
 * Strict validation of a configuration (PROTOCOL.md section 9): the raw JSON is
 * merged over DEFAULTS, every unknown key and every bad value is a problem, and
 * ALL problems are collected, each prefixed with its JSON path, so an operator
 * fixes the file in one pass instead of one restart per typo. On success the
 * result is a fresh, deeply frozen object with absolute file paths: nothing
 * downstream can mutate it or depend on the process's working directory.
 */

export type ValidationResult = { ok: true; config: SwitchConfig } | { ok: false; problems: string[] };

export interface ValidateOptions {
  /** Folder that relative paths (tls files, dataDir, clearing.outDir) are resolved against. */
  readonly baseDir: string;
}

const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;

/** Every numeric setting has a finite bound; the messages name it. */
export const CONFIG_BOUNDS = {
  /** issuerTimeoutMs, signonTimeoutMs, heartbeatMs: longer than a day is a typo, not a policy. */
  timeoutMsMax: DAY_MS,
  /** holdTtlMs, dedupeWindowMs: retention beyond 400 days is not a switch's job. */
  retentionMsMax: 400 * DAY_MS,
  cycleMsMin: 1_000,
  cycleMsMax: 400 * DAY_MS,
  frameBytesMin: 64,
  frameBytesMax: 256 * MIB,
  batchMax: 65_536,
  inflightMax: 1_048_576,
  workersMax: 64,
  adminTokenCharsMin: 16,
  actorsMin: 1_000,
  actorsMax: 100_000_000,
  recordsPerActorMax: 1_000_000,
  evictedKeysMax: 1_000_000_000,
  recordSweepAccountsMax: 10_000_000,
} as const;

const SWITCH_ID_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
const INSTITUTION_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const PREFIX_PATTERN = /^[0-9]{1,19}$/;
const LOCAL_ISSUER = 'local';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const TOP_KEYS = [
  'switchId',
  'listen',
  'redis',
  'admin',
  'institutions',
  'routes',
  'issuerTimeoutMs',
  'holdTtlMs',
  'dedupeWindowMs',
  'signonTimeoutMs',
  'heartbeatMs',
  'limits',
  'clearing',
  'dataDir',
  'workers',
  'log',
  'ledger',
] as const satisfies readonly (keyof SwitchConfig)[];

type Json = Record<string, unknown>;
export function validateConfig(raw: unknown, options: ValidateOptions): ValidationResult {
  if (!isPlainObject(raw)) {
    return { ok: false, problems: [`(root): must be an object, got ${typeName(raw)}`] };
  }
  const c = new Checker(resolve(options.baseDir));
  const root = c.object('', mergeOver(DEFAULTS, raw), TOP_KEYS) ?? {};

  const switchId = checkSwitchId(c, root['switchId']);
  const listen = checkListen(c, root['listen']);
  const redis = checkRedis(c, root['redis']);
  const admin = checkAdmin(c, root['admin']);
  const institutions = checkInstitutions(c, root['institutions']);
  const routes = checkRoutes(c, root['routes'], issuerIdsOf(root['institutions']));
  const timeoutMs = (key: string): number | undefined =>
    c.integer(key, root[key], 1, CONFIG_BOUNDS.timeoutMsMax, '(1 day)');
  const retentionMs = (key: string): number | undefined =>
    c.integer(key, root[key], 1, CONFIG_BOUNDS.retentionMsMax, '(400 days)');
  const issuerTimeoutMs = timeoutMs('issuerTimeoutMs');
  const holdTtlMs = retentionMs('holdTtlMs');
  const dedupeWindowMs = retentionMs('dedupeWindowMs');
  const signonTimeoutMs = timeoutMs('signonTimeoutMs');
  const heartbeatMs = timeoutMs('heartbeatMs');
  const limits = checkLimits(c, root['limits']);
  const clearing = checkClearing(c, root['clearing']);
  const dataDir = c.dirPath('dataDir', root['dataDir']);
  const workers = c.integer('workers', root['workers'], 0, CONFIG_BOUNDS.workersMax);
  const log = checkLog(c, root['log']);
  const ledger = checkLedger(c, root['ledger']);

  if (c.problems.length > 0) return { ok: false, problems: c.problems };

  // No problems means every required value was present and valid; `must` turns
  // a contradiction of that into a loud bug instead of an undefined field.
  const config: SwitchConfig = {
    switchId: must(switchId),
    listen: must(listen),
    redis: must(redis),
    admin: must(admin),
    institutions: must(institutions),
    routes: must(routes),
    issuerTimeoutMs: must(issuerTimeoutMs),
    holdTtlMs: must(holdTtlMs),
    dedupeWindowMs: must(dedupeWindowMs),
    signonTimeoutMs: must(signonTimeoutMs),
    heartbeatMs: must(heartbeatMs),
    limits: must(limits),
    clearing: must(clearing),
    dataDir: must(dataDir),
    workers: must(workers),
    log: must(log),
    ledger: must(ledger),
  };
  return { ok: true, config: deepFreeze(config) };
}

// ---------------------------------------------------------------- sections

function checkSwitchId(c: Checker, value: unknown): string | undefined {
  if (!c.present('switchId', value)) return undefined;
  const id = c.string('switchId', value);
  if (id !== undefined && !SWITCH_ID_PATTERN.test(id)) {
    c.add('switchId', `must be 1 to 32 characters of A-Z a-z 0-9 _ . -, got ${quote(id)}`);
  }
  return id;
}

function checkListen(c: Checker, value: unknown): SwitchConfig['listen'] | undefined {
  const obj = c.object('listen', value, ['tcp', 'ws', 'admin']);
  if (obj === undefined) return undefined;
  const out: Mutable<SwitchConfig['listen']> = {};
  for (const name of ['tcp', 'ws', 'admin'] as const) {
    if (obj[name] === undefined) continue;
    const listener = checkListener(c, `listen.${name}`, obj[name]);
    if (listener !== undefined) out[name] = listener;
  }
  if (obj['tcp'] === undefined && obj['ws'] === undefined) {
    c.add('listen', 'at least one of listen.tcp and listen.ws is required');
  }
  return out;
}

function checkListener(c: Checker, path: string, value: unknown): ListenerConfig | undefined {
  const obj = c.object(path, value, ['host', 'port', 'tls']);
  if (obj === undefined) return undefined;
  const host = c.present(`${path}.host`, obj['host']) ? c.string(`${path}.host`, obj['host']) : undefined;
  if (host === '') c.add(`${path}.host`, 'must not be empty');
  const port = c.present(`${path}.port`, obj['port'])
    ? c.integer(`${path}.port`, obj['port'], 0, 65_535)
    : undefined;
  const tls = obj['tls'] === undefined ? undefined : checkTls(c, `${path}.tls`, obj['tls']);
  if (host === undefined || port === undefined) return undefined;
  return tls === undefined ? { host, port } : { host, port, tls };
}

function checkTls(c: Checker, path: string, value: unknown): TlsConfig | undefined {
  const obj = c.object(path, value, ['cert', 'key', 'ca', 'requestCert']);
  if (obj === undefined) return undefined;
  const cert = c.present(`${path}.cert`, obj['cert'])
    ? c.readableFile(`${path}.cert`, obj['cert'])
    : undefined;
  const key = c.present(`${path}.key`, obj['key']) ? c.readableFile(`${path}.key`, obj['key']) : undefined;
  const ca = obj['ca'] === undefined ? undefined : c.readableFile(`${path}.ca`, obj['ca']);
  const requestCert =
    obj['requestCert'] === undefined ? undefined : c.boolean(`${path}.requestCert`, obj['requestCert']);
  // Without a CA every client certificate would be refused, so mutual TLS could never succeed.
  if (requestCert === true && obj['ca'] === undefined)
    c.add(`${path}.ca`, 'is required when requestCert is true');
  if (cert === undefined || key === undefined) return undefined;
  const out: Mutable<TlsConfig> = { cert, key };
  if (ca !== undefined) out.ca = ca;
  if (requestCert !== undefined) out.requestCert = requestCert;
  return out;
}

function checkRedis(c: Checker, value: unknown): SwitchConfig['redis'] | undefined {
  const obj = c.object('redis', value, ['url']);
  if (obj === undefined) return undefined;
  if (obj['url'] === undefined) return {};
  const url = c.string('redis.url', obj['url']);
  if (url === undefined) return undefined;
  // The URL may carry a password: the message never echoes it.
  if (!isRedisUrl(url)) c.add('redis.url', 'must be a redis:// or rediss:// URL with a host');
  return { url };
}

function isRedisUrl(text: string): boolean {
  if (!text.startsWith('redis://') && !text.startsWith('rediss://')) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}

function checkAdmin(c: Checker, value: unknown): SwitchConfig['admin'] | undefined {
  // `admin` has no default: a missing block is reported at the token it must hold.
  const obj = c.object('admin', value === undefined ? {} : value, ['token']);
  if (obj === undefined) return undefined;
  if (obj['token'] === undefined) {
    c.add(
      'admin.token',
      `is required (a bearer token of at least ${CONFIG_BOUNDS.adminTokenCharsMin} characters)`,
    );
    return undefined;
  }
  const token = c.string('admin.token', obj['token']);
  if (token === undefined) return undefined;
  // The token is a secret: report its length, never its value.
  if (token.length < CONFIG_BOUNDS.adminTokenCharsMin) {
    c.add(
      'admin.token',
      `must be at least ${CONFIG_BOUNDS.adminTokenCharsMin} characters, got ${token.length}`,
    );
  }
  return { token };
}

function checkInstitutions(c: Checker, value: unknown): InstitutionConfig[] | undefined {
  const items = c.array('institutions', value);
  if (items === undefined) return undefined;
  const firstIndexOf = new Map<string, number>();
  const out: InstitutionConfig[] = [];
  items.forEach((item, i) => {
    const path = `institutions[${i}]`;
    const inst = checkInstitution(c, path, item);
    if (inst === undefined) return;
    const pairKey = `${inst.role}\u0000${inst.id}`;
    const first = firstIndexOf.get(pairKey);
    if (first === undefined) firstIndexOf.set(pairKey, i);
    else
      c.add(
        `${path}.id`,
        `duplicate of institutions[${first}] (id ${quote(inst.id)}, role ${quote(inst.role)})`,
      );
    out.push(inst);
  });
  return out;
}

function checkInstitution(c: Checker, path: string, value: unknown): InstitutionConfig | undefined {
  const obj = c.object(path, value, ['id', 'role', 'publicKey', 'standIn']);
  if (obj === undefined) return undefined;
  const id = c.present(`${path}.id`, obj['id']) ? c.string(`${path}.id`, obj['id']) : undefined;
  if (id !== undefined && !INSTITUTION_ID_PATTERN.test(id)) {
    c.add(`${path}.id`, `must be 1 to 64 characters of A-Z a-z 0-9 _ . -, got ${quote(id)}`);
  }
  const role = c.present(`${path}.role`, obj['role'])
    ? c.oneOf(`${path}.role`, obj['role'], ROLES)
    : undefined;
  // A route's issuer "local" means the on-us ledger, so an issuer of that name could never be routed to.
  if (id === LOCAL_ISSUER && role === 'issuer') {
    c.add(`${path}.id`, `"${LOCAL_ISSUER}" is reserved for the on-us ledger and cannot name an issuer`);
  }
  const publicKey = c.present(`${path}.publicKey`, obj['publicKey'])
    ? c.string(`${path}.publicKey`, obj['publicKey'])
    : undefined;
  if (publicKey !== undefined && !isCanonicalBase64Of(publicKey, PUBLIC_KEY_BYTES)) {
    c.add(`${path}.publicKey`, `must be base64 of exactly ${PUBLIC_KEY_BYTES} bytes`);
  }
  const standIn =
    obj['standIn'] === undefined ? undefined : checkStandIn(c, `${path}.standIn`, obj['standIn']);
  if (obj['standIn'] !== undefined && role === 'acquirer')
    c.add(`${path}.standIn`, 'only allowed on role "issuer"');
  if (id === undefined || role === undefined || publicKey === undefined) return undefined;
  return standIn === undefined ? { id, role, publicKey } : { id, role, publicKey, standIn };
}

/** Node's base64 decoder skips junk and tolerates missing padding; re-encoding refuses such sloppy keys. */
function isCanonicalBase64Of(text: string, bytes: number): boolean {
  const decoded = Buffer.from(text, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === text;
}

function checkStandIn(c: Checker, path: string, value: unknown): StandInConfig | undefined {
  const obj = c.object(path, value, ['perTxnMax', 'dailyMax']);
  if (obj === undefined) return undefined;
  const amount = (key: string): number | undefined =>
    c.present(`${path}.${key}`, obj[key])
      ? c.integer(`${path}.${key}`, obj[key], 0, Number.MAX_SAFE_INTEGER, '(Number.MAX_SAFE_INTEGER)')
      : undefined;
  const perTxnMax = amount('perTxnMax');
  const dailyMax = amount('dailyMax');
  if (perTxnMax === undefined || dailyMax === undefined) return undefined;
  return { perTxnMax, dailyMax };
}

/** Ids of raw entries with role issuer, even ones with other problems: a route must not repeat their errors. */
function issuerIdsOf(institutions: unknown): Set<string> {
  const ids = new Set<string>();
  if (!Array.isArray(institutions)) return ids;
  for (const item of institutions) {
    if (isPlainObject(item) && item['role'] === 'issuer' && typeof item['id'] === 'string')
      ids.add(item['id']);
  }
  return ids;
}

function checkRoutes(c: Checker, value: unknown, issuerIds: ReadonlySet<string>): RouteConfig[] | undefined {
  const items = c.array('routes', value);
  if (items === undefined) return undefined;
  const firstIndexOf = new Map<string, number>();
  const out: RouteConfig[] = [];
  items.forEach((item, i) => {
    const path = `routes[${i}]`;
    const obj = c.object(path, item, ['prefix', 'issuer']);
    if (obj === undefined) return;
    const prefix = c.present(`${path}.prefix`, obj['prefix'])
      ? c.string(`${path}.prefix`, obj['prefix'])
      : undefined;
    if (prefix !== undefined) {
      const first = firstIndexOf.get(prefix);
      if (!PREFIX_PATTERN.test(prefix))
        c.add(`${path}.prefix`, `must be 1 to 19 digits 0-9, got ${quote(prefix)}`);
      else if (first !== undefined)
        c.add(`${path}.prefix`, `duplicate of routes[${first}].prefix (${quote(prefix)})`);
      else firstIndexOf.set(prefix, i);
    }
    const issuer = c.present(`${path}.issuer`, obj['issuer'])
      ? c.string(`${path}.issuer`, obj['issuer'])
      : undefined;
    if (issuer !== undefined && issuer !== LOCAL_ISSUER && !issuerIds.has(issuer)) {
      c.add(
        `${path}.issuer`,
        `must be "${LOCAL_ISSUER}" or the id of an institution with role "issuer", got ${quote(issuer)}`,
      );
    }
    if (prefix !== undefined && issuer !== undefined) out.push({ prefix, issuer });
  });
  return out;
}

function checkLimits(c: Checker, value: unknown): SwitchConfig['limits'] | undefined {
  const obj = c.object('limits', value, ['frameBytesMax', 'batchMax', 'inflightMax']);
  if (obj === undefined) return undefined;
  const b = CONFIG_BOUNDS;
  const frameBytesMax = c.integer(
    'limits.frameBytesMax',
    obj['frameBytesMax'],
    b.frameBytesMin,
    b.frameBytesMax,
    '(256 MiB)',
  );
  const batchMax = c.integer('limits.batchMax', obj['batchMax'], 1, b.batchMax);
  const inflightMax = c.integer('limits.inflightMax', obj['inflightMax'], 1, b.inflightMax);
  if (frameBytesMax === undefined || batchMax === undefined || inflightMax === undefined) return undefined;
  return { frameBytesMax, batchMax, inflightMax };
}

function checkClearing(c: Checker, value: unknown): SwitchConfig['clearing'] | undefined {
  const obj = c.object('clearing', value, ['cycleMs', 'outDir']);
  if (obj === undefined) return undefined;
  const cycleMs = c.integer(
    'clearing.cycleMs',
    obj['cycleMs'],
    CONFIG_BOUNDS.cycleMsMin,
    CONFIG_BOUNDS.cycleMsMax,
    '(400 days)',
  );
  const outDir = c.dirPath('clearing.outDir', obj['outDir']);
  if (cycleMs === undefined || outDir === undefined) return undefined;
  return { cycleMs, outDir };
}

function checkLog(c: Checker, value: unknown): SwitchConfig['log'] | undefined {
  const obj = c.object('log', value, ['level']);
  if (obj === undefined) return undefined;
  const level = c.oneOf('log.level', obj['level'], LOG_LEVELS);
  return level === undefined ? undefined : { level };
}

function checkLedger(c: Checker, value: unknown): SwitchConfig['ledger'] | undefined {
  const obj = c.object('ledger', value, [
    'actorsMax',
    'recordsPerActorMax',
    'evictedKeysMax',
    'commitTimeoutMs',
    'holdExpiryIntervalMs',
    'recordSweepIntervalMs',
    'recordSweepAccountsMax',
    'inline',
  ]);
  if (obj === undefined) return undefined;
  const actorsMax = c.integer(
    'ledger.actorsMax',
    obj['actorsMax'],
    CONFIG_BOUNDS.actorsMin,
    CONFIG_BOUNDS.actorsMax,
  );
  const recordsPerActorMax = c.integer(
    'ledger.recordsPerActorMax',
    obj['recordsPerActorMax'],
    1,
    CONFIG_BOUNDS.recordsPerActorMax,
  );
  const evictedKeysMax = c.integer(
    'ledger.evictedKeysMax',
    obj['evictedKeysMax'],
    0,
    CONFIG_BOUNDS.evictedKeysMax,
  );
  const commitTimeoutMs = c.integer(
    'ledger.commitTimeoutMs',
    obj['commitTimeoutMs'],
    10,
    CONFIG_BOUNDS.timeoutMsMax,
    '(1 day)',
  );
  const holdExpiryIntervalMs = c.integer(
    'ledger.holdExpiryIntervalMs',
    obj['holdExpiryIntervalMs'],
    10,
    CONFIG_BOUNDS.timeoutMsMax,
    '(1 day)',
  );
  const recordSweepIntervalMs = c.integer(
    'ledger.recordSweepIntervalMs',
    obj['recordSweepIntervalMs'],
    10,
    CONFIG_BOUNDS.timeoutMsMax,
    '(1 day)',
  );
  const recordSweepAccountsMax = c.integer(
    'ledger.recordSweepAccountsMax',
    obj['recordSweepAccountsMax'],
    1,
    CONFIG_BOUNDS.recordSweepAccountsMax,
  );
  const inline = c.boolean('ledger.inline', obj['inline']);
  if (
    actorsMax === undefined ||
    recordsPerActorMax === undefined ||
    evictedKeysMax === undefined ||
    commitTimeoutMs === undefined ||
    holdExpiryIntervalMs === undefined ||
    recordSweepIntervalMs === undefined ||
    recordSweepAccountsMax === undefined ||
    inline === undefined
  )
    return undefined;
  return {
    actorsMax,
    recordsPerActorMax,
    evictedKeysMax,
    commitTimeoutMs,
    holdExpiryIntervalMs,
    recordSweepIntervalMs,
    recordSweepAccountsMax,
    inline,
  };
}

// ---------------------------------------------------------------- primitives

/** Collects problems; each check returns the value when valid, else undefined after recording why. */
class Checker {
  readonly problems: string[] = [];

  constructor(private readonly baseDir: string) {}

  add(path: string, message: string): void {
    this.problems.push(`${path === '' ? '(root)' : path}: ${message}`);
  }

  /** JSON has no undefined, so undefined means the key is absent. */
  present(path: string, value: unknown): boolean {
    if (value !== undefined) return true;
    this.add(path, 'is required');
    return false;
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

/** Objects merge key by key; arrays and scalars in `over` replace. Neither input is modified. */
function mergeOver(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Json = {};
  for (const [key, value] of Object.entries(base)) defineKey(out, key, value);
  for (const [key, value] of Object.entries(over)) {
    defineKey(out, key, Object.hasOwn(base, key) ? mergeOver(base[key], value) : value);
  }
  return out;
}

/** Plain assignment of a JSON key "__proto__" would set the prototype; define it as data so it is reported. */
function defineKey(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(value: unknown): value is Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function joinPath(path: string, key: string): string {
  const segment = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return segment;
  return segment.startsWith('[') ? `${path}${segment}` : `${path}.${segment}`;
}

/** Quote a user string for a message, bounded so a huge value cannot flood the log. */
function quote(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return JSON.stringify(shown);
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(err);
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('validateConfig: a value passed validation but is missing (bug)');
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
