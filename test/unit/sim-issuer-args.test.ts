import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IssuerSimArgsError, parseIssuerSimArgs } from '../../src/sim/issuer.js';

const DEMO_ISSUER_SECRET =
  'XUZ96iVvW1vpC2qHExDwAhiQg1lmBySRIiPqIYkBKBTtlBOu4a2GcIPW0M0/OSIeseKrLMksaLVQUI+o7g6ilw==';

function argsError(argv: string[]): IssuerSimArgsError {
  try {
    parseIssuerSimArgs(argv);
  } catch (error) {
    if (error instanceof IssuerSimArgsError) return error;
    throw error;
  }
  throw new Error('expected IssuerSimArgsError');
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('parseIssuerSimArgs', () => {
  it('defaults to the demo config, its first issuer and the dev key; answers at once, approves everything', () => {
    const options = parseIssuerSimArgs([]);
    expect(options.connection).toMatchObject({
      transport: 'tcp',
      host: '127.0.0.1',
      port: 8583,
      path: '/',
      tls: undefined,
      institution: 'iss-demo',
    });
    expect(Buffer.from(options.connection.secretKey).toString('base64')).toBe(DEMO_ISSUER_SECRET);
    expect(options).toMatchObject({
      connections: 1,
      durationS: undefined,
      json: false,
      progress: true,
      handleSigint: true,
      behaviour: {
        latency: { p50Ms: 0, p99Ms: 0 },
        slowMs: 0,
        declineRatio: 0,
        declineRcs: ['05', '51'],
        partialRatio: 0,
        silent: false,
        lateRatio: 0,
        // The demo config leaves issuerTimeoutMs at the contract's 2000.
        lateMs: 3_000,
        twiceRatio: 0,
        dropAfter: undefined,
        acknowledgeAdvices: true,
      },
    });
    expect(Number.isInteger(options.seed)).toBe(true);
  });

  it('reads every answer and misbehaviour option, in both --flag value and --flag=value forms', () => {
    const options = parseIssuerSimArgs([
      '--connections=3',
      '--latency-ms',
      '2,40',
      '--decline-ratio',
      '0.1',
      '--decline-rc=05,51,61',
      '--partial-ratio',
      '0.5',
      '--slow-ms',
      '7',
      '--late-ratio',
      '0.01',
      '--late-ms',
      '2500',
      '--twice-ratio=0.02',
      '--drop-after',
      '1000',
      '--no-ack',
      '--duration',
      '2.5',
      '--seed',
      '42',
      '--json',
      '--quiet',
      '--transport',
      'ws',
    ]);
    expect(options.connection.port).toBe(8584);
    expect(options).toMatchObject({
      connections: 3,
      durationS: 2.5,
      seed: 42,
      json: true,
      progress: false,
      behaviour: {
        latency: { p50Ms: 2, p99Ms: 40 },
        slowMs: 7,
        declineRatio: 0.1,
        declineRcs: ['05', '51', '61'],
        partialRatio: 0.5,
        silent: false,
        lateRatio: 0.01,
        lateMs: 2_500,
        twiceRatio: 0.02,
        dropAfter: 1_000,
        acknowledgeAdvices: false,
      },
    });
  });

  it('takes a fixed latency from one value, and --silent with --drop-after and --no-ack', () => {
    expect(parseIssuerSimArgs(['--latency-ms', '1.5']).behaviour.latency).toEqual({ p50Ms: 1.5, p99Ms: 1.5 });
    expect(parseIssuerSimArgs(['--silent', '--drop-after', '3', '--no-ack']).behaviour).toMatchObject({
      silent: true,
      dropAfter: 3,
      acknowledgeAdvices: false,
    });
  });

  it("defaults --late-ms to the config's issuerTimeoutMs + 1000, and finds the first issuer and its key there", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-sim-issuer-args-'));
    dirs.push(dir);
    writeFileSync(
      path.join(dir, 'switch.json'),
      JSON.stringify({
        listen: { tcp: { host: '0.0.0.0', port: 7000 } },
        issuerTimeoutMs: 500,
        institutions: [
          { id: 'acq-1', role: 'acquirer', publicKey: 'y' },
          { id: 'iss-1', role: 'issuer', publicKey: 'x' },
        ],
      }),
    );
    writeFileSync(
      path.join(dir, 'dev-keys.json'),
      JSON.stringify({ 'iss-1': { secretKey: DEMO_ISSUER_SECRET } }),
    );
    const options = parseIssuerSimArgs(['--config', path.join(dir, 'switch.json'), '--late-ratio', '1']);
    expect(options.connection).toMatchObject({ host: '127.0.0.1', port: 7000, institution: 'iss-1' });
    expect(options.behaviour).toMatchObject({ lateRatio: 1, lateMs: 1_500 });
  });

  it('refuses bad input in one line, with the usage text on the error', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /unknown option --bogus/],
      [['--rate', '5'], /unknown option --rate/],
      [['--transport', 'udp'], /--transport must be tcp or ws/],
      [['--decline-ratio', '1.5'], /--decline-ratio must be in 0\.\.1/],
      [['--twice-ratio', 'often'], /--twice-ratio must be a number/],
      [['--latency-ms', 'fast'], /--latency-ms must be P50 or P50,P99/],
      [['--latency-ms', '1,2,3'], /--latency-ms must be P50 or P50,P99/],
      [['--latency-ms', '5,'], /--latency-ms must be P50 or P50,P99/],
      [['--latency-ms', '-1'], /--latency-ms must be P50 or P50,P99/],
      [['--latency-ms', '10,5'], /P99 must not be below P50/],
      [['--latency-ms', '0,5'], /needs a P50 above 0/],
      [['--decline-rc', '00'], /00 is an approval/],
      [['--decline-rc', '05,1'], /"1" is not a two-character code/],
      [['--silent', '--decline-ratio', '0.5'], /--decline-ratio shapes answers, and --silent sends none/],
      [['--silent', '--latency-ms', '3'], /--latency-ms shapes answers/],
      [['--late-ms', '100'], /--late-ms needs --late-ratio/],
      [['--drop-after', '0'], /--drop-after must be in 1\.\./],
      [['--connections', '0'], /--connections must be in 1\.\.1024/],
      [['--no-ack', '--no-ack'], /given twice/],
      [['--institution', 'nobody'], /no secretKey for nobody/],
      [['--secret-key', 'AAAA'], /must be 64 bytes/],
    ];
    for (const [argv, pattern] of cases) {
      const error = argsError(argv);
      expect(error.message, argv.join(' ')).toMatch(pattern);
      expect(error.message).toMatch(/^switchyard sim issuer: [^\n]+$/);
      expect(error.usage).toContain('usage: switchyard sim issuer');
      expect(error.help).toBe(false);
    }
  });

  it('answers --help with just the usage', () => {
    const error = argsError(['--help']);
    expect(error.help).toBe(true);
    expect(error.message).toBe(error.usage);
  });
});
