/**
 * docs/protocol.md section 6, the account calls of the admin API: PUT (create 201 / update 200),
 * GET (200 / 404), adjust (idempotent on `reference`), every 400, the 401s, plus the bulk seed
 * (`POST /accounts/bulk`) and its CLI (`switchyard accounts seed`). Answers mask the PAN (first 6,
 * `*`, last 4); no full PAN this file uses may appear in the switch's output or in /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  at,
  ClientPool,
  endpoint,
  type HttpAnswer,
  type Stack,
  startStack,
} from '../helpers/harness.js';
import {
  Accounts,
  type AccountView,
  expectedView,
  leakedPans,
  masked,
  RrnBook,
  req,
  simPan,
  Teller,
} from '../helpers/ledger.js';
import { breakLuhn, makePan } from '../helpers/messages.js';
import { runCli } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';

const TOKEN = 'accounts-admin-token-2f7d0c';
const acq = makeInstitution('acq-accounts', 'acquirer');

let stack: Stack;
const pool = new ClientPool();
const accounts = new Accounts(() => stack.sw, TOKEN);
/** Every PAN this file used (accounts.pans has those it called the API with directly). */
const allPans = new Set<string>();
let teller: Teller;

beforeAll(async () => {
  stack = await startStack({
    config: {
      admin: { token: TOKEN },
      institutions: [institutionEntry(acq)],
      workers: 2,
      log: { level: 'debug' },
    },
  });
  teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
});

afterAll(async () => {
  pool.closeAll();
  await stack?.dispose();
});

function expectError(answer: HttpAnswer, status: number, code?: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.contentType).toMatch(/^application\/json/);
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  expect(error, answer.text).toBeDefined();
  if (code !== undefined) expect(error?.code, answer.text).toBe(code);
  else expect(['string', 'number']).toContain(typeof error?.code);
  expect(typeof error?.message).toBe('string');
}

const view = expectedView;

describe('PUT /accounts/{pan}', () => {
  it.each([12, 16, 19])(
    'creates an account (%i-digit PAN): 201 with the account, PAN masked',
    async (digits) => {
      const pan = makePan('4', digits);
      const answer = await accounts.put(pan, { currency: 'EUR', balance: 12_345 });
      expect(answer.status, answer.text).toBe(201);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(answer.json).toEqual(view(pan, { balance: 12_345 }));
      expect((answer.json as AccountView).pan).toMatch(
        new RegExp(
          `^${pan.slice(0, Math.min(6, digits - 10))}\\*{${digits - Math.min(6, digits - 10) - 4}}${pan.slice(-4)}$`,
        ),
      );
      expect(answer.text).not.toContain(pan);
      const got = await accounts.getRaw(pan);
      expect(got.status).toBe(200);
      expect(got.json).toEqual(answer.json);
      expect(got.text).not.toContain(pan);
    },
  );

  it('creates with limits and status; an opening balance of 0 is allowed', async () => {
    const pan = makePan('4');
    const limits = { perTxnMax: 5000, dailyMax: 20_000, dailyCountMax: 10 };
    const answer = await accounts.put(pan, { currency: 'USD', balance: 0, limits, status: 'blocked' });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.json).toEqual(view(pan, { currency: 'USD', balance: 0, limits, status: 'blocked' }));
    expect(await accounts.get(pan)).toEqual(answer.json);
  });

  it('PUT again: 200, updates limits and status, ignores balance; absent limits/status are kept', async () => {
    const pan = await accounts.create({ balance: 1000 });
    const updated = await accounts.put(pan, {
      currency: 'EUR',
      balance: 999_999,
      limits: { perTxnMax: 50 },
      status: 'blocked',
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json).toEqual(view(pan, { balance: 1000, limits: { perTxnMax: 50 }, status: 'blocked' }));
    expect(await accounts.get(pan)).toEqual(updated.json);
    const kept = await accounts.put(pan, { currency: 'EUR', balance: 5 });
    expect(kept.status).toBe(200);
    expect(kept.json).toEqual(updated.json);
    const cleared = await accounts.put(pan, { currency: 'EUR', balance: 5, limits: {}, status: 'active' });
    expect(cleared.status).toBe(200);
    expect(cleared.json).toEqual(view(pan, { balance: 1000 }));
    expect(await accounts.get(pan)).toEqual(cleared.json);
  });

  it('updates take effect on the wire at once', async () => {
    const pan = await accounts.create({ balance: 1000 });
    await teller.expect(req('0200', { pan, amount: 60 }), { rc: '00', amount: 60, balance: 940 });
    expect((await accounts.put(pan, { currency: 'EUR', balance: 0, limits: { perTxnMax: 50 } })).status).toBe(
      200,
    );
    await teller.expect(req('0200', { pan, amount: 60 }), { rc: '61' });
    expect((await accounts.put(pan, { currency: 'EUR', balance: 0, status: 'blocked' })).status).toBe(200);
    await teller.expect(req('0200', { pan, amount: 10 }), { rc: '57' });
    const now = await accounts.get(pan);
    expect(now).toEqual(view(pan, { balance: 940, limits: { perTxnMax: 50 }, status: 'blocked' }));
  });

  it('another currency for an existing account -> 409 currency_mismatch, nothing changes', async () => {
    const pan = await accounts.create({ balance: 1000, currency: 'EUR' });
    const before = await accounts.get(pan);
    expectError(
      await accounts.put(pan, { currency: 'USD', balance: 1000, status: 'blocked' }),
      409,
      'currency_mismatch',
    );
    expect(await accounts.get(pan)).toEqual(before);
  });

  it('concurrent PUTs creating one PAN: exactly one 201, the others 200, one opening balance', async () => {
    const pan = makePan('4');
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => accounts.put(pan, { currency: 'EUR', balance: 1000 * (i + 1) })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const created = answers.find((a) => a.status === 201)!.json as AccountView;
    for (const a of answers) expect(a.json).toEqual(created);
    expect(await accounts.get(pan)).toEqual(created);
  });
});

describe('GET /accounts/{pan}', () => {
  it('an absent account -> 404 account_not_found', async () => {
    const pan = makePan('4');
    const answer = await accounts.getRaw(pan);
    expectError(answer, 404, 'account_not_found');
    expect(answer.text).not.toContain(pan);
  });

  it('a malformed PAN -> 400 invalid_request', async () => {
    expectError(await accounts.getRaw(breakLuhn(makePan('4'))), 400, 'invalid_request');
    expectError(await accounts.getRaw('12345'), 400, 'invalid_request');
    // A malformed %-escape is the caller's mistake too, and is not said back.
    const malformed = await accounts.getRaw('4111%E0%A41111');
    expectError(malformed, 400, 'invalid_request');
    expect(malformed.text).not.toContain('4111');
  });

  it('shows holds: held and available follow the wire', async () => {
    const pan = await accounts.create({ balance: 5000 });
    await teller.expect(req('0100', { pan, amount: 1200 }), { rc: '00', amount: 1200, balance: 3800 });
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 5000, held: 1200 }));
  });
});

describe('POST /accounts/{pan}/adjust', () => {
  it('credits and debits; the same reference and amount again is the same answer with no second effect', async () => {
    const pan = await accounts.create({ balance: 1000 });
    const credit = await accounts.adjust(pan, { amount: 500, reference: 'ops-credit-1' });
    expect(credit.status, credit.text).toBe(200);
    expect(credit.json).toEqual(view(pan, { balance: 1500 }));
    const again = await accounts.adjust(pan, { amount: 500, reference: 'ops-credit-1' });
    expect(again.status).toBe(200);
    expect(again.json).toEqual(credit.json);
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 1500 }));
    const debit = await accounts.adjust(pan, { amount: -300, reference: 'ops-debit-1' });
    expect(debit.status, debit.text).toBe(200);
    expect(debit.json).toEqual(view(pan, { balance: 1200 }));
    // Still idempotent after other changes: no second effect.
    expect((await accounts.adjust(pan, { amount: 500, reference: 'ops-credit-1' })).status).toBe(200);
    expect((await accounts.adjust(pan, { amount: -300, reference: 'ops-debit-1' })).status).toBe(200);
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 1200 }));
  });

  it('the same reference with another amount -> 409 reference_conflict, nothing changes', async () => {
    const pan = await accounts.create({ balance: 1000 });
    expect((await accounts.adjust(pan, { amount: 250, reference: 'ref-x' })).status).toBe(200);
    expectError(await accounts.adjust(pan, { amount: 251, reference: 'ref-x' }), 409, 'reference_conflict');
    expectError(await accounts.adjust(pan, { amount: -250, reference: 'ref-x' }), 409, 'reference_conflict');
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 1250 }));
  });

  it('a debit making available negative -> 409 insufficient_funds (holds count)', async () => {
    const pan = await accounts.create({ balance: 1000 });
    await teller.expect(req('0100', { pan, amount: 800 }), { rc: '00', amount: 800, balance: 200 });
    expectError(
      await accounts.adjust(pan, { amount: -201, reference: 'too-much' }),
      409,
      'insufficient_funds',
    );
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 1000, held: 800 }));
    const ok = await accounts.adjust(pan, { amount: -200, reference: 'just-enough' });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toEqual(view(pan, { balance: 800, held: 800 }));
    // The refused reference was not used up: with funds back it goes through.
    expect((await accounts.adjust(pan, { amount: 1000, reference: 'top-up' })).status).toBe(200);
    const retried = await accounts.adjust(pan, { amount: -201, reference: 'too-much' });
    expect(retried.status, retried.text).toBe(200);
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 1599, held: 800 }));
  });

  it('concurrent adjusts with one reference: one effect', async () => {
    const pan = await accounts.create({ balance: 1000 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => accounts.adjust(pan, { amount: 77, reference: 'burst' })),
    );
    for (const a of answers) expect(a.status, a.text).toBe(200);
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 1077 }));
  });

  it('an absent account -> 404 account_not_found', async () => {
    expectError(
      await accounts.adjust(makePan('4'), { amount: 10, reference: 'nobody' }),
      404,
      'account_not_found',
    );
  });

  it('adjustments show on the wire: a credited account can spend it', async () => {
    const pan = await accounts.create({ balance: 0 });
    await teller.expect(req('0200', { pan, amount: 100 }), { rc: '51' });
    expect((await accounts.adjust(pan, { amount: 100, reference: 'fund' })).status).toBe(200);
    await teller.expect(req('0200', { pan, amount: 100 }), { rc: '00', amount: 100, balance: 0 });
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 0 }));
  });
});

describe('400 invalid_request for every bad field', () => {
  const good = { currency: 'EUR', balance: 100 };
  const putCases: Array<[string, unknown]> = [
    ['currency missing', { balance: 100 }],
    ['currency lower case', { currency: 'eur', balance: 100 }],
    ['currency of 4 letters', { currency: 'EURO', balance: 100 }],
    ['currency as a number', { currency: 978, balance: 100 }],
    ['balance missing', { currency: 'EUR' }],
    ['negative balance', { currency: 'EUR', balance: -1 }],
    ['fractional balance', { currency: 'EUR', balance: 1.5 }],
    ['balance as a string', { currency: 'EUR', balance: '100' }],
    ['balance above 10^15', { currency: 'EUR', balance: 10 ** 15 + 1 }],
    ['an unknown field', { ...good, colour: 'red' }],
    ['limits not an object', { ...good, limits: 5 }],
    ['limits an array', { ...good, limits: [100] }],
    ['a negative limit', { ...good, limits: { perTxnMax: -1 } }],
    ['a limit as a string', { ...good, limits: { dailyMax: '100' } }],
    ['a fractional limit', { ...good, limits: { dailyCountMax: 1.5 } }],
    ['an unknown limit', { ...good, limits: { monthlyMax: 5 } }],
    ['an unknown status', { ...good, status: 'frozen' }],
    ['status as a boolean', { ...good, status: true }],
    ['the body an array', [good]],
    ['the body a string', 'EUR'],
    ['no body', undefined],
  ];

  it.each(putCases)('PUT with %s -> 400, no account created', async (_name, body) => {
    const pan = makePan('4');
    expectError(await accounts.put(pan, body), 400, 'invalid_request');
    expectError(await accounts.getRaw(pan), 404, 'account_not_found');
  });

  it.each(putCases.filter(([name]) => !name.startsWith('balance') && !name.includes('balance')))(
    'PUT with %s on an existing account -> 400, nothing changes',
    async (_name, body) => {
      const pan = await accounts.create({ balance: 100, limits: { perTxnMax: 9 } });
      const before = await accounts.get(pan);
      expectError(await accounts.put(pan, body), 400, 'invalid_request');
      expect(await accounts.get(pan)).toEqual(before);
    },
  );

  it.each([
    ['failing Luhn', breakLuhn(makePan('4'))],
    ['of 11 digits', makePan('4', 11)],
    ['of 20 digits', makePan('4', 20)],
    ['with a letter', '41111111x1111111'],
  ])('PUT on a PAN %s -> 400', async (_name, pan) => {
    expectError(await accounts.put(pan, good), 400, 'invalid_request');
  });

  const adjustCases: Array<[string, unknown]> = [
    ['reference missing', { amount: 10 }],
    ['an empty reference', { amount: 10, reference: '' }],
    ['reference as a number', { amount: 10, reference: 7 }],
    ['amount zero', { amount: 0, reference: 'zero' }],
    ['amount missing', { reference: 'none' }],
    ['a fractional amount', { amount: 1.5, reference: 'frac' }],
    ['amount as a string', { amount: '10', reference: 'str' }],
    ['an unknown field', { amount: 10, reference: 'extra', note: 'hi' }],
    ['the body an array', [{ amount: 10, reference: 'arr' }]],
    ['no body', undefined],
  ];

  it.each(adjustCases)('adjust with %s -> 400, nothing changes', async (_name, body) => {
    const pan = await accounts.create({ balance: 100 });
    expectError(await accounts.adjust(pan, body), 400, 'invalid_request');
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 100 }));
  });

  it('adjust on a PAN failing Luhn -> 400', async () => {
    expectError(
      await accounts.adjust(breakLuhn(makePan('4')), { amount: 1, reference: 'x' }),
      400,
      'invalid_request',
    );
  });

  it('a body that is not JSON -> 400 with a JSON error', async () => {
    const { host, port } = endpoint(stack.sw, 'admin');
    const pan = makePan('4');
    accounts.pans.add(pan);
    const res = await fetch(`http://${host}:${port}/accounts/${pan}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"currency": "EUR", "balance": ',
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    expectError(
      {
        status: res.status,
        contentType: res.headers.get('content-type') ?? '',
        text,
        json: JSON.parse(text),
      },
      400,
    );
    expectError(await accounts.getRaw(pan), 404, 'account_not_found');
  });
});

describe('401 without the token', () => {
  it('PUT, GET, adjust and bulk need the token; nothing happens without it', async () => {
    const pan = makePan('4');
    accounts.pans.add(pan);
    expectError(
      await admin(stack.sw, 'PUT', `/accounts/${pan}`, { body: { currency: 'EUR', balance: 1 } }),
      401,
    );
    expectError(await admin(stack.sw, 'GET', `/accounts/${pan}`), 401);
    expectError(
      await admin(stack.sw, 'PUT', `/accounts/${pan}`, {
        token: 'wrong-token-0000000000',
        body: { currency: 'EUR', balance: 1 },
      }),
      401,
    );
    expectError(await accounts.getRaw(pan), 404, 'account_not_found');
    const existing = await accounts.create({ balance: 100 });
    expectError(
      await admin(stack.sw, 'POST', `/accounts/${existing}/adjust`, {
        body: { amount: 50, reference: 'no-token' },
      }),
      401,
    );
    expect(await accounts.get(existing)).toEqual(view(existing, { balance: 100 }));
    expectError(
      await admin(stack.sw, 'POST', '/accounts/bulk', {
        body: { count: 3, balance: 1, currency: 'EUR', prefix: '4907' },
      }),
      401,
    );
    allPans.add(simPan('4907', 0));
    expectError(await accounts.getRaw(simPan('4907', 0)), 404, 'account_not_found');
  });
});

describe('POST /accounts/bulk', () => {
  const PREFIX = '4900';
  const bulk = (body: unknown) => admin(stack.sw, 'POST', '/accounts/bulk', { token: TOKEN, body });
  const panAt = (i: number) => {
    const pan = simPan(PREFIX, i);
    allPans.add(pan);
    return pan;
  };

  it('creates 2000 accounts with the simulator’s PANs', async () => {
    const answer = await bulk({ count: 2000, balance: 2500, currency: 'USD', prefix: PREFIX });
    expect(answer.status, answer.text).toBe(200);
    const result = answer.json as Record<string, unknown>;
    expect(result).toMatchObject({
      requested: 2000,
      created: 2000,
      existing: 0,
      failed: 0,
      first: masked(panAt(0)),
      last: masked(panAt(1999)),
    });
    expect(typeof result['elapsedMs']).toBe('number');
    for (let i = 0; i < 2000; i++) panAt(i);
    for (const i of [0, 1, 999, 1998, 1999]) {
      expect(await accounts.get(panAt(i))).toEqual(view(panAt(i), { currency: 'USD', balance: 2500 }));
    }
    expectError(await accounts.getRaw(panAt(2000)), 404, 'account_not_found');
    expect(leakedPans(answer.text, allPans)).toEqual([]);
  });

  it('a re-run creates nothing (existing 2000) and leaves existing accounts as they are', async () => {
    expect((await accounts.adjust(panAt(5), { amount: 100, reference: 'before-rerun' })).status).toBe(200);
    await teller.expect(req('0200', { pan: panAt(6), amount: 1000, currency: 'USD' }), {
      rc: '00',
      amount: 1000,
      balance: 1500,
    });
    const answer = await bulk({ count: 2000, balance: 2500, currency: 'USD', prefix: PREFIX });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ requested: 2000, created: 0, existing: 2000, failed: 0 });
    expect(await accounts.get(panAt(5))).toEqual(view(panAt(5), { currency: 'USD', balance: 2600 }));
    expect(await accounts.get(panAt(6))).toEqual(view(panAt(6), { currency: 'USD', balance: 1500 }));
  });

  it('a larger count creates only the new ones', async () => {
    const answer = await bulk({ count: 2100, balance: 2500, currency: 'USD', prefix: PREFIX });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ requested: 2100, created: 100, existing: 2000, failed: 0 });
    expect(await accounts.get(panAt(2099))).toEqual(view(panAt(2099), { currency: 'USD', balance: 2500 }));
  });

  it('with limits', async () => {
    const limits = { perTxnMax: 10, dailyCountMax: 3 };
    const answer = await bulk({ count: 5, balance: 100, currency: 'EUR', prefix: '4901', limits });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ requested: 5, created: 5, existing: 0, failed: 0 });
    const pan = simPan('4901', 4);
    allPans.add(pan);
    expect(await accounts.get(pan)).toEqual(view(pan, { balance: 100, limits }));
    await teller.expect(req('0200', { pan, amount: 11 }), { rc: '61' });
  });

  it.each([
    ['count 0', { count: 0, balance: 1, currency: 'EUR' }],
    ['count missing', { balance: 1, currency: 'EUR' }],
    ['count as a string', { count: '5', balance: 1, currency: 'EUR' }],
    ['a fractional count', { count: 1.5, balance: 1, currency: 'EUR' }],
    ['a bad currency', { count: 1, balance: 1, currency: 'usd', prefix: '4908' }],
    ['a negative balance', { count: 1, balance: -1, currency: 'EUR', prefix: '4908' }],
    ['a prefix with a letter', { count: 1, balance: 1, currency: 'EUR', prefix: '4a' }],
    ['an unknown field', { count: 1, balance: 1, currency: 'EUR', prefix: '4908', colour: 'red' }],
    ['bad limits', { count: 1, balance: 1, currency: 'EUR', prefix: '4908', limits: { perTxnMax: -5 } }],
  ])('%s -> 400 invalid_request, nothing created', async (_name, body) => {
    expectError(await bulk(body), 400, 'invalid_request');
    allPans.add(simPan('4908', 0));
    expectError(await accounts.getRaw(simPan('4908', 0)), 404, 'account_not_found');
  });
});

describe('switchyard accounts seed (CLI)', () => {
  const base = () => {
    const { host, port } = endpoint(stack.sw, 'admin');
    return `http://${host}:${port}`;
  };
  const seed = (prefix: string, token = TOKEN) =>
    runCli([
      'accounts',
      'seed',
      '--count',
      '50',
      '--balance',
      '700',
      '--currency',
      'GBP',
      '--prefix',
      prefix,
      '--admin',
      base(),
      '--token',
      token,
    ]);

  it('creates the accounts through the running switch, and a re-run creates none', async () => {
    const first = await seed('4902');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ requested: 50, created: 50, existing: 0, failed: 0 });
    for (let i = 0; i < 50; i++) allPans.add(simPan('4902', i));
    for (const i of [0, 49]) {
      const pan = simPan('4902', i);
      expect(await accounts.get(pan)).toEqual(view(pan, { currency: 'GBP', balance: 700 }));
    }
    expectError(await accounts.getRaw(simPan('4902', 50)), 404, 'account_not_found');
    const second = await seed('4902');
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ requested: 50, created: 0, existing: 50, failed: 0 });
    expect(leakedPans(first.stdout + first.stderr + second.stdout + second.stderr, allPans)).toEqual([]);
  });

  it('with a wrong token it fails (non-zero exit, the 401 on stderr) and creates nothing', async () => {
    const result = await seed('4903', 'not-the-token-123456789');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('401');
    allPans.add(simPan('4903', 0));
    expectError(await accounts.getRaw(simPan('4903', 0)), 404, 'account_not_found');
  });

  it('without --count it refuses to run (non-zero exit)', async () => {
    const result = await runCli([
      'accounts',
      'seed',
      '--balance',
      '1',
      '--currency',
      'EUR',
      '--admin',
      base(),
      '--token',
      TOKEN,
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr.length).toBeGreaterThan(0);
  });
});

describe('no PAN leaks', () => {
  it('no PAN used by this file appears in the switch’s stdout, stderr or /metrics', async () => {
    for (const pan of accounts.pans) allPans.add(pan);
    expect(allPans.size).toBeGreaterThan(2100);
    const metrics = await admin(stack.sw, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    const logs = [...stack.sw.stdout, ...stack.sw.stderr].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(leakedPans(logs, allPans)).toEqual([]);
    expect(leakedPans(metrics.text, allPans)).toEqual([]);
  });
});
