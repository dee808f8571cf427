/**
 * docs/protocol.md section 1: transport and framing, over TCP (length-prefixed) and WebSocket (binary
 * messages). Black box: a real switch process driven by the independent raw client.
 */
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { byId, echo, nextId, responseMti, tx } from '../helpers/messages.js';
import { EVENTUALLY_MS, sleep } from '../helpers/processes.js';
import type { RawClient, TransportKind } from '../helpers/raw-client.js';
import { institutionEntry, makeInstitution, signonBytes } from '../helpers/signon.js';
import { encode, lengthPrefixed, type Msg } from '../helpers/wire.js';

const FRAME_BYTES_MAX = 1024;
const BATCH_MAX = 16;

const acq = makeInstitution('acq-frame', 'acquirer');

let stack: Stack;
const pool = new ClientPool();

beforeAll(async () => {
  stack = await startStack({
    config: {
      institutions: [institutionEntry(acq)],
      limits: { frameBytesMax: FRAME_BYTES_MAX, batchMax: BATCH_MAX, inflightMax: 65_536 },
    },
  });
});

afterEach(() => pool.closeAll());

afterAll(async () => {
  pool.closeAll();
  await stack?.dispose();
});

/** A copy of `m` without `keys`. */
function without(m: Msg, ...keys: string[]): Msg {
  const copy = { ...m };
  for (const k of keys) delete copy[k];
  return copy;
}

/** A batch of echoes whose MessagePack encoding is exactly `bytes` long. */
function echoBatchOfSize(bytes: number): Msg[] {
  const tag = nextId();
  const item = (i: number, len: number): Msg => echo(`${tag}-${i}-`.padEnd(len, 'f'));
  const size = (items: Msg[]) => encode(items).length;
  const items: Msg[] = [];
  while (size([...items, item(items.length, 64)]) <= bytes - 80) items.push(item(items.length, 64));
  for (let a = 8; a <= 64; a++) {
    for (let b = 8; b <= 64; b++) {
      const candidate = [...items, item(items.length, a), item(items.length + 1, b)];
      if (size(candidate) === bytes) return candidate;
    }
  }
  throw new Error(`cannot build an echo batch of exactly ${bytes} bytes`);
}

/** The sign-on frame for a challenge nonce. */
function signonMessage(nonce: Uint8Array, id: unknown): Msg {
  const sig = nacl.sign.detached(signonBytes(nonce, acq.id, acq.role), acq.keys.secretKey);
  return { mti: '0800', id, code: 'signon', institution: acq.id, role: acq.role, sig };
}

async function expectProtocolViolation(client: RawClient): Promise<void> {
  const closed = await client.closedWithin(EVENTUALLY_MS);
  expect(closed).not.toBe('open');
  if (client.transport === 'ws') expect(closed === 'open' ? undefined : closed.code).toBe(1007);
}

describe.each<TransportKind>(['tcp', 'ws'])('section 1 framing over %s', (transport) => {
  const signedOn = () => pool.signedOn(at(stack.sw, transport), acq);

  if (transport === 'tcp') {
    it('reassembles a frame split at every byte boundary (two writes each)', async () => {
      const client = await signedOn();
      const frame = lengthPrefixed(encode(echo('split-probe')));
      for (let cut = 1; cut < frame.length; cut++) {
        const id = `split-${cut}`;
        const bytes = lengthPrefixed(encode(echo(id)));
        await client.writeRaw(bytes.subarray(0, cut));
        await sleep(3);
        await client.writeRaw(bytes.subarray(cut));
        expect(await client.nextMessage(byId(id))).toMatchObject({ mti: '0810', rc: '00' });
      }
    });

    it('accepts a sign-on and a transaction written one byte at a time', async () => {
      const client = await pool.connect(at(stack.sw, 'tcp'));
      const nonce = (await client.challenge())['nonce'] as Uint8Array;
      for (const byte of lengthPrefixed(encode(signonMessage(nonce, 'bytewise')))) {
        await client.writeRaw(Buffer.from([byte]));
        await sleep(1);
      }
      expect(await client.nextMessage(byId('bytewise'))).toMatchObject({ mti: '0810', rc: '00' });
      const request = tx('0100');
      for (const byte of lengthPrefixed(encode(request))) {
        await client.writeRaw(Buffer.from([byte]));
        await sleep(1);
      }
      expect(await client.nextMessage(byId(request['id']))).toMatchObject({
        mti: '0110',
        stan: request['stan'],
      });
    });

    it('handles many frames in one write', async () => {
      const client = await signedOn();
      const requests: Msg[] = [];
      for (let i = 0; i < 40; i++) requests.push(i % 4 === 0 ? tx('0200') : echo());
      await client.writeRaw(Buffer.concat(requests.map((r) => lengthPrefixed(encode(r)))));
      for (const r of requests) {
        const answer = await client.nextMessage(byId(r['id']));
        expect(answer['mti']).toBe(r['mti'] === '0800' ? '0810' : '0210');
      }
    });

    it('closes on a length header over frameBytesMax without waiting for the body', async () => {
      const client = await signedOn();
      const header = Buffer.alloc(4);
      header.writeUInt32BE(0x7fffffff, 0);
      await client.writeRaw(header);
      expect(await client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
    });
  } else {
    it('reassembles a message sent as fragments (continuation frames)', async () => {
      const client = await pool.connect(at(stack.sw, 'ws'));
      const nonce = (await client.challenge())['nonce'] as Uint8Array;
      await client.sendFragmented(encode(signonMessage(nonce, 'fragmented')), 1);
      expect(await client.nextMessage(byId('fragmented'))).toMatchObject({ mti: '0810', rc: '00' });
      const request = tx('0100');
      await client.sendFragmented(encode(request), 7);
      expect(await client.nextMessage(byId(request['id']))).toMatchObject({
        mti: '0110',
        stan: request['stan'],
      });
    });

    it('handles many messages sent back to back', async () => {
      const client = await signedOn();
      const requests: Msg[] = [];
      for (let i = 0; i < 40; i++) requests.push(i % 4 === 0 ? tx('0200') : echo());
      for (const r of requests) client.send(r);
      for (const r of requests) {
        const answer = await client.nextMessage(byId(r['id']));
        expect(answer['mti']).toBe(r['mti'] === '0800' ? '0810' : '0210');
      }
    });

    it('closes with 1003 on a text message', async () => {
      const client = await signedOn();
      client.sendText('{"mti":"0800","id":1,"code":"echo"}');
      const closed = await client.closedWithin(EVENTUALLY_MS);
      expect(closed === 'open' ? 'open' : closed.code).toBe(1003);
    });

    it('accepts connections on an arbitrary path', async () => {
      const client = await pool.signedOn(at(stack.sw, 'ws', { path: '/any/path/at-all?x=1&y=2' }), acq);
      client.send(echo('pathy'));
      expect(await client.nextMessage(byId('pathy'))).toMatchObject({ mti: '0810', rc: '00' });
    });

    it('does not negotiate permessage-deflate', async () => {
      const client = await pool.signedOn(at(stack.sw, 'ws', { offerDeflate: true }), acq);
      expect(client.extensions).toBe('');
    });
  }

  it('answers every message of a batch of batchMax messages', async () => {
    const client = await signedOn();
    const batch: Msg[] = [];
    for (let i = 0; i < BATCH_MAX; i++)
      batch.push(i % 4 === 0 ? [tx('0100'), tx('0200'), tx('0400')][i % 3]! : echo());
    expect(encode(batch).length).toBeLessThanOrEqual(FRAME_BYTES_MAX);
    client.send(batch);
    const answers = await client.collect((m) => batch.some((r) => r['id'] === m['id']), batch.length);
    for (const r of batch) {
      const answer = answers.find((a) => a['id'] === r['id']);
      expect(answer?.['mti']).toBe(r['mti'] === '0800' ? '0810' : responseMti(r['mti'] as string));
    }
    expect(new Set(answers.map((a) => a['id'])).size).toBe(batch.length);
  });

  it('accepts a payload of exactly frameBytesMax bytes', async () => {
    const client = await signedOn();
    const batch = echoBatchOfSize(FRAME_BYTES_MAX);
    expect(encode(batch).length).toBe(FRAME_BYTES_MAX);
    client.send(batch);
    await client.collect((m) => batch.some((r) => r['id'] === m['id']), batch.length);
    expect(client.isClosed).toBe(false);
  });

  it(`closes on a payload of frameBytesMax + 1 bytes${transport === 'ws' ? ' (1009)' : ''}`, async () => {
    const client = await signedOn();
    const batch = echoBatchOfSize(FRAME_BYTES_MAX + 1);
    client.send(batch);
    const closed = await client.closedWithin(EVENTUALLY_MS);
    expect(closed).not.toBe('open');
    if (transport === 'ws') expect(closed === 'open' ? undefined : closed.code).toBe(1009);
    expect(client.received.filter((m) => batch.some((r) => r['id'] === m['id']))).toEqual([]);
  });

  const violations: Array<[string, () => Buffer]> = [
    ['the never-used byte 0xc1', () => Buffer.from([0xc1])],
    ['a truncated map', () => Buffer.from([0x82, 0xa3, 0x6d, 0x74, 0x69])],
    ['a str32 header claiming 4 GiB', () => Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x41])],
    ['random bytes', () => Buffer.concat([Buffer.from([0xc1]), randomBytes(200)])],
    ['a top-level integer', () => encode(5)],
    ['a top-level string', () => encode('0800')],
    ['a top-level nil', () => Buffer.from([0xc0])],
    ['a top-level bin', () => encode(Buffer.from([1, 2, 3]))],
    ['an empty array', () => Buffer.from([0x90])],
    ['an array holding a non-map', () => encode([echo(), 5])],
    ['an array of arrays', () => encode([[echo()]])],
    ['a batch of batchMax + 1 messages', () => encode(Array.from({ length: BATCH_MAX + 1 }, () => echo()))],
    ['two maps back to back in one payload', () => Buffer.concat([encode(echo()), encode(echo())])],
  ];

  it.each(violations)(
    `treats %s as a protocol violation (${transport === 'tcp' ? 'close' : 'close 1007'})`,
    async (_name, payload) => {
      const client = await signedOn();
      client.sendPayload(payload());
      await expectProtocolViolation(client);
    },
  );

  it.each<[string, () => Msg]>([
    ['0100 with a string stan', () => ({ ...tx('0100'), stan: 'twelve' })],
    ['0200 without amount', () => without(tx('0200'), 'amount')],
    ['0400 without orig', () => without(tx('0400'), 'orig')],
    ['0220 with a lower-case currency', () => ({ ...tx('0220'), currency: 'eur' })],
  ])(
    'answers a valid map that is not a valid request (%s) with the response MTI, id, rc 30, error',
    async (_name, make) => {
      const client = await signedOn();
      const request = make();
      client.send(request);
      const answer = await client.nextMessage(byId(request['id']));
      expect(answer).toMatchObject({
        mti: responseMti(request['mti'] as string),
        id: request['id'],
        rc: '30',
      });
      expect(typeof answer['error']).toBe('string');
      expect((answer['error'] as string).length).toBeGreaterThan(0);
      client.send(echo('after-30'));
      expect(await client.nextMessage(byId('after-30'))).toMatchObject({ rc: '00' });
    },
  );

  it.each<[string, () => Msg]>([
    ['no mti', () => ({ id: nextId(), code: 'echo' })],
    ['no mti, transaction fields', () => without(tx('0100'), 'mti')],
    ['mti 0300', () => ({ ...tx('0100'), mti: '0300' })],
    ['mti 9999', () => ({ ...tx('0100'), mti: '9999' })],
    ['mti abcd', () => ({ ...tx('0100'), mti: 'abcd' })],
    ['mti 01000', () => ({ ...tx('0100'), mti: '01000' })],
    ['mti as the number 100', () => ({ ...tx('0100'), mti: 100 })],
  ])('answers a map with %s with a 0620 reject notice (rc 12, id, error)', async (_name, make) => {
    const client = await signedOn();
    const request = make();
    client.send(request);
    const answer = await client.nextMessage(byId(request['id']));
    expect(answer).toMatchObject({ mti: '0620', id: request['id'], rc: '12' });
    expect(typeof answer['error']).toBe('string');
    client.send(echo('after-0620'));
    expect(await client.nextMessage(byId('after-0620'))).toMatchObject({ rc: '00' });
  });

  it('answers a map without mti nor id with a 0620 notice that carries no id', async () => {
    const client = await signedOn();
    client.send({ code: 'echo', stan: 5 });
    const answer = await client.nextMessage((m) => m['mti'] === '0620');
    expect(answer).toMatchObject({ rc: '12' });
    expect(answer['id']).toBeUndefined();
    expect(client.isClosed).toBe(false);
  });

  it('keeps serving a connection while other clients misbehave', async () => {
    const good = await signedOn();
    let answered = 0;
    const work = async () => {
      for (let round = 0; round < 25; round++) {
        const batch = [tx('0100'), echo()];
        good.send(batch);
        for (const r of batch) {
          const answer = await good.nextMessage(byId(r['id']));
          expect(answer['mti']).toBe(r['mti'] === '0800' ? '0810' : '0110');
          answered++;
        }
        await sleep(10);
      }
    };
    const misbehave = async () => {
      const tcp = () => pool.connect(at(stack.sw, 'tcp'));
      const ws = () => pool.connect(at(stack.sw, 'ws'));
      (await tcp()).writeRaw(randomBytes(3000));
      const torn = await tcp();
      await torn.writeRaw(lengthPrefixed(encode(echo())).subarray(0, 9));
      torn.destroy();
      const big = await tcp();
      const header = Buffer.alloc(4);
      header.writeUInt32BE(FRAME_BYTES_MAX * 64, 0);
      big.writeRaw(Buffer.concat([header, randomBytes(4096)]));
      (await tcp()).writeRaw(Buffer.from([0, 0])); // slow loris: half a header, left open
      (await ws()).sendText('hello');
      (await ws()).sendPayload(randomBytes(300));
      (await ws()).sendPayload(randomBytes(FRAME_BYTES_MAX * 4));
      const signedBad = await signedOn();
      signedBad.sendPayload(Buffer.from([0xc1, 0xc1]));
      signedBad.send([]);
      const abrupt = await ws();
      abrupt.destroy();
    };
    await Promise.all([work(), misbehave()]);
    expect(answered).toBe(50);
    expect(good.isClosed).toBe(false);
    expect(good.badPayloads).toEqual([]);
    // New connections are still served.
    const fresh = await signedOn();
    fresh.send(echo('fresh'));
    expect(await fresh.nextMessage(byId('fresh'))).toMatchObject({ rc: '00' });
  });
});

describe('after the abuse', () => {
  it('the switch process is still running', () => {
    expect(stack.sw.running()).toBe(true);
  });
});
