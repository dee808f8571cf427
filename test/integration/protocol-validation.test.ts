/**
 * docs/protocol.md section 3, the checks answered before the ledger: 30 (format), 12 (MTI/proc), 15 (route),
 * 14 (PAN), in that order. A request that passes them reaches the on-us ledger, which holds no
 * account for these PANs: 14 ("no such account at this switch"), still with an rrn. The ledger's own
 * outcomes are tested in ledger-*.test.ts.
 * Routes: "4" -> local, "62" -> the issuer institution iss-valid (never signed on here: rc 91).
 * Every case runs over TCP and WebSocket.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admin, at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { breakLuhn, byId, makePan, nextId, nextStan, responseMti, tx } from '../helpers/messages.js';
import type { RawClient, TransportKind } from '../helpers/raw-client.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { encode, type Msg, raw } from '../helpers/wire.js';

const acq = makeInstitution('acq-valid', 'acquirer');
const iss = makeInstitution('iss-valid', 'issuer');

let stack: Stack;
const shared = new ClientPool();
const pool = new ClientPool();
/** Every PAN this file sends, to prove none of them reaches the logs or metrics. */
const pansUsed = new Set<string>();

beforeAll(async () => {
  stack = await startStack({
    config: {
      institutions: [institutionEntry(acq), institutionEntry(iss)],
      routes: [
        { prefix: '4', issuer: 'local' },
        { prefix: '6011', issuer: 'local' },
        { prefix: '62', issuer: 'iss-valid' },
      ],
      log: { level: 'debug' },
    },
  });
});

afterEach(() => pool.closeAll());

afterAll(async () => {
  shared.closeAll();
  pool.closeAll();
  await stack?.dispose();
});

type Mutation = (m: Msg) => void;
const without =
  (...keys: string[]): Mutation =>
  (m) => {
    for (const k of keys) delete m[k];
  };
const set =
  (key: string, value: unknown): Mutation =>
  (m) => {
    m[key] = value;
  };

/** A request of class `mti` (valid for the local route) with `mutate` applied. */
function request(mti: string, mutate?: Mutation): Msg {
  const m = tx(mti);
  mutate?.(m);
  if (typeof m['pan'] === 'string') pansUsed.add(m['pan']);
  return m;
}

const e16 = 10 ** 15;
const longAscii = (n: number) => 'a'.repeat(n);

/** [name, MTI, mutation] -> rc 30 */
const formatErrors: Array<[string, string, Mutation]> = [
  ['missing stan', '0100', without('stan')],
  ['missing time', '0100', without('time')],
  ['missing pan', '0100', without('pan')],
  ['missing amount', '0100', without('amount')],
  ['missing currency', '0100', without('currency')],
  ['missing amount on 0200', '0200', without('amount')],
  ['missing currency on 0400', '0400', without('currency')],
  ['stan as string', '0100', set('stan', '123')],
  ['stan nil', '0100', set('stan', null)],
  ['stan 0', '0100', set('stan', 0)],
  ['stan 1000000', '0100', set('stan', 1_000_000)],
  ['stan -1', '0100', set('stan', -1)],
  ['stan 1.5', '0100', set('stan', 1.5)],
  ['time as string', '0100', set('time', String(Date.now()))],
  ['time 1.5', '0100', set('time', 1.5)],
  ['time as bool', '0100', set('time', true)],
  ['pan as number', '0100', set('pan', 4111111111111111)],
  ['pan as bin', '0100', set('pan', Buffer.from('4111111111111111'))],
  ['pan nil', '0100', set('pan', null)],
  ['amount -1', '0100', set('amount', -1)],
  ['amount 10^15 + 1', '0200', set('amount', e16 + 1)],
  ['amount 1000.5', '0100', set('amount', 1000.5)],
  ['amount as string', '0100', set('amount', '1000')],
  ['amount nil', '0200', set('amount', null)],
  ['currency lower case', '0100', set('currency', 'eur')],
  ['currency mixed case', '0100', set('currency', 'Eur')],
  ['currency of 2 letters', '0100', set('currency', 'EU')],
  ['currency of 4 letters', '0100', set('currency', 'EURO')],
  ['currency with a digit', '0100', set('currency', 'E1R')],
  ['currency numeric', '0100', set('currency', 978)],
  ['proc as number', '0100', set('proc', 0)],
  ['partial as string', '0100', set('partial', 'true')],
  ['partial as 1', '0200', set('partial', 1)],
  ['merchant of 33 bytes', '0100', set('merchant', longAscii(33))],
  ['merchant of 17 two-byte chars (34 bytes)', '0100', set('merchant', 'é'.repeat(17))],
  ['merchant as number', '0100', set('merchant', 12345)],
  ['terminal of 33 bytes', '0200', set('terminal', longAscii(33))],
  ['terminal as number', '0100', set('terminal', 7)],
  ['mcc of 3 digits', '0100', set('mcc', '541')],
  ['mcc of 5 digits', '0100', set('mcc', '54111')],
  ['mcc with a letter', '0100', set('mcc', '54a1')],
  ['mcc as number', '0100', set('mcc', 5411)],
  ['orig missing on 0220', '0220', without('orig')],
  ['orig missing on 0400', '0400', without('orig')],
  ['orig missing on 0221', '0221', without('orig')],
  ['orig missing on 0401', '0401', without('orig')],
  ['orig not a map', '0400', set('orig', 5)],
  ['orig as array', '0220', set('orig', [1, Date.now()])],
  ['orig without time', '0400', set('orig', { stan: 1 })],
  ['orig without stan', '0220', set('orig', { time: Date.now() })],
  ['orig.stan as string', '0400', set('orig', { stan: '1', time: Date.now() })],
  ['orig.stan 0', '0400', set('orig', { stan: 0, time: Date.now() })],
  // 30 is checked before 12, 15 and 14.
  ['stan 0 with proc 20 on 0100', '0100', (m) => Object.assign(m, { stan: 0, proc: '20' })],
  [
    'missing currency with an unrouted PAN',
    '0100',
    (m) => {
      m['pan'] = makePan('9');
      delete m['currency'];
    },
  ],
];

/** [name, MTI, mutation] -> rc 12 (MTI/proc combination) */
const procErrors: Array<[string, string, Mutation]> = [
  ['proc 20 (refund) on 0100', '0100', set('proc', '20')],
  ['proc 31 (balance) on 0200', '0200', set('proc', '31')],
  ['proc 20 on the repeat 0101', '0101', set('proc', '20')],
  ['proc 31 on the repeat 0201', '0201', set('proc', '31')],
  ['unknown proc 99', '0100', set('proc', '99')],
  ['unknown proc 02', '0200', set('proc', '02')],
  ['empty proc', '0100', set('proc', '')],
  // 12 is checked before 15.
  [
    'proc 20 on 0100 with an unrouted PAN',
    '0100',
    (m) => Object.assign(m, { proc: '20', pan: makePan('9') }),
  ],
];

/** [name, rc, MTI, mutation] -> 15 / 14 */
const panErrors: Array<[string, string, string, Mutation]> = [
  ['no route for the prefix', '15', '0100', set('pan', makePan('9'))],
  ['no route on 0200', '15', '0200', set('pan', makePan('5'))],
  ['no route and bad Luhn (15 first)', '15', '0100', set('pan', breakLuhn(makePan('3')))],
  ['empty pan (matches no prefix)', '15', '0100', set('pan', '')],
  ['bad Luhn', '14', '0100', set('pan', breakLuhn(makePan('4')))],
  ['bad Luhn on 0400', '14', '0400', set('pan', breakLuhn(makePan('4')))],
  ['bad Luhn on a longer route', '14', '0200', set('pan', breakLuhn(makePan('6011')))],
  ['11 digits, Luhn-valid', '14', '0100', set('pan', makePan('4', 11))],
  ['20 digits, Luhn-valid', '14', '0100', set('pan', makePan('4', 20))],
  ['a letter among the digits', '14', '0100', set('pan', `4${'1'.repeat(13)}x1`)],
  ['a space among the digits', '14', '0100', set('pan', `4111 1111 1111 1111`)],
];

/** [name, MTI, mutation] -> passes every pre-ledger check, reaches the ledger: 14 (no such account) */
const passing: Array<[string, string, Mutation]> = [
  ['a plain 0100', '0100', () => {}],
  ['a plain 0200', '0200', () => {}],
  ['a 0220 with orig', '0220', () => {}],
  ['a 0400 with orig', '0400', () => {}],
  ['stan 1', '0100', set('stan', 1)],
  ['stan 999999', '0100', set('stan', 999_999)],
  ['amount 10^15', '0200', set('amount', e16)],
  ['proc 00 on 0100', '0100', set('proc', '00')],
  ['proc 01 on 0200', '0200', set('proc', '01')],
  ['proc 20 on 0200', '0200', set('proc', '20')],
  ['proc 31 with amount 0 on 0100', '0100', (m) => Object.assign(m, { proc: '31', amount: 0 })],
  ['a proc carried by a 0220 is ignored', '0220', set('proc', '99')],
  ['a proc carried by a 0400 is ignored', '0400', set('proc', '20')],
  ['partial true on 0100', '0100', set('partial', true)],
  ['partial false on 0200', '0200', set('partial', false)],
  [
    'merchant and terminal of 32 bytes',
    '0100',
    (m) => Object.assign(m, { merchant: 'é'.repeat(16), terminal: longAscii(32) }),
  ],
  ['mcc 5411', '0100', set('mcc', '5411')],
  ['a 12-digit PAN', '0100', set('pan', makePan('4', 12))],
  ['a 19-digit PAN', '0200', set('pan', makePan('4', 19))],
  ['a PAN on the 6011 route', '0100', set('pan', makePan('6011'))],
  ['id 0', '0100', set('id', 0)],
  ['id 2^53 - 1', '0100', set('id', 2 ** 53 - 1)],
  ['a 64-byte ASCII id', '0100', set('id', `id-${nextId()}-`.padEnd(64, 'z'))],
  ['a 64-byte id of two-byte chars', '0100', set('id', 'é'.repeat(32))],
];

/** [name, mutation] on a 0100 -> rc 30 where the id itself is bad (answer matched by MTI on a fresh connection) */
const badIds: Array<[string, Mutation]> = [
  ['a 65-byte string id', set('id', longAscii(65))],
  ['a 33-char id of 66 bytes', set('id', 'é'.repeat(33))],
  ['id -1', set('id', -1)],
  ['id 1.5', set('id', 1.5)],
  ['id 2^53', set('id', 2n ** 53n)],
  ['id true', set('id', true)],
  ['id as bin', set('id', Buffer.from([1, 2, 3]))],
  ['id as map', set('id', { a: 1 })],
];

describe.each<TransportKind>(['tcp', 'ws'])('section 3 request checks over %s', (transport) => {
  let client: RawClient;

  beforeAll(async () => {
    client = await shared.signedOn(at(stack.sw, transport), acq);
  });

  async function ask(m: Msg): Promise<Msg> {
    client.send(m);
    return client.nextMessage(byId(m['id']));
  }

  it.each(formatErrors)('%s -> rc 30 (on %s)', async (_name, mti, mutate) => {
    const m = request(mti, mutate);
    const answer = await ask(m);
    expect(answer).toMatchObject({ mti: responseMti(mti), id: m['id'], rc: '30' });
    expect(typeof answer['error']).toBe('string');
    expect(answer['rrn']).toBeUndefined();
    expect(answer['authCode']).toBeUndefined();
  });

  it('missing id -> rc 30 without an id', async () => {
    const m = request('0200', without('id'));
    client.send(m);
    const answer = await client.nextMessage((a) => a['mti'] === '0210' && a['id'] === undefined);
    expect(answer).toMatchObject({ rc: '30' });
    expect(typeof answer['error']).toBe('string');
    expect(answer['rrn']).toBeUndefined();
  });

  it.each(badIds)('%s -> rc 30', async (_name, mutate) => {
    const fresh = await pool.signedOn(at(stack.sw, transport), acq);
    fresh.send(request('0100', mutate));
    const answer = await fresh.nextMessage((a) => a['mti'] === '0110');
    expect(answer['rc']).toBe('30');
    expect(answer['rrn']).toBeUndefined();
  });

  it.each(procErrors)('%s -> rc 12 (on %s)', async (_name, mti, mutate) => {
    const m = request(mti, mutate);
    const answer = await ask(m);
    expect(answer).toMatchObject({ mti: responseMti(mti), id: m['id'], rc: '12', stan: m['stan'] });
    expect(typeof answer['error']).toBe('string');
    expect(answer['rrn']).toMatch(/^.{12}$/);
  });

  it.each(panErrors)('%s -> rc %s (on %s)', async (_name, rc, mti, mutate) => {
    const m = request(mti, mutate);
    const answer = await ask(m);
    expect(answer).toMatchObject({ mti: responseMti(mti), id: m['id'], rc, stan: m['stan'] });
    expect(answer['rrn']).toMatch(/^.{12}$/);
  });

  it.each(passing)(
    '%s passes the checks -> the ledger: rc 14 (no such account) with an rrn (on %s)',
    async (_name, mti, mutate) => {
      const m = request(mti, mutate);
      const answer = await ask(m);
      expect(answer).toMatchObject({ mti: responseMti(mti), id: m['id'], rc: '14', stan: m['stan'] });
      expect(typeof answer['rrn']).toBe('string');
      expect(answer['rrn']).toMatch(/^.{12}$/);
      expect(answer['authCode']).toBeUndefined();
    },
  );

  it('answers the repeats 0101 / 0201 / 0221 / 0401 with the original response MTI', async () => {
    for (const [mti, expected] of [
      ['0101', '0110'],
      ['0201', '0210'],
      ['0221', '0230'],
      ['0401', '0410'],
    ] as const) {
      const m = request(mti);
      const answer = await ask(m);
      expect(answer).toMatchObject({ mti: expected, id: m['id'], stan: m['stan'], rc: '14' });
    }
  });

  it('accepts integers in every MessagePack int width (uint8..uint64, int8..int64)', async () => {
    const widths = [
      ['u8', 'u16', 'u64'],
      ['u16', 'u32', 'i64'],
      ['u32', 'i64', 'u64'],
      ['u64', 'i32', 'i64'],
      ['i32', 'u64', 'u64'],
      ['i64', 'i16', 'i64'],
    ] as const;
    for (const [stanWidth, amountWidth, timeWidth] of widths) {
      const id = nextId();
      const stan = 100 + (nextStan() % 20);
      const pan = makePan('4');
      pansUsed.add(pan);
      const payload = raw.map([
        ['mti', encode('0100')],
        ['id', raw.int(id, 'u64')],
        ['stan', raw.int(stan, stanWidth)],
        ['time', raw.int(Date.now(), timeWidth)],
        ['pan', encode(pan)],
        ['amount', raw.int(amountWidth === 'i16' || amountWidth === 'u16' ? 2500 : 125_000, amountWidth)],
        ['currency', encode('EUR')],
      ]);
      client.sendPayload(payload);
      const answer = await client.nextMessage(byId(id));
      expect(answer).toMatchObject({ mti: '0110', stan, rc: '14' });
    }
  });

  it('answers each message of a batch of mixed outcomes on its own', async () => {
    const batch = [
      request('0100'),
      request('0100', set('stan', 0)),
      request('0100', set('proc', '20')),
      request('0100', set('pan', makePan('9'))),
      request('0100', set('pan', breakLuhn(makePan('4')))),
    ];
    client.send(batch);
    const expected = ['14', '30', '12', '15', '14'];
    for (const [i, m] of batch.entries()) {
      expect(await client.nextMessage(byId(m['id']))).toMatchObject({ mti: '0110', rc: expected[i] });
    }
  });
});

describe.each<TransportKind>(['tcp', 'ws'])('issuer routes over %s', (transport) => {
  it('an issuer that is not signed on and has no stand-in: 91 with an rrn; a completion or reversal of what it never saw, 25', async () => {
    const client = await pool.signedOn(at(stack.sw, transport), acq);
    const expected: Record<string, string> = {
      '0100': '91',
      '0200': '91',
      '0101': '91',
      '0220': '25',
      '0400': '25',
    };
    for (const mti of ['0100', '0200', '0220', '0400', '0101']) {
      const pan = makePan('62');
      pansUsed.add(pan);
      const m = tx(mti, { pan });
      client.send(m);
      const answer = await client.nextMessage(byId(m['id']));
      expect(answer).toMatchObject({
        mti: responseMti(mti),
        id: m['id'],
        stan: m['stan'],
        rc: expected[mti],
      });
      expect(answer['rrn']).toMatch(/^.{12}$/);
      expect(answer['authCode']).toBeUndefined();
    }
  });

  it('an issuer route still gets 30, 12 and 14 first (admission decides before the engine)', async () => {
    const client = await pool.signedOn(at(stack.sw, transport), acq);
    const cases: Array<[Msg, string]> = [
      [
        request('0100', (m) => {
          m['pan'] = makePan('62');
          delete m['amount'];
        }),
        '30',
      ],
      [
        request('0100', (m) => {
          m['pan'] = makePan('62');
          m['proc'] = '20';
        }),
        '12',
      ],
      [
        request('0100', (m) => {
          m['pan'] = breakLuhn(makePan('62'));
        }),
        '14',
      ],
    ];
    for (const [m, rc] of cases) {
      client.send(m);
      expect(await client.nextMessage(byId(m['id']))).toMatchObject({ mti: '0110', rc });
    }
  });

  it("an issuer host's answers with unknown ids are ignored and its session stays up", async () => {
    const issuer = await pool.signedOn(at(stack.sw, transport), iss);
    issuer.send([
      { mti: '0110', id: nextId(), rc: '00', authCode: 'A1B2C3' },
      { mti: '0130', id: nextId(), rc: '00' },
      { mti: '0430', id: 'unknown-advice', rc: '00' },
    ]);
    const echoId = nextId();
    issuer.send({ mti: '0800', id: echoId, code: 'echo' });
    // Nothing answers the three; the echo sent after them is answered, so they were read and passed over.
    expect(await issuer.nextMessage(byId(echoId))).toMatchObject({ mti: '0810', rc: '00' });
    // Answers in order: nothing (no 0620 reject) came before the echo's 0810 but the sign-on's.
    expect(issuer.received.map((m) => m['mti'])).toEqual(['0800', '0810', '0810']);
    expect(issuer.isClosed).toBe(false);
  });
});

describe('no PAN leaks', () => {
  it('no PAN sent by this file appears in stdout, stderr or /metrics', async () => {
    expect(pansUsed.size).toBeGreaterThan(50);
    const metrics = await admin(stack.sw, 'GET', '/metrics');
    const logs = [...stack.sw.stdout, ...stack.sw.stderr].join('\n');
    const leaked = [...pansUsed].filter((pan) => pan.length >= 12 && /^[0-9]+$/.test(pan));
    expect(leaked.filter((pan) => logs.includes(pan))).toEqual([]);
    expect(leaked.filter((pan) => metrics.text.includes(pan))).toEqual([]);
  });
});
