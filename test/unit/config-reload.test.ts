/**
 * A config reload at the config layer (src/config/reload.ts): the file judged
 * as at start, and the settings besides routes and institutions that differ
 * from the running config named (paths only) for a restart.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { readReloadedConfig, settingsNeedingRestart } from '../../src/config/reload.js';
import type { SwitchConfig } from '../../src/config/types.js';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

const BASE = {
  switchId: 'sw-1',
  listen: { tcp: { host: '127.0.0.1', port: 0 } },
  admin: { token: 'a-token-of-16-chars' },
  dataDir: 'data',
  institutions: [{ id: 'acq', role: 'acquirer', publicKey: KEY_A }],
  routes: [{ prefix: '4', issuer: 'local' }],
};

let dir: string;
let running: SwitchConfig;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-reload-'));
  running = loadConfig(write('running.json', BASE));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('readReloadedConfig', () => {
  it('takes a file that changes only routes and institutions, nothing waiting for a restart', () => {
    const file = write('routes.json', {
      ...BASE,
      institutions: [...BASE.institutions, { id: 'iss', role: 'issuer', publicKey: KEY_B }],
      routes: [...BASE.routes, { prefix: '49', issuer: 'iss' }],
    });
    const reading = readReloadedConfig(file, running);
    expect(reading).toMatchObject({ ok: true, needsRestart: [] });
    if (reading.ok) expect(reading.config.routes).toHaveLength(2);
  });

  it('refuses an invalid file with every problem, as start would', () => {
    const file = write('bad.json', {
      ...BASE,
      surprise: 1,
      routes: [{ prefix: '4x', issuer: 'nobody' }],
    });
    expect(readReloadedConfig(file, running)).toEqual({
      ok: false,
      problems: [
        'surprise: unknown key',
        'routes[0].prefix: must be 1 to 19 digits 0-9, got "4x"',
        'routes[0].issuer: must be "local" or the id of an institution with role "issuer", got "nobody"',
      ],
    });
  });

  it('refuses a file that is not JSON, or cannot be read', () => {
    expect(readReloadedConfig(write('broken.json', '{"switchId": '), running)).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^\(file\): invalid JSON in /)],
    });
    const missing = join(dir, 'missing.json');
    expect(readReloadedConfig(missing, running)).toEqual({
      ok: false,
      problems: [`(file): cannot read ${missing} (ENOENT)`],
    });
  });
});

describe('settingsNeedingRestart', () => {
  const read = (name: string, value: unknown): SwitchConfig => loadConfig(write(name, value));

  it('names the deepest differing paths, an object on one side only, never routes or institutions', () => {
    const next = read('other.json', {
      ...BASE,
      listen: { tcp: { host: '127.0.0.1', port: 9000 }, ws: { host: '127.0.0.1', port: 0 } },
      heartbeatMs: 1000,
      admin: { token: 'another-token-of-16-chars' },
      ledger: { inline: true },
      routes: [],
      institutions: [],
    });
    expect(settingsNeedingRestart(running, next).sort()).toEqual(
      ['admin.token', 'heartbeatMs', 'ledger.inline', 'listen.tcp.port', 'listen.ws'].sort(),
    );
  });

  it('says nothing of a setting written out with its default value', () => {
    expect(settingsNeedingRestart(running, read('defaults.json', { ...BASE, heartbeatMs: 30_000 }))).toEqual(
      [],
    );
  });

  it('names a path, never a value (a token or a Redis URL is a secret)', () => {
    const next = read('secret.json', { ...BASE, redis: { url: 'redis://:hunter2hunter2@db:6379' } });
    const named = settingsNeedingRestart(running, next);
    expect(named).toEqual(['redis.url']);
    expect(JSON.stringify(named)).not.toContain('hunter2');
  });
});
