/**
 * The `switchyard` command line as an operator meets it (docs/cli.md): every command answers
 * --help (stdout, exit 0) and refuses an unknown flag (one stderr line with a hint, exit 2); a
 * switch that cannot be reached is one line naming the address; `sim acquirer` exits non-zero
 * when nothing was approved; `accounts get|put|adjust|seed` against a real switch, with no full
 * PAN in anything the CLI prints.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, type Stack, startStack } from '../helpers/harness.js';
import { Accounts, leakedPans, simPan, expectedView as view } from '../helpers/ledger.js';
import { breakLuhn, makePan } from '../helpers/messages.js';
import { type CliResult, runCli } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';

const COMMANDS: readonly (readonly string[])[] = [
  [],
  ['start'],
  ['keygen'],
  ['sim'],
  ['sim', 'acquirer'],
  ['sim', 'issuer'],
  ['accounts'],
  ['accounts', 'seed'],
  ['accounts', 'get'],
  ['accounts', 'put'],
  ['accounts', 'adjust'],
  ['config'],
  ['config', 'check'],
  ['config', 'reload'],
  ['config', 'table'],
  ['keys'],
  ['keys', 'institution'],
  ['keys', 'new'],
  ['keys', 'show'],
  ['keys', 'add-data-key'],
  ['keys', 'add-token-key'],
  ['keys', 'retire-data-key'],
  ['keys', 'retire-token-key'],
  ['keys', 'usage'],
];

/** A loopback port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

function stderrLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line !== '');
}

/** No stack trace: Node's frames are `    at fn (file:line:col)`. */
function expectNoStack(result: CliResult): void {
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('--help and unknown flags, every command', () => {
  it.each(COMMANDS.map((words) => [words.join(' ') || '(top level)', words] as const))(
    'switchyard %s --help: usage on stdout, exit 0',
    async (_name, words) => {
      for (const flag of ['--help', '-h']) {
        const result = await runCli([...words, flag]);
        expect(result.code, `${flag}\n${result.stderr}`).toBe(0);
        expect(result.stdout).toMatch(new RegExp(`^usage: ${['switchyard', ...words].join(' ')}\\b`));
        expect(result.stderr).toBe('');
      }
    },
  );

  it.each(COMMANDS.map((words) => [words.join(' ') || '(top level)', words] as const))(
    'switchyard %s --no-such-flag: one stderr line with a hint, exit 2',
    async (_name, words) => {
      const result = await runCli([...words, '--no-such-flag']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      const lines = stderrLines(result);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^switchyard\b.*: unknown option --no-such-flag \(see switchyard.* --help\)$/);
    },
  );

  it('an unknown command or subcommand, or a missing one, is refused the same way', async () => {
    for (const words of [['nope'], ['accounts', 'delete'], ['sim', 'merchant'], ['accounts'], []]) {
      const result = await runCli(words);
      expect(result.code, words.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(stderrLines(result)).toHaveLength(1);
      expect(result.stderr).toMatch(/\(see switchyard.* --help\)\n$/);
    }
  });

  it('a missing value, a bad number and a stray argument are refused with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['sim', 'acquirer', '--rate'], /--rate needs a value/],
      [['sim', 'acquirer', '--connections', '0'], /--connections must be in 1\.\.1024/],
      [
        ['accounts', 'seed', '--count', 'many', '--balance', '1', '--currency', 'EUR'],
        /--count must be an integer/,
      ],
      [['accounts', 'get'], /missing PAN/],
      [
        ['accounts', 'adjust', '4111111111111111', '--amount', '0', '--reference', 'r'],
        /--amount must not be 0/,
      ],
      [['keygen', 'extra'], /unexpected argument "extra"/],
    ];
    for (const [argv, pattern] of cases) {
      const result = await runCli(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(stderrLines(result)).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
    }
  });

  it('--version prints the version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('a switch that cannot be reached', () => {
  it('sim acquirer says so in one line with the address tried, exit 1', async () => {
    const port = await closedPort();
    const acq = makeInstitution('acq-nowhere', 'acquirer');
    for (const extra of [[], ['--lean']]) {
      const result = await runCli([
        'sim',
        'acquirer',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--institution',
        acq.id,
        '--secret-key',
        Buffer.from(acq.keys.secretKey).toString('base64'),
        '--count',
        '1',
        ...extra,
      ]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toBe(
        `switchyard sim acquirer: SWITCHYARD_SWITCH_UNREACHABLE: cannot reach the switch at 127.0.0.1:${port} (ECONNREFUSED)\n`,
      );
      expectNoStack(result);
    }
  });

  it('accounts get|put|adjust|seed say so in one line with the address tried, exit 1', async () => {
    const port = await closedPort();
    const target = ['--admin', `http://127.0.0.1:${port}`, '--token', 'some-token-0123456789'];
    const pan = makePan('4');
    const cases: Array<[string, string[]]> = [
      ['get', ['accounts', 'get', pan, ...target]],
      ['put', ['accounts', 'put', pan, '--currency', 'EUR', '--balance', '1', ...target]],
      ['adjust', ['accounts', 'adjust', pan, '--amount', '-5', '--reference', 'r', ...target]],
      ['seed', ['accounts', 'seed', '--count', '3', '--balance', '1', '--currency', 'EUR', ...target]],
    ];
    for (const [sub, argv] of cases) {
      const result = await runCli(argv);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `switchyard accounts ${sub}: SWITCHYARD_SWITCH_UNREACHABLE: cannot reach the switch at 127.0.0.1:${port} (ECONNREFUSED)\n`,
      );
      expect(leakedPans(result.stderr, [pan])).toEqual([]);
    }
  });
});

describe('against a running switch', () => {
  const TOKEN = 'cli-test-admin-token-5b1e9a';
  const acq = makeInstitution('acq-cli', 'acquirer');
  let stack: Stack;
  let dir: string;
  let configFile: string;
  const accounts = new Accounts(() => stack.sw, TOKEN);
  /** Every PAN the CLI was given or made; none may appear whole in its output. */
  const pans = new Set<string>();
  const outputs: string[] = [];

  beforeAll(async () => {
    stack = await startStack({
      config: { admin: { token: TOKEN }, institutions: [institutionEntry(acq)], workers: 1 },
    });
    // The switch's own config with the bound admin port, as an operator's --config would be.
    dir = mkdtempSync(path.join(tmpdir(), 'switchyard-cli-'));
    configFile = path.join(dir, 'switch.json');
    const admin = endpoint(stack.sw, 'admin');
    writeFileSync(
      configFile,
      JSON.stringify({ ...stack.sw.config, listen: { ...stack.sw.config.listen, admin } }, null, 2),
    );
  });

  afterAll(async () => {
    await stack?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function cli(argv: string[]): Promise<CliResult> {
    const result = await runCli(argv);
    outputs.push(result.stdout, result.stderr);
    return result;
  }

  const viaAdmin = (): string[] => {
    const { host, port } = endpoint(stack.sw, 'admin');
    return ['--admin', `http://${host}:${port}`, '--token', TOKEN];
  };

  function expectApiError(result: CliResult, command: string, status: number, code: string): void {
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('');
    const lines = stderrLines(result);
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^switchyard accounts ${command}: SWITCHYARD_ADMIN_ERROR: ${status} ${code}: \\S`),
    );
  }

  /** `accounts adjust` with `--amount A` (or `--amount=A` when `inline`, the form a negative amount may need). */
  function adjust(pan: string, amount: string, reference: string, inline = false): Promise<CliResult> {
    const amountArgs = inline ? [`--amount=${amount}`] : ['--amount', amount];
    return cli(['accounts', 'adjust', pan, ...amountArgs, '--reference', reference, ...viaAdmin()]);
  }

  function sim(prefix: string, extra: string[] = []): Promise<CliResult> {
    const { host, port } = endpoint(stack.sw, 'tcp');
    return cli([
      'sim',
      'acquirer',
      '--host',
      host,
      '--port',
      String(port),
      '--institution',
      acq.id,
      '--secret-key',
      Buffer.from(acq.keys.secretKey).toString('base64'),
      '--prefix',
      prefix,
      '--pans',
      '4',
      '--count',
      '12',
      '--amount',
      '10',
      '--currency',
      'EUR',
      '--mti',
      '0200',
      '--seed',
      '7',
      '--json',
      '--quiet',
      ...extra,
    ]);
  }

  it('accounts put creates (exit 0, the JSON the API answers) and updates; get shows it', async () => {
    const pan = makePan('4');
    pans.add(pan);
    const created = await cli([
      'accounts',
      'put',
      pan,
      '--currency',
      'EUR',
      '--balance',
      '5000',
      ...viaAdmin(),
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual(view(pan, { balance: 5000 }));
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 5000 }));

    const updated = await cli([
      'accounts',
      'put',
      pan,
      '--currency',
      'EUR',
      '--balance',
      '1',
      '--status',
      'blocked',
      '--per-txn-max',
      '50',
      '--daily-count-max=3',
      '--config',
      configFile,
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    const blocked = view(pan, {
      balance: 5000,
      status: 'blocked',
      limits: { perTxnMax: 50, dailyCountMax: 3 },
    });
    expect(JSON.parse(updated.stdout)).toEqual(blocked);
    expect(await accounts.get(pan)).toEqual(blocked);

    const got = await cli(['accounts', 'get', pan, '--config', configFile]);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual(blocked);

    const cleared = await cli([
      'accounts',
      'put',
      pan,
      '--currency',
      'EUR',
      '--balance',
      '1',
      '--status',
      'active',
      '--no-limits',
      ...viaAdmin(),
    ]);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toEqual(view(pan, { balance: 5000 }));
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 5000 }));
  });

  it('accounts adjust credits and debits, idempotent on --reference; a conflict is exit 1 with the 409', async () => {
    const pan = await accounts.create({ balance: 1000 });
    pans.add(pan);
    const debit = await adjust(pan, '-300', 'cli-debit-1');
    expect(debit.code, debit.stderr).toBe(0);
    expect(JSON.parse(debit.stdout)).toEqual(view(pan, { balance: 700 }));
    const again = await adjust(pan, '-300', 'cli-debit-1', true);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(view(pan, { balance: 700 }));
    const credit = await adjust(pan, '50', 'cli-credit-1');
    expect(credit.code, credit.stderr).toBe(0);
    expect(JSON.parse(credit.stdout)).toEqual(view(pan, { balance: 750 }));

    const conflict = await adjust(pan, '-301', 'cli-debit-1');
    expectApiError(conflict, 'adjust', 409, 'reference_conflict');
    const tooMuch = await adjust(pan, '-751', 'cli-debit-2');
    expectApiError(tooMuch, 'adjust', 409, 'insufficient_funds');
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 750 }));
  });

  it('API errors are exit 1 with status, code and message on one stderr line', async () => {
    const absent = makePan('4');
    const notLuhn = breakLuhn(makePan('4'));
    pans.add(absent);
    pans.add(notLuhn);
    expectApiError(await cli(['accounts', 'get', absent, ...viaAdmin()]), 'get', 404, 'account_not_found');
    expectApiError(
      await cli(['accounts', 'adjust', absent, '--amount', '5', '--reference', 'x', ...viaAdmin()]),
      'adjust',
      404,
      'account_not_found',
    );
    expectApiError(await cli(['accounts', 'get', notLuhn, ...viaAdmin()]), 'get', 400, 'invalid_request');
    expectApiError(
      await cli(['accounts', 'put', absent, '--currency', 'eur', '--balance', '1', ...viaAdmin()]),
      'put',
      400,
      'invalid_request',
    );
    const existing = await accounts.create({ balance: 10, currency: 'EUR' });
    pans.add(existing);
    expectApiError(
      await cli(['accounts', 'put', existing, '--currency', 'USD', '--balance', '1', ...viaAdmin()]),
      'put',
      409,
      'currency_mismatch',
    );
    const wrongToken = await cli([
      'accounts',
      'get',
      existing,
      '--admin',
      viaAdmin()[1]!,
      '--token',
      'not-the-token-0123456789',
    ]);
    expect(wrongToken.code).toBe(1);
    expect(stderrLines(wrongToken)).toHaveLength(1);
    expect(wrongToken.stderr).toMatch(/^switchyard accounts get: SWITCHYARD_ADMIN_ERROR: 401 /);
    await accounts.expectState(existing, { balance: 10, held: 0 });
  });

  it('sim acquirer exits 1 when nothing was approved (no accounts), with the rc counts on stderr', async () => {
    for (let i = 0; i < 4; i++) pans.add(simPan('4920', i));
    const result = await sim('4920');
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as {
      sent: number;
      answered: number;
      rcCounts: Record<string, number>;
    };
    expect(summary).toMatchObject({ sent: 12, answered: 12 });
    expect(summary.rcCounts['00']).toBeUndefined();
    expect(result.stderr).toBe(
      `switchyard sim acquirer: SWITCHYARD_NOTHING_APPROVED: nothing was approved: sent 12, answered 12 (rc ${Object.entries(
        summary.rcCounts,
      )
        .map(([rc, n]) => `${rc}:${n}`)
        .join(' ')}), errors 0\n`,
    );
  });

  it('accounts seed (with --progress) then sim acquirer on those PANs: approvals, exit 0', async () => {
    for (let i = 0; i < 4; i++) pans.add(simPan('4921', i));
    const seeded = await cli([
      'accounts',
      'seed',
      '--count',
      '4',
      '--balance',
      '1000',
      '--currency',
      'EUR',
      '--prefix',
      '4921',
      '--progress',
      ...viaAdmin(),
    ]);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({ requested: 4, created: 4, existing: 0, failed: 0 });
    // The last progress line is the outcome; any before it are estimates from the probe.
    expect(stderrLines(seeded).at(-1)).toMatch(
      /^switchyard accounts seed: 4 accounts \(created 4, existing 0, failed 0\) in \d+\.\d s$/,
    );

    const result = await sim('4921');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const summary = JSON.parse(result.stdout) as { answered: number; rcCounts: Record<string, number> };
    expect(summary).toMatchObject({ answered: 12, rcCounts: { '00': 12 } });
    await accounts.expectState(simPan('4921', 0), { balance: 970, held: 0 });
  });

  it('no PAN the CLI was given appears whole in anything it printed', () => {
    for (const pan of accounts.pans) pans.add(pan);
    expect(outputs.join('').length).toBeGreaterThan(0);
    expect(leakedPans(outputs.join('\n'), pans)).toEqual([]);
  });
});
