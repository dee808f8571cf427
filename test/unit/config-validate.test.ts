import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { SwitchConfig } from '../../src/config/types.js';
import { validateConfig } from '../../src/config/validate.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ACQ_KEY = 'OyTjFMuh8VjmHvvAOh2kyLrb2yXbm3fVGRw6uRb6Gzk=';
const ISS_KEY = '7ZQTruGthnCD1tDNPzkiHrHiqyzJLGi1UFCPqO4Oopc=';
const DAY_MS = 86_400_000;

type Raw = Record<string, unknown>;

let baseDir: string;

beforeAll(() => {
  baseDir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  mkdirSync(join(baseDir, 'tls'));
  for (const name of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(join(baseDir, 'tls', name), 'PEM');
});

afterAll(() => {
  rmSync(baseDir, { recursive: true, force: true });
});

/** A minimal valid config; each test breaks exactly one thing in a fresh copy. */
function valid(): Raw {
  return {
    switchId: 'sw-1',
    listen: { tcp: { host: '127.0.0.1', port: 0 } },
    admin: { token: 'a-token-of-16-chars' },
    institutions: [
      { id: 'acq', role: 'acquirer', publicKey: ACQ_KEY },
      { id: 'iss', role: 'issuer', publicKey: ISS_KEY, standIn: { perTxnMax: 100, dailyMax: 1000 } },
    ],
    routes: [
      { prefix: '4', issuer: 'local' },
      { prefix: '5', issuer: 'iss' },
    ],
  };
}

function ok(raw: unknown): SwitchConfig {
  const result = validateConfig(raw, { baseDir });
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.problems.join('\n')}`);
  return result.config;
}

function problemsOf(raw: unknown): string[] {
  const result = validateConfig(raw, { baseDir });
  if (result.ok) throw new Error('expected problems, the config validated');
  return result.problems;
}

/** Copy of valid() with `patch` applied at a dotted path (numeric segments index arrays). */
function withValue(path: string, value: unknown): Raw {
  const raw = valid();
  const keys = path.split('.');
  let node: Record<string, unknown> = raw;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return raw;
}

describe('validateConfig: baseline', () => {
  it('accepts the minimal config used by these tests', () => {
    expect(ok(valid()).switchId).toBe('sw-1');
  });

  it('accepts config/demo.json', () => {
    const file = join(repoRoot, 'config/demo.json');
    const result = validateConfig(JSON.parse(readFileSync(file, 'utf8')), { baseDir: dirname(file) });
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('applies defaults for everything not set', () => {
    const config = ok(valid());
    expect(config.issuerTimeoutMs).toBe(2_000);
    expect(config.holdTtlMs).toBe(7 * DAY_MS);
    expect(config.dedupeWindowMs).toBe(DAY_MS);
    expect(config.signonTimeoutMs).toBe(5_000);
    expect(config.heartbeatMs).toBe(30_000);
    expect(config.limits).toEqual({ frameBytesMax: 1024 * 1024, batchMax: 4_096, inflightMax: 65_536 });
    expect(config.clearing.cycleMs).toBe(DAY_MS);
    expect(config.workers).toBe(0);
    expect(config.log.level).toBe('info');
    expect(config.redis).toEqual({});
  });

  it('merges objects key by key: one limit set keeps the other defaults', () => {
    const config = ok(withValue('limits', { batchMax: 16 }));
    expect(config.limits).toEqual({ frameBytesMax: 1024 * 1024, batchMax: 16, inflightMax: 65_536 });
  });

  it('does not modify DEFAULTS or the raw input', () => {
    const raw = withValue('limits', { batchMax: 16 });
    const snapshot = JSON.stringify(raw);
    ok(raw);
    expect(DEFAULTS.limits.batchMax).toBe(4_096);
    expect(JSON.stringify(raw)).toBe(snapshot);
    expect(Object.isFrozen(raw)).toBe(false);
  });

  it('resolves relative paths against baseDir and keeps absolute ones', () => {
    const raw = valid();
    raw['dataDir'] = 'state';
    raw['clearing'] = { outDir: '/var/clearing' };
    raw['listen'] = {
      tcp: { host: '127.0.0.1', port: 0, tls: { cert: 'tls/cert.pem', key: join(baseDir, 'tls/key.pem') } },
    };
    const config = ok(raw);
    expect(config.dataDir).toBe(join(baseDir, 'state'));
    expect(config.clearing.outDir).toBe('/var/clearing');
    expect(config.listen.tcp?.tls).toEqual({
      cert: join(baseDir, 'tls/cert.pem'),
      key: join(baseDir, 'tls/key.pem'),
    });
  });

  it('resolves the default dataDir and clearing.outDir against baseDir too', () => {
    const config = ok(valid());
    expect(config.dataDir).toBe(join(baseDir, '.switchyard'));
    expect(config.clearing.outDir).toBe(join(baseDir, 'clearing'));
  });

  it('returns a deeply frozen config', () => {
    const raw = valid();
    raw['listen'] = {
      tcp: { host: '127.0.0.1', port: 0, tls: { cert: 'tls/cert.pem', key: 'tls/key.pem' } },
    };
    const config = ok(raw);
    const nested = [
      config,
      config.listen,
      config.listen.tcp,
      config.listen.tcp?.tls,
      config.redis,
      config.admin,
      config.institutions,
      config.institutions[0],
      config.institutions[1]?.standIn,
      config.routes,
      config.routes[0],
      config.limits,
      config.clearing,
      config.log,
    ];
    for (const node of nested) expect(Object.isFrozen(node)).toBe(true);
    expect(() => {
      (config.limits as { batchMax: number }).batchMax = 1;
    }).toThrow(TypeError);
  });

  it('reports every problem together, not just the first', () => {
    const problems = problemsOf({
      listen: { tcp: { host: '127.0.0.1', port: 70_000 } },
      admin: { token: 'short' },
      workers: 99,
      log: { level: 'trace' },
    });
    expect(problems).toEqual([
      'switchId: is required',
      'listen.tcp.port: must be an integer from 0 to 65535, got 70000',
      'admin.token: must be at least 16 characters, got 5',
      'workers: must be an integer from 0 to 64, got 99',
      'log.level: must be one of "debug", "info", "warn", "error", got "trace"',
    ]);
  });

  it('leaves out absent optional fields instead of setting them to undefined', () => {
    const config = ok(valid());
    expect(Object.keys(config.listen)).toEqual(['tcp']);
    expect(Object.keys(config.institutions[0]!)).toEqual(['id', 'role', 'publicKey']);
  });
});

describe('validateConfig: shape', () => {
  it.each([
    ['an array', [], 'array'],
    ['null', null, 'null'],
    ['a string', 'config', 'string'],
  ])('refuses a top level that is %s', (_label, raw, got) => {
    expect(problemsOf(raw)).toEqual([`(root): must be an object, got ${got}`]);
  });

  it('refuses an unknown top-level key', () => {
    expect(problemsOf({ ...valid(), switchid: 'x' })).toEqual(['switchid: unknown key']);
  });

  it('refuses an unknown nested key with its full path', () => {
    expect(problemsOf(withValue('listen.tcp.prot', 1))).toEqual(['listen.tcp.prot: unknown key']);
  });

  it('refuses unknown keys inside array items', () => {
    expect(problemsOf(withValue('institutions.1.standin', 1))).toEqual([
      'institutions[1].standin: unknown key',
    ]);
  });

  it('quotes an unknown key that is not an identifier', () => {
    expect(problemsOf(withValue('limits.frame bytes', 1))).toEqual(['limits["frame bytes"]: unknown key']);
  });

  it('reports a "__proto__" key as unknown and does not pollute prototypes', () => {
    const raw: unknown = JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(valid()).slice(1)}`);
    expect(problemsOf(raw)).toEqual(['__proto__: unknown key']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    ['listen', 'an object', 'array', []],
    ['redis', 'an object', 'string', 'redis://x'],
    ['admin', 'an object', 'null', null],
    ['limits', 'an object', 'number', 5],
    ['clearing', 'an object', 'null', null],
    ['log', 'an object', 'string', 'debug'],
    ['institutions', 'an array', 'object', {}],
    ['routes', 'an array', 'string', '4'],
  ])('refuses %s of the wrong JSON type', (key, expected, got, value) => {
    expect(problemsOf(withValue(key, value))).toContain(`${key}: must be ${expected}, got ${got}`);
  });
});

describe('validateConfig: switchId', () => {
  it('requires switchId', () => {
    expect(problemsOf(withValue('switchId', undefined))).toEqual(['switchId: is required']);
  });

  it('refuses characters outside [A-Za-z0-9_.-]', () => {
    expect(problemsOf(withValue('switchId', 'sw 1/x'))).toEqual([
      'switchId: must be 1 to 32 characters of A-Z a-z 0-9 _ . -, got "sw 1/x"',
    ]);
  });

  it('refuses more than 32 characters and accepts exactly 32', () => {
    expect(problemsOf(withValue('switchId', 'a'.repeat(33)))[0]).toMatch(
      /^switchId: must be 1 to 32 characters/,
    );
    expect(ok(withValue('switchId', 'a'.repeat(32))).switchId).toHaveLength(32);
  });

  it('refuses an empty switchId', () => {
    expect(problemsOf(withValue('switchId', ''))[0]).toMatch(/^switchId: must be 1 to 32 characters/);
  });

  it('refuses a non-string switchId', () => {
    expect(problemsOf(withValue('switchId', 7))).toEqual(['switchId: must be a string, got number']);
  });
});

describe('validateConfig: listen', () => {
  it('requires at least one of listen.tcp and listen.ws', () => {
    expect(problemsOf(withValue('listen', { admin: { host: '127.0.0.1', port: 0 } }))).toEqual([
      'listen: at least one of listen.tcp and listen.ws is required',
    ]);
  });

  it('accepts listen.ws alone', () => {
    expect(ok(withValue('listen', { ws: { host: '::1', port: 8584 } })).listen.ws).toEqual({
      host: '::1',
      port: 8584,
    });
  });

  it('refuses a listener that is not an object', () => {
    expect(problemsOf(withValue('listen.ws', 8584))).toEqual(['listen.ws: must be an object, got number']);
  });

  it('requires host', () => {
    expect(problemsOf(withValue('listen.tcp.host', undefined))).toEqual(['listen.tcp.host: is required']);
  });

  it('refuses an empty host', () => {
    expect(problemsOf(withValue('listen.tcp.host', ''))).toEqual(['listen.tcp.host: must not be empty']);
  });

  it('refuses a non-string host', () => {
    expect(problemsOf(withValue('listen.admin', { host: 127, port: 1 }))).toEqual([
      'listen.admin.host: must be a string, got number',
    ]);
  });

  it('requires port', () => {
    expect(problemsOf(withValue('listen.tcp.port', undefined))).toEqual(['listen.tcp.port: is required']);
  });

  it.each([
    [65_536, 'listen.tcp.port: must be an integer from 0 to 65535, got 65536'],
    [-1, 'listen.tcp.port: must be an integer from 0 to 65535, got -1'],
    [80.5, 'listen.tcp.port: must be an integer, got 80.5'],
    ['8583', 'listen.tcp.port: must be an integer, got string'],
  ])('refuses port %j', (port, problem) => {
    expect(problemsOf(withValue('listen.tcp.port', port))).toEqual([problem]);
  });

  it('accepts ports 0 and 65535', () => {
    expect(ok(withValue('listen.tcp.port', 0)).listen.tcp?.port).toBe(0);
    expect(ok(withValue('listen.tcp.port', 65_535)).listen.tcp?.port).toBe(65_535);
  });
});

describe('validateConfig: listen.*.tls', () => {
  const tls = (t: unknown): Raw => withValue('listen.tcp.tls', t);

  it('requires cert and key', () => {
    expect(problemsOf(tls({}))).toEqual([
      'listen.tcp.tls.cert: is required',
      'listen.tcp.tls.key: is required',
    ]);
  });

  it('refuses a tls block that is not an object', () => {
    expect(problemsOf(tls(true))).toEqual(['listen.tcp.tls: must be an object, got boolean']);
  });

  it('reports one problem per missing file, with its absolute path', () => {
    expect(
      problemsOf(tls({ cert: 'missing-cert.pem', key: 'missing-key.pem', ca: 'missing-ca.pem' })),
    ).toEqual([
      `listen.tcp.tls.cert: cannot read file ${join(baseDir, 'missing-cert.pem')} (ENOENT)`,
      `listen.tcp.tls.key: cannot read file ${join(baseDir, 'missing-key.pem')} (ENOENT)`,
      `listen.tcp.tls.ca: cannot read file ${join(baseDir, 'missing-ca.pem')} (ENOENT)`,
    ]);
  });

  it('refuses a path that is a directory', () => {
    expect(problemsOf(tls({ cert: 'tls', key: 'tls/key.pem' }))).toEqual([
      `listen.tcp.tls.cert: ${join(baseDir, 'tls')} is not a regular file`,
    ]);
  });

  it('refuses a non-string file path', () => {
    expect(problemsOf(tls({ cert: ['a'], key: 'tls/key.pem' }))).toEqual([
      'listen.tcp.tls.cert: must be a string, got array',
    ]);
  });

  it('requires ca when requestCert is true', () => {
    expect(problemsOf(tls({ cert: 'tls/cert.pem', key: 'tls/key.pem', requestCert: true }))).toEqual([
      'listen.tcp.tls.ca: is required when requestCert is true',
    ]);
  });

  it('refuses a non-boolean requestCert', () => {
    expect(
      problemsOf(tls({ cert: 'tls/cert.pem', key: 'tls/key.pem', ca: 'tls/ca.pem', requestCert: 'yes' })),
    ).toEqual(['listen.tcp.tls.requestCert: must be a boolean, got string']);
  });

  it('accepts mutual TLS on any listener, admin included, with resolved paths', () => {
    const raw = withValue('listen.admin', {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: 'tls/cert.pem', key: 'tls/key.pem', ca: 'tls/ca.pem', requestCert: true },
    });
    expect(ok(raw).listen.admin?.tls).toEqual({
      cert: join(baseDir, 'tls/cert.pem'),
      key: join(baseDir, 'tls/key.pem'),
      ca: join(baseDir, 'tls/ca.pem'),
      requestCert: true,
    });
  });
});

describe('validateConfig: redis', () => {
  it.each(['redis://127.0.0.1:6379', 'rediss://user:pw@redis.example:6380/2'])('accepts %s', (url) => {
    expect(ok(withValue('redis.url', url)).redis.url).toBe(url);
  });

  it.each(['http://127.0.0.1:6379', '127.0.0.1:6379', 'redis://', 'redis://[::1'])(
    'refuses %j without echoing it (it may hold a password)',
    (url) => {
      expect(problemsOf(withValue('redis.url', url))).toEqual([
        'redis.url: must be a redis:// or rediss:// URL with a host',
      ]);
    },
  );

  it('refuses a non-string url', () => {
    expect(problemsOf(withValue('redis.url', 6379))).toEqual(['redis.url: must be a string, got number']);
  });
});

describe('validateConfig: admin', () => {
  it('requires admin.token even when the admin block is absent', () => {
    expect(problemsOf(withValue('admin', undefined))).toEqual([
      'admin.token: is required (a bearer token of at least 16 characters)',
    ]);
  });

  it('refuses a token shorter than 16 characters without echoing it', () => {
    const problems = problemsOf(withValue('admin.token', 'secret-15-chars'));
    expect(problems).toEqual(['admin.token: must be at least 16 characters, got 15']);
    expect(problems.join('')).not.toContain('secret');
  });

  it('refuses a non-string token', () => {
    expect(problemsOf(withValue('admin.token', 1234567890123456))).toEqual([
      'admin.token: must be a string, got number',
    ]);
  });
});

describe('validateConfig: institutions', () => {
  const inst = (i: number, key: string, value: unknown): Raw => withValue(`institutions.${i}.${key}`, value);

  it('refuses an item that is not an object', () => {
    const raw = valid();
    raw['institutions'] = ['acq'];
    expect(problemsOf(raw)).toContain('institutions[0]: must be an object, got string');
  });

  it('requires id, role and publicKey', () => {
    const raw = valid();
    (raw['institutions'] as unknown[]).push({});
    expect(problemsOf(raw)).toEqual([
      'institutions[2].id: is required',
      'institutions[2].role: is required',
      'institutions[2].publicKey: is required',
    ]);
  });

  it('refuses an id outside 1..64 characters of [A-Za-z0-9_.-]', () => {
    expect(problemsOf(inst(0, 'id', 'acq one'))).toEqual([
      'institutions[0].id: must be 1 to 64 characters of A-Z a-z 0-9 _ . -, got "acq one"',
    ]);
    expect(problemsOf(inst(0, 'id', 'a'.repeat(65)))[0]).toMatch(/^institutions\[0\]\.id: must be 1 to 64/);
  });

  it('refuses a role other than acquirer or issuer', () => {
    expect(problemsOf(inst(0, 'role', 'Acquirer'))).toEqual([
      'institutions[0].role: must be one of "acquirer", "issuer", got "Acquirer"',
    ]);
  });

  it.each([
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['missing padding', ACQ_KEY.replace(/=$/, '')],
    ['base64url alphabet', Buffer.from(ACQ_KEY, 'base64').toString('base64url')],
    ['embedded whitespace', `${ACQ_KEY.slice(0, 10)} ${ACQ_KEY.slice(10)}`],
    ['hex', Buffer.from(ACQ_KEY, 'base64').toString('hex')],
    ['empty', ''],
  ])('refuses a publicKey that is not canonical base64 of 32 bytes (%s)', (_label, publicKey) => {
    expect(problemsOf(inst(0, 'publicKey', publicKey))).toEqual([
      'institutions[0].publicKey: must be base64 of exactly 32 bytes',
    ]);
  });

  it('refuses a publicKey of the wrong type', () => {
    expect(problemsOf(inst(1, 'publicKey', [1, 2]))).toEqual([
      'institutions[1].publicKey: must be a string, got array',
    ]);
  });

  it('refuses a duplicate (id, role) pair and names the first', () => {
    const raw = valid();
    (raw['institutions'] as unknown[]).push({ id: 'iss', role: 'issuer', publicKey: ACQ_KEY });
    expect(problemsOf(raw)).toEqual([
      'institutions[2].id: duplicate of institutions[1] (id "iss", role "issuer")',
    ]);
  });

  it('accepts the same id with both roles', () => {
    const raw = valid();
    (raw['institutions'] as unknown[]).push({ id: 'iss', role: 'acquirer', publicKey: ACQ_KEY });
    expect(ok(raw).institutions).toHaveLength(3);
  });

  it('refuses standIn on an acquirer', () => {
    expect(problemsOf(inst(0, 'standIn', { perTxnMax: 1, dailyMax: 1 }))).toEqual([
      'institutions[0].standIn: only allowed on role "issuer"',
    ]);
  });

  it('requires both standIn limits', () => {
    expect(problemsOf(inst(1, 'standIn', {}))).toEqual([
      'institutions[1].standIn.perTxnMax: is required',
      'institutions[1].standIn.dailyMax: is required',
    ]);
  });

  it.each([
    [-1, 'must be an integer from 0 to 9007199254740991 (Number.MAX_SAFE_INTEGER), got -1'],
    [
      2 ** 53,
      'must be an integer from 0 to 9007199254740991 (Number.MAX_SAFE_INTEGER), got 9007199254740992',
    ],
    [1.5, 'must be an integer, got 1.5'],
    ['100', 'must be an integer, got string'],
  ])('refuses standIn.perTxnMax %j', (value, message) => {
    expect(problemsOf(inst(1, 'standIn.perTxnMax', value))).toEqual([
      `institutions[1].standIn.perTxnMax: ${message}`,
    ]);
  });

  it('refuses standIn.dailyMax below 0', () => {
    expect(problemsOf(inst(1, 'standIn.dailyMax', -5))[0]).toMatch(/^institutions\[1\]\.standIn\.dailyMax: /);
  });

  it('accepts standIn limits of 0', () => {
    expect(ok(inst(1, 'standIn', { perTxnMax: 0, dailyMax: 0 })).institutions[1]?.standIn).toEqual({
      perTxnMax: 0,
      dailyMax: 0,
    });
  });

  it('refuses an issuer named "local" (routes could never reach it)', () => {
    const raw = valid();
    (raw['institutions'] as unknown[]).push({ id: 'local', role: 'issuer', publicKey: ISS_KEY });
    expect(problemsOf(raw)).toEqual([
      'institutions[2].id: "local" is reserved for the on-us ledger and cannot name an issuer',
    ]);
  });
});

describe('validateConfig: routes', () => {
  const route = (i: number, key: string, value: unknown): Raw => withValue(`routes.${i}.${key}`, value);

  it('requires prefix and issuer', () => {
    const raw = valid();
    (raw['routes'] as unknown[]).push({});
    expect(problemsOf(raw)).toEqual(['routes[2].prefix: is required', 'routes[2].issuer: is required']);
  });

  it.each(['', '4x', ' 4', '12345678901234567890', '४'])('refuses prefix %j', (prefix) => {
    expect(problemsOf(route(0, 'prefix', prefix))).toEqual([
      `routes[0].prefix: must be 1 to 19 digits 0-9, got ${JSON.stringify(prefix)}`,
    ]);
  });

  it('accepts a 19-digit prefix', () => {
    expect(ok(route(0, 'prefix', '1234567890123456789')).routes[0]?.prefix).toBe('1234567890123456789');
  });

  it('refuses a numeric prefix (leading zeros would be lost)', () => {
    expect(problemsOf(route(0, 'prefix', 4))).toEqual(['routes[0].prefix: must be a string, got number']);
  });

  it('refuses a duplicate prefix', () => {
    expect(problemsOf(route(1, 'prefix', '4'))).toEqual([
      'routes[1].prefix: duplicate of routes[0].prefix ("4")',
    ]);
  });

  it('refuses an issuer that is no configured institution', () => {
    expect(problemsOf(route(1, 'issuer', 'nobody'))).toEqual([
      'routes[1].issuer: must be "local" or the id of an institution with role "issuer", got "nobody"',
    ]);
  });

  it('refuses an issuer that exists only as an acquirer', () => {
    expect(problemsOf(route(1, 'issuer', 'acq'))).toEqual([
      'routes[1].issuer: must be "local" or the id of an institution with role "issuer", got "acq"',
    ]);
  });

  it('refuses a non-string issuer', () => {
    expect(problemsOf(route(0, 'issuer', null))).toEqual(['routes[0].issuer: must be a string, got null']);
  });
});

describe('validateConfig: durations', () => {
  it.each([
    ['issuerTimeoutMs', DAY_MS, '(1 day)'],
    ['signonTimeoutMs', DAY_MS, '(1 day)'],
    ['heartbeatMs', DAY_MS, '(1 day)'],
    ['holdTtlMs', 400 * DAY_MS, '(400 days)'],
    ['dedupeWindowMs', 400 * DAY_MS, '(400 days)'],
  ])('%s must be an integer from 1 to %i %s', (key, max, note) => {
    const range = `must be an integer from 1 to ${max} ${note}`;
    expect(problemsOf(withValue(key, 0))).toEqual([`${key}: ${range}, got 0`]);
    expect(problemsOf(withValue(key, max + 1))).toEqual([`${key}: ${range}, got ${max + 1}`]);
    expect(problemsOf(withValue(key, 1.5))).toEqual([`${key}: must be an integer, got 1.5`]);
    expect(problemsOf(withValue(key, '2000'))).toEqual([`${key}: must be an integer, got string`]);
    expect(ok(withValue(key, max))[key as 'heartbeatMs']).toBe(max);
    expect(ok(withValue(key, 1))[key as 'heartbeatMs']).toBe(1);
  });
});

describe('validateConfig: limits, clearing, dataDir, workers, log', () => {
  it.each([
    ['frameBytesMax', 64, 256 * 1024 * 1024, ' (256 MiB)'],
    ['batchMax', 1, 65_536, ''],
    ['inflightMax', 1, 1_048_576, ''],
  ])('limits.%s must be an integer from %i to %i', (key, min, max, note) => {
    const range = `must be an integer from ${min} to ${max}${note}`;
    expect(problemsOf(withValue(`limits.${key}`, min - 1))).toEqual([
      `limits.${key}: ${range}, got ${min - 1}`,
    ]);
    expect(problemsOf(withValue(`limits.${key}`, max + 1))).toEqual([
      `limits.${key}: ${range}, got ${max + 1}`,
    ]);
    expect(problemsOf(withValue(`limits.${key}`, true))).toEqual([
      `limits.${key}: must be an integer, got boolean`,
    ]);
    expect(ok(withValue(`limits.${key}`, min)).limits[key as 'batchMax']).toBe(min);
    expect(ok(withValue(`limits.${key}`, max)).limits[key as 'batchMax']).toBe(max);
  });

  it('clearing.cycleMs must be at least 1000', () => {
    expect(problemsOf(withValue('clearing.cycleMs', 999))).toEqual([
      `clearing.cycleMs: must be an integer from 1000 to ${400 * DAY_MS} (400 days), got 999`,
    ]);
    expect(ok(withValue('clearing.cycleMs', 1000)).clearing.cycleMs).toBe(1000);
  });

  it('clearing.cycleMs has a finite maximum', () => {
    expect(problemsOf(withValue('clearing.cycleMs', 400 * DAY_MS + 1))[0]).toMatch(
      /^clearing\.cycleMs: must be an integer from 1000 to 34560000000 \(400 days\)/,
    );
  });

  it.each([
    ['', 'must not be empty'],
    [5, 'must be a string, got number'],
  ])('refuses clearing.outDir %j', (value, message) => {
    expect(problemsOf(withValue('clearing.outDir', value))).toEqual([`clearing.outDir: ${message}`]);
  });

  it.each([
    ['', 'must not be empty'],
    [null, 'must be a string, got null'],
  ])('refuses dataDir %j', (value, message) => {
    expect(problemsOf(withValue('dataDir', value))).toEqual([`dataDir: ${message}`]);
  });

  it.each([
    [-1, 'workers: must be an integer from 0 to 64, got -1'],
    [65, 'workers: must be an integer from 0 to 64, got 65'],
    [2.5, 'workers: must be an integer, got 2.5'],
  ])('refuses workers %j', (value, problem) => {
    expect(problemsOf(withValue('workers', value))).toEqual([problem]);
  });

  it('refuses an unknown log.level', () => {
    expect(problemsOf(withValue('log.level', 'verbose'))).toEqual([
      'log.level: must be one of "debug", "info", "warn", "error", got "verbose"',
    ]);
  });

  it('refuses a non-string log.level', () => {
    expect(problemsOf(withValue('log.level', 1))).toEqual(['log.level: must be a string, got number']);
  });
});

describe('validateConfig: ledger', () => {
  it('defaults to adaptive owners (main thread, worker threads past it) with the documented limits', () => {
    expect(ok(valid()).ledger).toEqual({
      actorsMax: 1_000_000,
      recordsPerActorMax: 64,
      evictedKeysMax: 10_000_000,
      commitTimeoutMs: 5_000,
      holdExpiryIntervalMs: 60_000,
      recordSweepIntervalMs: 60_000,
      recordSweepAccountsMax: 10_000,
      rotationAccountsPerSecondMax: 2_000,
      inline: false,
      adaptive: true,
      adaptiveInlineBelowPerSec: 30_000,
      adaptiveWorkersAbovePerSec: 60_000,
      adaptiveDwellMs: 15_000,
      handoverWaitMaxMs: 2_000,
    });
  });

  it('wants adaptiveWorkersAbovePerSec above adaptiveInlineBelowPerSec (hysteresis)', () => {
    const problems = problemsOf(withValue('ledger.adaptiveWorkersAbovePerSec', 20_000));
    expect(problems.some((p) => p.includes('adaptiveWorkersAbovePerSec') && p.includes('above'))).toBe(true);
  });

  it.each([
    ['actorsMax', 1_000, 100_000_000, ''],
    ['recordsPerActorMax', 1, 1_000_000, ''],
    ['evictedKeysMax', 0, 1_000_000_000, ''],
    ['commitTimeoutMs', 10, DAY_MS, ' (1 day)'],
    ['holdExpiryIntervalMs', 10, DAY_MS, ' (1 day)'],
    ['recordSweepIntervalMs', 10, DAY_MS, ' (1 day)'],
    ['recordSweepAccountsMax', 1, 10_000_000, ''],
    ['rotationAccountsPerSecondMax', 1, 1_000_000, ''],
    ['adaptiveDwellMs', 10, DAY_MS, ' (1 day)'],
    ['handoverWaitMaxMs', 10, DAY_MS, ' (1 day)'],
  ])('ledger.%s must be an integer from %i to %i', (key, min, max, note) => {
    const range = `must be an integer from ${min} to ${max}${note}`;
    expect(problemsOf(withValue(`ledger.${key}`, min - 1))).toEqual([
      `ledger.${key}: ${range}, got ${min - 1}`,
    ]);
    expect(problemsOf(withValue(`ledger.${key}`, max + 1))).toEqual([
      `ledger.${key}: ${range}, got ${max + 1}`,
    ]);
    expect(ok(withValue(`ledger.${key}`, min)).ledger[key as 'actorsMax']).toBe(min);
  });

  it('ledger.inline must be a boolean', () => {
    expect(problemsOf(withValue('ledger.inline', 'yes'))).toEqual([
      'ledger.inline: must be a boolean, got string',
    ]);
    expect(ok(withValue('ledger.inline', true)).ledger.inline).toBe(true);
  });

  it('refuses an unknown ledger key', () => {
    expect(problemsOf(withValue('ledger.threads', 2))).toHaveLength(1);
  });
});
