import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderConfigTable } from '../../src/config/config-table.js';
import { exitCodeOf } from '../../src/errors/codes.js';
import { newKeyFileText } from '../../src/security/key-file.js';
import { type ExitInfo, removeDir, repoRoot, terminate, trackChild, trackDir } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { freePort } from '../helpers/redis-server.js';

/**
 * `switchyard config ...` and `switchyard start`'s refusals, run as the built
 * CLI (dist/, built by the global setup): the exit code and the one line with
 * the registered code are what a script or a supervisor sees.
 */

const ACQ_KEY = 'OyTjFMuh8VjmHvvAOh2kyLrb2yXbm3fVGRw6uRb6Gzk=';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 30_000,
): Promise<Run> {
  const clean = { ...env };
  delete clean['SWITCHYARD_CONFIG'];
  const child = spawn(process.execPath, ['dist/src/cli/main.js', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: clean,
  });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const closed = new Promise<ExitInfo>((r) => child.once('close', (code, signal) => r({ code, signal })));
  const timer = setTimeout(() => void terminate(child, 'SIGKILL', 5_000), timeoutMs);
  const exit = await closed;
  clearTimeout(timer);
  return { code: exit.code, stdout, stderr };
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-config-'));
  trackDir(dir);
});

afterAll(() => removeDir(dir));

function configFile(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

function validConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    switchId: 'sw-cli',
    listen: { tcp: { host: '127.0.0.1', port: 0 } },
    admin: { token: 'a-token-of-16-chars' },
    institutions: [{ id: 'acq', role: 'acquirer', publicKey: ACQ_KEY }],
    routes: [{ prefix: '4', issuer: 'local' }],
    workers: 1,
    ...extra,
  };
}

describe('switchyard config check', () => {
  it('exits 0 with an "ok" line for a valid file', async () => {
    const file = configFile('good.json', validConfig());
    const result = await run(['config', 'check', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${file}: ok\n`);
  });

  it('accepts config/demo.json', async () => {
    const result = await run(['config', 'check', 'config/demo.json']);
    expect(result.code, result.stderr).toBe(0);
  });

  it('exits 1 listing every problem with its path', async () => {
    const file = configFile(
      'bad.json',
      validConfig({
        switchId: 'bad id',
        workers: 99,
        listen: { tcp: { host: '127.0.0.1', port: 70_000 } },
        institutions: [{ id: 'acq', role: 'merchant', publicKey: ACQ_KEY }],
        extra: true,
      }),
    );
    const result = await run(['config', 'check', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `switchyard config check: SWITCHYARD_CONFIG_CHECK_FAILED: invalid configuration in ${file} (5 problems):`,
    );
    expect(lines.slice(1)).toEqual([
      '  extra: unknown key',
      '  switchId: must be 1 to 32 characters of A-Z a-z 0-9 _ . -, got "bad id"',
      '  listen.tcp.port: must be an integer from 0 to 65535, got 70000',
      '  institutions[0].role: must be one of "acquirer", "issuer", got "merchant"',
      '  workers: must be an integer from 0 to 64, got 99',
    ]);
  });

  it('exits 1 for invalid JSON and for a file that cannot be read', async () => {
    const broken = await run(['config', 'check', configFile('broken.json', '{"switchId": ')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/\(file\): invalid JSON in .*broken\.json/);
    const missing = join(dir, 'missing.json');
    const absent = await run(['config', 'check', missing]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain(`(file): cannot read ${missing} (ENOENT)`);
  });

  it('prints usage on stdout and exits 0 for --help', async () => {
    for (const args of [
      ['config', '--help'],
      ['config', 'check', '--help'],
      ['config', '-h'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^usage: switchyard config/);
      expect(result.stderr).toBe('');
    }
  });

  it('refuses a wrong command line with SWITCHYARD_USAGE and exit 2', async () => {
    for (const args of [
      ['config'],
      ['config', 'check'],
      ['config', 'check', 'a.json', 'b.json'],
      ['config', 'lint'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^switchyard config( check)?: SWITCHYARD_USAGE: /);
    }
  });

  it('prints the generated configuration table', async () => {
    const result = await run(['config', 'table']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${renderConfigTable()}\n`);
  });
});

/** The refusal line: the first stderr line, `switchyard start: CODE: ...`. */
function expectRefusal(result: Run, code: Parameters<typeof exitCodeOf>[0]): void {
  expect(result.code, result.stderr).toBe(exitCodeOf(code));
  expect(result.stderr.split('\n')[0], result.stderr).toMatch(new RegExp(`^switchyard start: ${code}: `));
}

describe('switchyard start refuses with a registered code and its exit status', () => {
  it('without a config: SWITCHYARD_USAGE, exit 2', async () => {
    expectRefusal(await run(['start']), 'SWITCHYARD_USAGE');
  });

  it('with an invalid config: SWITCHYARD_CONFIG_INVALID, every problem listed', async () => {
    const file = configFile('start-bad.json', validConfig({ workers: -1, heartbeatMs: 0 }));
    const result = await run(['start', '--config', file]);
    expectRefusal(result, 'SWITCHYARD_CONFIG_INVALID');
    expect(result.stderr).toContain('  heartbeatMs: must be an integer from 1 to 86400000 (1 day), got 0');
    expect(result.stderr).toContain('  workers: must be an integer from 0 to 64, got -1');
  });

  it('with a key file other users can read, not marked for development: SWITCHYARD_KEY_FILE_EXPOSED', async () => {
    const keys = join(dir, 'exposed-keys.json');
    writeFileSync(keys, newKeyFileText(false), { mode: 0o644 });
    chmodSync(keys, 0o644);
    const file = configFile(
      'exposed.json',
      validConfig({ dataDir: join(dir, 'exposed-data'), keys: { file: keys } }),
    );
    const result = await run(['start', '--config', file]);
    expectRefusal(result, 'SWITCHYARD_KEY_FILE_EXPOSED');
    expect(result.stderr).toContain('mode 0644');
  });

  it('with a key file it cannot use: SWITCHYARD_KEY_FILE_INVALID, every problem with its path', async () => {
    const keys = join(dir, 'bad-keys.json');
    writeFileSync(keys, JSON.stringify({ shardKey: 'c2hvcnQ=', tokenKeys: {}, currentDataKey: 'd9' }), {
      mode: 0o600,
    });
    const file = configFile(
      'bad-keys-config.json',
      validConfig({ dataDir: join(dir, 'bad-keys-data'), keys: { file: keys } }),
    );
    const result = await run(['start', '--config', file]);
    expectRefusal(result, 'SWITCHYARD_KEY_FILE_INVALID');
    for (const problem of [
      'shardKey: must be base64 of exactly 16 bytes',
      'tokenKeys: needs at least one key',
      'dataKeys: required, an object of key id -> base64 key',
      'currentTokenKey: required, the id of one of the keys',
      'currentDataKey: no key with id "d9"',
    ])
      expect(result.stderr).toContain(`  ${problem}`);
    const missing = configFile(
      'missing-keys.json',
      validConfig({ dataDir: join(dir, 'missing-keys-data'), keys: { file: join(dir, 'nope.json') } }),
    );
    const absent = await run(['start', '--config', missing]);
    expectRefusal(absent, 'SWITCHYARD_KEY_FILE_INVALID');
    expect(absent.stderr).toContain('cannot be read (ENOENT)');
  });

  it('when another live process holds the data directory: SWITCHYARD_DATA_DIR_LOCKED', async () => {
    const dataDir = join(dir, 'locked-data');
    mkdirSync(dataDir, { recursive: true });
    // This test's own process is alive, and is not the switch: the lock is held.
    writeFileSync(join(dataDir, 'switch.pid'), `${process.pid}\n`);
    const file = configFile('locked.json', validConfig({ dataDir }));
    expectRefusal(await run(['start', '--config', file]), 'SWITCHYARD_DATA_DIR_LOCKED');
  });

  it('without redis.url and no redis-server on PATH: SWITCHYARD_REDIS_NOT_INSTALLED', async () => {
    const emptyBin = join(dir, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    const file = configFile('no-redis.json', validConfig({ dataDir: join(dir, 'no-redis-data') }));
    const result = await run(['start', '--config', file], { ...process.env, PATH: emptyBin });
    expectRefusal(result, 'SWITCHYARD_REDIS_NOT_INSTALLED');
    expect(result.stderr).toContain('apt-get install redis-server');
  });

  it('when redis.url does not answer: SWITCHYARD_REDIS_UNREACHABLE, without echoing the URL', async () => {
    const port = await freePort();
    const file = configFile(
      'unreachable.json',
      validConfig({ redis: { url: `redis://:s3cret-pw@127.0.0.1:${port}` } }),
    );
    const result = await run(['start', '--config', file]);
    expectRefusal(result, 'SWITCHYARD_REDIS_UNREACHABLE');
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr + result.stdout).not.toContain('s3cret-pw');
  });

  describe('with a reachable Redis', () => {
    const redis = useRedisServer();
    let squatter: Server;
    let takenPort: number;

    beforeAll(async () => {
      squatter = createServer();
      await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
      takenPort = (squatter.address() as { port: number }).port;
    });

    afterAll(async () => {
      await new Promise<void>((r) => squatter.close(() => r()));
    });

    it('when a listener port is taken: SWITCHYARD_PORT_IN_USE', async () => {
      const file = configFile(
        'port-taken.json',
        validConfig({
          redis: { url: redis.server.url },
          listen: { tcp: { host: '127.0.0.1', port: takenPort } },
        }),
      );
      const result = await run(['start', '--config', file]);
      expectRefusal(result, 'SWITCHYARD_PORT_IN_USE');
      expect(result.stderr).toContain(String(takenPort));
    });

    it('when a TLS certificate is not PEM: SWITCHYARD_TLS_INVALID', async () => {
      const cert = configFile('not-a-cert.pem', 'not a certificate');
      const key = configFile('not-a-key.pem', 'not a key');
      const file = configFile(
        'bad-tls.json',
        validConfig({
          redis: { url: redis.server.url },
          listen: { tcp: { host: '127.0.0.1', port: 0, tls: { cert, key } } },
        }),
      );
      expectRefusal(await run(['start', '--config', file]), 'SWITCHYARD_TLS_INVALID');
    });

    it('when the Redis may evict keys or keeps no AOF: SWITCHYARD_REDIS_UNSUITABLE, naming both', async () => {
      const { client } = redis;
      await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await client.config('SET', 'appendonly', 'no');
      try {
        const file = configFile('unsuitable.json', validConfig({ redis: { url: redis.server.url } }));
        const result = await run(['start', '--config', file]);
        expectRefusal(result, 'SWITCHYARD_REDIS_UNSUITABLE');
        expect(result.stderr).toContain('maxmemory-policy is allkeys-lru: it must be noeviction');
        expect(result.stderr).toContain('the AOF is off');
      } finally {
        await client.config('SET', 'maxmemory-policy', 'noeviction');
        await client.config('SET', 'appendonly', 'yes');
      }
    });
  });
});
