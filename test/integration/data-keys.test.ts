/**
 * The data keys of a running switch (docs/security.md): where they come
 * from, the key file generated on first start, the development warning,
 * SIGHUP re-reading the file, and the `switchyard keys` commands. Refusals
 * at start (an exposed or invalid key file) are in cli-config-and-refusals.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newKeyFileText } from '../../src/security/key-file.js';
import { EVENTUALLY_MS, removeDir, repoRoot, trackDir, waitFor } from '../helpers/processes.js';
import { type StartOptions, type SwitchProcess, startSwitch } from '../helpers/switch-process.js';

const switches: SwitchProcess[] = [];
/** Key files live here, apart from any switch's folder. */
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-data-keys-'));
  trackDir(dir);
});

afterAll(() => removeDir(dir));

afterEach(async () => {
  // Last started first: a later switch may run on an earlier one's data directory, which goes with it.
  for (const sw of switches.splice(0).reverse()) await sw.dispose();
});

async function start(options: StartOptions = {}): Promise<SwitchProcess> {
  const sw = await startSwitch(options);
  switches.push(sw);
  return sw;
}

function logLines(sw: SwitchProcess, msg: string): Record<string, unknown>[] {
  return sw.stdout
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['msg'] === msg);
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('a switch whose config names no key source', () => {
  it('generates <dataDir>/keys.json, mode 0600, says where, and reuses it at the next start', async () => {
    // The test defaults name the development key file: this switch names none.
    const first = await start({ config: { keys: undefined } });
    const keyFile = join(first.dir, 'data', 'keys.json');
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(
      logLines(first, 'generated a key file: back it up, the data it protects cannot be read without it'),
    ).toEqual([expect.objectContaining({ path: keyFile })]);
    expect(logLines(first, 'data keys loaded')).toEqual([
      expect.objectContaining({ source: keyFile, currentTokenKeyId: 't1', currentDataKeyId: 'd1' }),
    ]);
    const generated = readFileSync(keyFile, 'utf8');
    // Never key material in the log: not the file's keys, not any base64 of 32 bytes.
    const keys = JSON.parse(generated) as {
      tokenKeys: Record<string, string>;
      dataKeys: Record<string, string>;
    };
    const log = first.stdout.join('\n');
    for (const key of [...Object.values(keys.tokenKeys), ...Object.values(keys.dataKeys)])
      expect(log).not.toContain(key);
    // Not inside the private Redis's folder: a copy of Redis's files carries no key.
    expect(keyFile.startsWith(join(first.dir, 'data', 'redis'))).toBe(false);

    await first.stop();
    const second = await start({ config: { keys: undefined, dataDir: join(first.dir, 'data') } });
    expect(readFileSync(keyFile, 'utf8')).toBe(generated);
    expect(
      logLines(second, 'generated a key file: back it up, the data it protects cannot be read without it'),
    ).toEqual([]);
    expect(logLines(second, 'data keys loaded')).toHaveLength(1);
  });
});

describe('a key file named in the config', () => {
  it('marked for development and readable by others: starts, with the loud warning', async () => {
    const file = join(dir, 'dev-keys.json');
    writeFileSync(file, newKeyFileText(true));
    chmodSync(file, 0o644);
    const sw = await start({ config: { keys: { file } } });
    expect(
      logLines(sw, 'DEVELOPMENT KEYS: the data keys are public test keys; never use them for real cards'),
    ).toEqual([expect.objectContaining({ source: file, readableByOthers: true })]);
  });

  it('is re-read on SIGHUP: a new data key is current at once; a broken file is refused and the keys stay', async () => {
    const file = join(dir, 'keys-hup.json');
    expect(cli('keys', 'new', file).status).toBe(0);
    const sw = await start({ config: { keys: { file } } });
    expect(logLines(sw, 'data keys loaded')).toEqual([expect.objectContaining({ currentDataKeyId: 'd1' })]);

    expect(cli('keys', 'add-data-key', file, '--id', 'd2').status).toBe(0);
    process.kill(sw.pid, 'SIGHUP');
    await waitFor(() => logLines(sw, 'data keys loaded').length === 2, EVENTUALLY_MS);
    expect(logLines(sw, 'data keys loaded')[1]).toMatchObject({
      currentDataKeyId: 'd2',
      dataKeyIds: ['d1', 'd2'],
    });

    writeFileSync(file, '{"shardKey": "not base64!"}');
    process.kill(sw.pid, 'SIGHUP');
    await waitFor(() => logLines(sw, 'key reload refused; the keys in use stay').length === 1, EVENTUALLY_MS);
    expect(sw.running()).toBe(true);
    expect(logLines(sw, 'data keys loaded')).toHaveLength(2);
  });
});

describe('SWITCHYARD_KEYS', () => {
  it('holds the key file itself and comes before the config and the generated file', async () => {
    const text = newKeyFileText(false)
      .replace('"t1"', '"env-t1"')
      .replace('"currentTokenKey": "t1"', '"currentTokenKey": "env-t1"');
    const sw = await start({ env: { SWITCHYARD_KEYS: text } });
    expect(logLines(sw, 'data keys loaded')).toEqual([
      expect.objectContaining({ source: 'SWITCHYARD_KEYS', currentTokenKeyId: 'env-t1' }),
    ]);
    expect(existsSync(join(sw.dir, 'data', 'keys.json'))).toBe(false);
  });
});

describe('switchyard keys', () => {
  it('new writes a 0600 file and never overwrites; show prints ids only; token keys rotate one at a time; old keys retire', async () => {
    const file = join(dir, 'cli-keys.json');
    expect(cli('keys', 'new', file)).toMatchObject({ status: 0 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = cli('keys', 'new', file);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(
      /^switchyard keys new: SWITCHYARD_USAGE: .* exists; a key file is never overwritten\n$/,
    );

    expect(cli('keys', 'add-token-key', file, '--id', 't2').status).toBe(0);
    const refused = cli('keys', 'add-token-key', file, '--id', 't3');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('token key t1 is still previous');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const shown = cli('keys', 'show', file);
    expect(shown.status).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual({
      development: false,
      tokenKeyIds: ['t1', 't2'],
      currentTokenKey: 't2',
      previousTokenKey: 't1',
      dataKeyIds: ['d1'],
      currentDataKey: 'd1',
    });
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { dataKeys: Record<string, string> };
    expect(shown.stdout).not.toContain(stored.dataKeys['d1']!);

    // Retiring: never the current data key; the previous token key, after which another may come.
    expect(cli('keys', 'retire-data-key', file, '--id', 'd1').stderr).toContain('data key d1 is current');
    expect(cli('keys', 'add-data-key', file, '--id', 'd2').status).toBe(0);
    expect(cli('keys', 'retire-data-key', file, '--id', 'd1').status).toBe(0);
    expect(cli('keys', 'retire-token-key', file).status).toBe(0);
    expect(cli('keys', 'retire-token-key', file).stderr).toContain('has no previous token key');
    expect(cli('keys', 'add-token-key', file, '--id', 't3').status).toBe(0);
    expect(JSON.parse(cli('keys', 'show', file).stdout)).toMatchObject({
      tokenKeyIds: ['t2', 't3'],
      currentTokenKey: 't3',
      previousTokenKey: 't2',
      dataKeyIds: ['d2'],
      currentDataKey: 'd2',
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // keygen stays as an alias of keys institution
    for (const args of [['keygen'], ['keys', 'institution']]) {
      const pair = JSON.parse(cli(...args).stdout) as { publicKey: string; secretKey: string };
      expect(Buffer.from(pair.publicKey, 'base64')).toHaveLength(32);
      expect(Buffer.from(pair.secretKey, 'base64')).toHaveLength(64);
    }
  });
});
