import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, resolveConfigPath } from '../../src/config/load.js';

let dir: string;

const VALID = {
  switchId: 'sw-1',
  listen: { tcp: { host: '127.0.0.1', port: 0 } },
  admin: { token: 'a-token-of-16-chars' },
  dataDir: 'data',
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-load-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function loadError(path: string): ConfigError {
  try {
    loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('loads a valid file and resolves relative paths against its folder', () => {
    const config = loadConfig(writeConfig('ok.json', JSON.stringify(VALID)));
    expect(config.switchId).toBe('sw-1');
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('accepts a file that starts with a UTF-8 BOM', () => {
    expect(loadConfig(writeConfig('bom.json', `\ufeff${JSON.stringify(VALID)}`)).switchId).toBe('sw-1');
  });

  it('reports a missing file as a ConfigError with a stable code', () => {
    const missing = join(dir, 'nope.json');
    const err = loadError(missing);
    expect(err.code).toBe('SWITCHYARD_CONFIG_INVALID');
    expect(err.problems).toEqual([`(file): cannot read ${missing} (ENOENT)`]);
    expect(err.message).toContain(missing);
  });

  it('reports a directory as unreadable', () => {
    expect(loadError(dir).problems).toEqual([`(file): cannot read ${dir} (EISDIR)`]);
  });

  it('reports invalid JSON', () => {
    const file = writeConfig('bad.json', '{"switchId": "sw-1",}');
    const err = loadError(file);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(new RegExp(`^\\(file\\): invalid JSON in ${file} \\(.+\\)$`));
  });

  it('throws every validation problem, each on its own line of the message', () => {
    const file = writeConfig(
      'invalid.json',
      JSON.stringify({ ...VALID, switchId: 'bad id', workers: 99, extra: 1 }),
    );
    const err = loadError(file);
    expect(err.problems).toEqual([
      'extra: unknown key',
      'switchId: must be 1 to 32 characters of A-Z a-z 0-9 _ . -, got "bad id"',
      'workers: must be an integer from 0 to 64, got 99',
    ]);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe(`invalid configuration in ${file} (3 problems):`);
    expect(lines.slice(1)).toEqual(err.problems.map((p) => `  ${p}`));
    expect(err.name).toBe('ConfigError');
    expect(err).toBeInstanceOf(Error);
  });

  it('resolves a relative path against the working directory', () => {
    writeConfig('rel.json', JSON.stringify(VALID));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(loadConfig('rel.json').dataDir).toBe(join(dir, 'data'));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('resolveConfigPath', () => {
  it('reads --config FILE', () => {
    expect(resolveConfigPath(['start', '--config', 'a.json'], {})).toBe('a.json');
  });

  it('reads --config=FILE', () => {
    expect(resolveConfigPath(['start', '--config=b.json'], {})).toBe('b.json');
  });

  it('prefers the command line over SWITCHYARD_CONFIG', () => {
    expect(resolveConfigPath(['--config', 'a.json'], { SWITCHYARD_CONFIG: 'env.json' })).toBe('a.json');
  });

  it('falls back to SWITCHYARD_CONFIG', () => {
    expect(resolveConfigPath(['start'], { SWITCHYARD_CONFIG: 'env.json' })).toBe('env.json');
  });

  it('returns undefined when neither is given, or the variable is empty', () => {
    expect(resolveConfigPath(['start'], {})).toBeUndefined();
    expect(resolveConfigPath(['start'], { SWITCHYARD_CONFIG: '' })).toBeUndefined();
  });

  it('lets the last --config win', () => {
    expect(resolveConfigPath(['--config', 'a.json', '--config=b.json'], {})).toBe('b.json');
  });

  it('ignores arguments after --', () => {
    expect(resolveConfigPath(['start', '--', '--config', 'a.json'], { SWITCHYARD_CONFIG: 'env.json' })).toBe(
      'env.json',
    );
  });

  it.each([[['--config']], [['--config=']], [['--config', '--verbose']]])(
    'refuses %j without a file instead of silently using the environment',
    (argv) => {
      expect(() => resolveConfigPath(argv, { SWITCHYARD_CONFIG: 'env.json' })).toThrow(ConfigError);
    },
  );
});
