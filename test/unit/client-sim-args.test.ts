import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSimArgs, SimArgsError } from '../../src/sim/acquirer.js';

const DEMO_ACQUIRER_SECRET =
  'naIWyvFOY5V7ZKb6run56AZ5ecxdWdcKbNIa8hE8q8U7JOMUy6HxWOYe+8A6HaTIutvbJdubd9UZHDq5FvobOQ==';

function argsError(argv: string[]): SimArgsError {
  try {
    parseSimArgs(argv);
  } catch (error) {
    if (error instanceof SimArgsError) return error;
    throw error;
  }
  throw new Error('expected SimArgsError');
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('parseSimArgs', () => {
  it('defaults to the demo config, its first acquirer and the dev key', () => {
    const options = parseSimArgs([]);
    expect(options.connection).toMatchObject({
      transport: 'tcp',
      host: '127.0.0.1',
      port: 8583,
      path: '/',
      tls: undefined,
      institution: 'acq-demo',
      requestTimeoutMs: 30_000,
    });
    expect(Buffer.from(options.connection.secretKey).toString('base64')).toBe(DEMO_ACQUIRER_SECRET);
    expect(options).toMatchObject({
      ratePerS: 0,
      durationS: undefined,
      count: undefined,
      connections: 1,
      inflightMax: 256,
      batch: 1,
      coalesce: true,
      pans: 1000,
      prefix: '4',
      amount: 100,
      currency: 'USD',
      mti: '0100',
      json: false,
      progress: true,
      handleSigint: true,
    });
  });

  it('takes the WebSocket listener with --transport ws', () => {
    expect(parseSimArgs(['--config', 'config/demo.json', '--transport', 'ws']).connection.port).toBe(8584);
  });

  it('reads every load option, in both --flag value and --flag=value forms', () => {
    const options = parseSimArgs([
      '--rate=5000',
      '--duration',
      '2.5',
      '--count',
      '100',
      '--connections',
      '4',
      '--inflight=64',
      '--batch',
      '16',
      '--pans',
      '10',
      '--prefix',
      '51',
      '--amount',
      '0',
      '--currency',
      'EUR',
      '--mti',
      '0200',
      '--seed',
      '99',
      '--json',
      '--quiet',
      '--no-coalesce',
    ]);
    expect(options).toMatchObject({
      ratePerS: 5000,
      durationS: 2.5,
      count: 100,
      connections: 4,
      inflightMax: 64,
      batch: 16,
      pans: 10,
      prefix: '51',
      amount: 0,
      currency: 'EUR',
      mti: '0200',
      seed: 99,
      json: true,
      progress: false,
      coalesce: false,
    });
  });

  it('connects explicitly without a config, with an inline secret key', () => {
    const options = parseSimArgs([
      '--host',
      '10.0.0.5',
      '--port',
      '9000',
      '--transport',
      'ws',
      '--path',
      '/switch',
      '--institution',
      'acq-x',
      '--secret-key',
      DEMO_ACQUIRER_SECRET,
      '--insecure',
    ]);
    expect(options.connection).toMatchObject({
      host: '10.0.0.5',
      port: 9000,
      transport: 'ws',
      path: '/switch',
      institution: 'acq-x',
      tls: { rejectUnauthorized: false },
    });
  });

  it('finds dev-keys.json next to the config and turns TLS on for a TLS listener', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-sim-args-'));
    dirs.push(dir);
    writeFileSync(
      path.join(dir, 'switch.json'),
      JSON.stringify({
        listen: { tcp: { host: '0.0.0.0', port: 7000, tls: { cert: 'c.pem', key: 'k.pem' } } },
        institutions: [
          { id: 'iss-1', role: 'issuer', publicKey: 'x' },
          { id: 'acq-1', role: 'acquirer', publicKey: 'y' },
        ],
      }),
    );
    writeFileSync(
      path.join(dir, 'dev-keys.json'),
      JSON.stringify({ 'acq-1': { secretKey: DEMO_ACQUIRER_SECRET } }),
    );
    const options = parseSimArgs(['--config', path.join(dir, 'switch.json')]);
    expect(options.connection).toMatchObject({
      host: '127.0.0.1',
      port: 7000,
      institution: 'acq-1',
      tls: { rejectUnauthorized: true },
    });
  });

  // The refusal is one line naming the command (the CLI adds a hint to --help); the usage text
  // rides on the error instead of in its message.
  it('refuses bad input in one line, with the usage text on the error', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /unknown option --bogus/],
      [['stray'], /unexpected argument/],
      [['--transport', 'udp'], /--transport must be tcp or ws/],
      [['--rate'], /--rate needs a value/],
      [['--rate', '--json'], /--rate needs a value/],
      [['--rate', 'fast'], /--rate must be a number/],
      [['--connections', '0'], /--connections must be in 1\.\.1024/],
      [['--count', '1.5'], /--count must be an integer/],
      [['--batch', '10', '--inflight', '5'], /--batch cannot exceed --inflight/],
      [['--currency', 'usd'], /--currency/],
      [['--mti', '0400'], /--mti must be 0100 or 0200/],
      [['--prefix', '4x'], /--prefix/],
      [['--json', '--json'], /given twice/],
      [['--config', '/nonexistent/switch.json'], /cannot read config/],
      [['--institution', 'nobody'], /no secretKey for nobody/],
      [['--secret-key', 'AAAA'], /must be 64 bytes/],
      [['--secret-key', DEMO_ACQUIRER_SECRET, '--keys', 'config/dev-keys.json'], /exclusive/],
    ];
    for (const [argv, pattern] of cases) {
      const error = argsError(argv);
      expect(error.message, argv.join(' ')).toMatch(pattern);
      expect(error.message).toMatch(/^switchyard sim acquirer: [^\n]+$/);
      expect(error.usage).toContain('usage: switchyard sim acquirer');
      expect(error.help).toBe(false);
    }
  });

  it('answers --help with just the usage', () => {
    const error = argsError(['--help']);
    expect(error.help).toBe(true);
    expect(error.message).toBe(error.usage);
  });
});
