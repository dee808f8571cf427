/**
 * docs/protocol.md section 2: challenge, sign-on, echo, heartbeat, sign-off. Black box: a real switch
 * process over TCP and WebSocket, driven by the independent raw client.
 */
import nacl from 'tweetnacl';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { byId, echo, nextId, responseMti, tx } from '../helpers/messages.js';
import { EVENTUALLY_MS, sleep } from '../helpers/processes.js';
import type { TransportKind } from '../helpers/raw-client.js';
import {
  institutionEntry,
  makeInstitution,
  malleate,
  type SignOnOverrides,
  signOn,
  signonBytes,
  signSignon,
} from '../helpers/signon.js';
import { TEST_SWITCH_ID } from '../helpers/switch-process.js';
import type { Msg } from '../helpers/wire.js';

const SIGNON_TIMEOUT_MS = 1500;
const HEARTBEAT_MS = 1200;
/** Timer slack for "not before" checks: the switch's clock starts a little before ours. */
const EARLY_SLACK_MS = 250;

const acq = makeInstitution('acq-1', 'acquirer');
const acq2 = makeInstitution('acq-2', 'acquirer');
const iss = makeInstitution('iss-1', 'issuer');

let stack: Stack;
const pool = new ClientPool();

beforeAll(async () => {
  stack = await startStack({
    config: {
      institutions: [institutionEntry(acq), institutionEntry(acq2), institutionEntry(iss)],
      signonTimeoutMs: SIGNON_TIMEOUT_MS,
      heartbeatMs: HEARTBEAT_MS,
    },
  });
});

afterEach(() => pool.closeAll());

afterAll(async () => {
  pool.closeAll();
  await stack?.dispose();
});

describe.each<TransportKind>(['tcp', 'ws'])('section 2 sessions over %s', (transport) => {
  const open = (extra: { autoAnswerEcho?: boolean } = {}) => pool.connect(at(stack.sw, transport, extra));

  it('sends the challenge on connect: 0800 challenge, 32-byte bin nonce, switch id, version 1', async () => {
    const client = await open();
    const challenge = await client.challenge();
    expect(challenge['mti']).toBe('0800');
    expect(challenge['code']).toBe('challenge');
    expect(challenge['nonce']).toBeInstanceOf(Uint8Array);
    expect((challenge['nonce'] as Uint8Array).length).toBe(32);
    expect(challenge['switch']).toBe(TEST_SWITCH_ID);
    expect(challenge['version']).toBe(1);
  });

  it('uses a fresh nonce on every connection', async () => {
    const nonces: string[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await open();
      const nonce = Buffer.from((await client.challenge())['nonce'] as Uint8Array);
      expect(nonce.equals(Buffer.alloc(32))).toBe(false);
      nonces.push(nonce.toString('hex'));
    }
    expect(new Set(nonces).size).toBe(4);
  });

  it('accepts a good acquirer sign-on: 0810 signon rc 00, id echoed', async () => {
    const client = await open();
    const answer = await signOn(client, acq, { id: 'so-acq-1' });
    expect(answer).toMatchObject({ mti: '0810', id: 'so-acq-1', code: 'signon', rc: '00' });
    // Signed on: an echo is answered 00 and the connection stays open.
    client.send(echo(77));
    expect(await client.nextMessage(byId(77))).toMatchObject({ mti: '0810', code: 'echo', rc: '00' });
    expect(client.isClosed).toBe(false);
  });

  it('accepts a good issuer sign-on with a numeric id', async () => {
    const client = await open();
    const answer = await signOn(client, iss, { id: 4242 });
    expect(answer).toMatchObject({ mti: '0810', id: 4242, code: 'signon', rc: '00' });
  });

  it('the tweetnacl-made malleated signature is one tweetnacl itself accepts (precondition)', () => {
    const nonce = nacl.randomBytes(32);
    const bytes = signonBytes(nonce, acq.id, acq.role);
    const sig = signSignon(acq.keys.secretKey, nonce, acq.id, acq.role);
    const bad = malleate(sig);
    expect(Buffer.from(bad).equals(Buffer.from(sig))).toBe(false);
    expect(nacl.sign.detached.verify(bytes, bad, acq.keys.publicKey)).toBe(true);
  });

  const refused: Array<[string, (nonce: Uint8Array) => SignOnOverrides]> = [
    ['an unknown institution', () => ({ institution: 'nobody' })],
    ['an acquirer key signing on as issuer (wrong role)', () => ({ role: 'issuer' })],
    ['an acquirer signing on with the issuer key', () => ({ secretKey: iss.keys.secretKey })],
    [
      'a signature with one bit flipped',
      (nonce) => {
        const sig = signSignon(acq.keys.secretKey, nonce, acq.id, acq.role);
        sig[10] = sig[10]! ^ 0x01;
        return { sig };
      },
    ],
    ['a signature over another nonce', () => ({ nonce: nacl.randomBytes(32) })],
    [
      "a signature over another institution's bytes",
      (nonce) => ({ sig: signSignon(acq.keys.secretKey, nonce, acq2.id, acq.role) }),
    ],
    [
      'another institution signing as acq-1',
      (nonce) => ({ sig: signSignon(acq2.keys.secretKey, nonce, acq.id, acq.role) }),
    ],
    [
      'a malleated signature (S + L)',
      (nonce) => ({ sig: malleate(signSignon(acq.keys.secretKey, nonce, acq.id, acq.role)) }),
    ],
    ['64 zero bytes', () => ({ sig: new Uint8Array(64) })],
  ];

  it.each(refused)('refuses %s with rc 63 and closes', async (_name, make) => {
    const client = await open();
    const challenge = await client.challenge();
    const nonce = challenge['nonce'] as Uint8Array;
    const o = make(nonce);
    const institution = o.institution ?? acq.id;
    const role = o.role ?? acq.role;
    const sig = o.sig ?? signSignon(o.secretKey ?? acq.keys.secretKey, o.nonce ?? nonce, institution, role);
    const id = nextId();
    client.send({ mti: '0800', id, code: 'signon', institution, role, sig });
    const answer = await client.nextMessage(byId(id));
    expect(answer).toMatchObject({ mti: '0810', id, code: 'signon', rc: '63' });
    expect(answer['rrn']).toBeUndefined();
    expect(await client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
  });

  it('refuses a signature over another connection’s nonce', async () => {
    const first = await open();
    const otherNonce = (await first.challenge())['nonce'] as Uint8Array;
    const client = await open();
    const answer = await signOn(client, acq, { nonce: otherNonce });
    expect(answer).toMatchObject({ mti: '0810', code: 'signon', rc: '63' });
    expect(await client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
    // The connection whose nonce it was is untouched and can still sign on.
    const own = signSignon(acq.keys.secretKey, otherNonce, acq.id, acq.role);
    first.send({ mti: '0800', id: 'first', code: 'signon', institution: acq.id, role: acq.role, sig: own });
    expect(await first.nextMessage(byId('first'))).toMatchObject({ mti: '0810', rc: '00' });
  });

  it('answers every request before sign-on with its response MTI and rc 63, without processing it', async () => {
    const client = await open();
    await client.challenge();
    const invalid = tx('0100');
    delete invalid['stan']; // 63 is checked before 30
    const requests: Msg[] = [tx('0100'), tx('0200'), tx('0220'), tx('0400'), tx('0101'), tx('0401'), invalid];
    for (const r of requests) client.send(r);
    for (const r of requests) {
      const answer = await client.nextMessage(byId(r['id']));
      expect(answer).toMatchObject({ mti: responseMti(r['mti'] as string), id: r['id'], rc: '63' });
      expect(answer['rrn']).toBeUndefined();
      expect(answer['authCode']).toBeUndefined();
    }
    client.send(echo('pre-echo'));
    expect(await client.nextMessage(byId('pre-echo'))).toMatchObject({ mti: '0810', rc: '63' });
    // A batch before sign-on: each message gets its own 63.
    const batch = [tx('0100'), tx('0200')];
    client.send(batch);
    for (const r of batch) {
      expect(await client.nextMessage(byId(r['id']))).toMatchObject({
        mti: responseMti(r['mti'] as string),
        rc: '63',
      });
    }
  });

  it('still lets the host sign on after a request was refused with 63', async () => {
    const client = await open();
    await client.challenge();
    const request = tx('0100');
    client.send(request);
    expect(await client.nextMessage(byId(request['id']))).toMatchObject({ mti: '0110', rc: '63' });
    // The challenge was consumed; sign over the nonce we kept in `received`.
    const nonce = client.received[0]!['nonce'] as Uint8Array;
    const sig = signSignon(acq.keys.secretKey, nonce, acq.id, acq.role);
    client.send({ mti: '0800', id: 'late', code: 'signon', institution: acq.id, role: acq.role, sig });
    expect(await client.nextMessage(byId('late'))).toMatchObject({ mti: '0810', code: 'signon', rc: '00' });
  });

  it('closes on a sign-off before sign-on, without answering it', async () => {
    const client = await open();
    await client.challenge();
    client.send({ mti: '0800', id: 'early-off', code: 'signoff' });
    expect(await client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
    expect(client.received.filter((m) => m['mti'] !== '0800')).toEqual([]);
  });

  it('closes a connection that does not sign on within signonTimeoutMs (and not before)', async () => {
    const start = Date.now();
    const client = await open({ autoAnswerEcho: false });
    await client.challenge();
    expect(await client.closedWithin(SIGNON_TIMEOUT_MS / 3)).toBe('open');
    expect(await client.closedWithin(SIGNON_TIMEOUT_MS + 10_000)).not.toBe('open');
    expect(Date.now() - start).toBeGreaterThanOrEqual(SIGNON_TIMEOUT_MS - EARLY_SLACK_MS);
  });

  it('answers a second sign-on on a signed-on connection with rc 63', async () => {
    const client = await open();
    const nonce = (await client.challenge())['nonce'] as Uint8Array;
    const sig = signSignon(acq.keys.secretKey, nonce, acq.id, acq.role);
    client.send({ mti: '0800', id: 's1', code: 'signon', institution: acq.id, role: acq.role, sig });
    expect(await client.nextMessage(byId('s1'))).toMatchObject({ mti: '0810', rc: '00' });
    client.send({ mti: '0800', id: 's2', code: 'signon', institution: acq.id, role: acq.role, sig });
    expect(await client.nextMessage(byId('s2'))).toMatchObject({ mti: '0810', id: 's2', rc: '63' });
  });

  it('answers an echo with 0810 echo rc 00 (numeric and string ids)', async () => {
    const client = await open();
    expect((await signOn(client, acq))['rc']).toBe('00');
    for (const id of [0, 123456, 'echo-string-id', 'x'.repeat(64)]) {
      client.send(echo(id));
      expect(await client.nextMessage(byId(id))).toMatchObject({ mti: '0810', id, code: 'echo', rc: '00' });
    }
  });

  it('sends its own echo after heartbeatMs of silence; answering keeps the connection open', async () => {
    const client = await open({ autoAnswerEcho: false });
    expect((await signOn(client, acq))['rc']).toBe('00');
    // The silence starts when the switch got our sign-on, which is no sooner than we sent it.
    // (Not when its answer reached us: a test runner starved of CPU sees that answer late.)
    const quietSince = client.lastSentAtMs;
    const ping = await client.nextMessage(
      (m) => m['mti'] === '0800' && m['code'] === 'echo',
      HEARTBEAT_MS + 10_000,
    );
    expect(Date.now() - quietSince).toBeGreaterThanOrEqual(HEARTBEAT_MS - EARLY_SLACK_MS);
    expect(['number', 'string']).toContain(typeof ping['id']);
    client.send({ mti: '0810', id: ping['id'], code: 'echo', rc: '00' });
    client.autoAnswerEcho = true;
    expect(await client.closedWithin(HEARTBEAT_MS * 3)).toBe('open');
    // The silence after our answer earned another echo, and our 0810 drew no reject notice.
    expect(client.switchEchoes.length).toBeGreaterThanOrEqual(2);
    expect(client.received.filter((m) => m['mti'] === '0620')).toEqual([]);
    client.send(echo('still-here'));
    expect(await client.nextMessage(byId('still-here'))).toMatchObject({ rc: '00' });
  });

  it('does not echo a connection that keeps sending frames', async () => {
    const client = await open({ autoAnswerEcho: false });
    expect((await signOn(client, acq))['rc']).toBe('00');
    for (let i = 0; i < 12; i++) {
      await sleep(HEARTBEAT_MS / 4);
      client.send(echo(`chatty-${i}`));
      expect(await client.nextMessage(byId(`chatty-${i}`))).toMatchObject({ rc: '00' });
    }
    expect(client.switchEchoes).toEqual([]);
    expect(client.isClosed).toBe(false);
  });

  it('closes a connection that does not answer its echo, about heartbeatMs after the echo', async () => {
    const client = await open({ autoAnswerEcho: false });
    expect((await signOn(client, acq))['rc']).toBe('00');
    await client.nextMessage((m) => m['mti'] === '0800' && m['code'] === 'echo', HEARTBEAT_MS + 10_000);
    const echoedAt = Date.now();
    expect(await client.closedWithin(HEARTBEAT_MS * 2 + 10_000)).not.toBe('open');
    expect(Date.now() - echoedAt).toBeGreaterThanOrEqual(HEARTBEAT_MS - EARLY_SLACK_MS);
  });

  it('answers a sign-off with 0810 rc 00, then closes', async () => {
    const client = await open();
    expect((await signOn(client, acq))['rc']).toBe('00');
    client.send({ mti: '0800', id: 'bye', code: 'signoff' });
    expect(await client.nextMessage(byId('bye'))).toMatchObject({ mti: '0810', id: 'bye', rc: '00' });
    expect(await client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
  });

  it('flushes the responses still owed before closing on sign-off', async () => {
    const client = await open();
    expect((await signOn(client, acq))['rc']).toBe('00');
    const a = tx('0100');
    const b = tx('0200');
    client.send([a, b, { mti: '0800', id: 'bye2', code: 'signoff' }]);
    await client.closedWithin(EVENTUALLY_MS);
    const ids = client.received.map((m) => m['id']);
    expect(ids).toEqual(expect.arrayContaining([a['id'], b['id'], 'bye2']));
    expect(client.received.find((m) => m['id'] === a['id'])?.['mti']).toBe('0110');
    expect(client.received.find((m) => m['id'] === b['id'])?.['mti']).toBe('0210');
    expect(client.received.find((m) => m['id'] === 'bye2')).toMatchObject({ mti: '0810', rc: '00' });
    expect(client.isClosed).toBe(true);
  });
});

describe('section 2 roles', () => {
  it('an issuer key cannot sign on as acquirer', async () => {
    const client = await pool.connect(at(stack.sw, 'tcp'));
    const answer = await signOn(client, iss, { role: 'acquirer' });
    expect(answer).toMatchObject({ mti: '0810', rc: '63' });
    expect(await client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
  });

  it('the switch is still running after all of the above', () => {
    expect(stack.sw.running()).toBe(true);
  });
});
