import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClientError,
  type ResponseMessage,
  SwitchClient,
  type SwitchClientOptions,
  type SwitchMessageContext,
} from '../../src/client/index.js';
import { type HostConnection, IssuerSwitch } from '../helpers/issuer-switch.js';
import { EVENTUALLY_MS } from '../helpers/processes.js';
import type { Msg } from '../helpers/wire.js';

/*
 * The SDK's issuer side (docs/sdk.md) against the switch's side of the wire
 * emulated on loopback TCP (test/helpers/issuer-switch.ts): forwarded
 * requests answered with the handler's return value, advices acknowledged
 * for the host unless it says otherwise, handler failures, dropped
 * connections.
 */

const ISSUER = 'iss-sdk';
const issuerKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));

let emulator: IssuerSwitch;
const clients: SwitchClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await emulator?.stop();
});

async function start(overrides: Partial<SwitchClientOptions> = {}): Promise<SwitchClient> {
  emulator = new IssuerSwitch([{ id: ISSUER, publicKey: issuerKeys.publicKey }]);
  await emulator.start();
  const client = new SwitchClient({
    transport: 'tcp',
    host: '127.0.0.1',
    port: emulator.port,
    institution: ISSUER,
    role: 'issuer',
    secretKey: issuerKeys.secretKey,
    requestTimeoutMs: EVENTUALLY_MS,
    reconnect: false,
    ...overrides,
  });
  clients.push(client);
  return client;
}

async function signedOnConnection(client: SwitchClient): Promise<HostConnection> {
  await client.connect();
  const [connection] = await emulator.signedOn(1);
  return connection!;
}

function authorization(stan: number, extra: Msg = {}): Msg {
  return {
    mti: '0100',
    stan,
    time: 1_767_225_600_000 + stan,
    pan: '5000000000000009',
    amount: 1250,
    currency: 'USD',
    ...extra,
  };
}

/** Lets a few turns pass, to show that something did not happen. */
function quietFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('SDK issuer side: requests', () => {
  it("answers with the handler's return value, under the request's response MTI and the switch's id", async () => {
    const client = await start();
    const seen: ResponseMessage[] = [];
    client.onRequest((request) => {
      seen.push(request);
      return { rc: '00', authCode: 'A1B2C3', amount: request.amount };
    });
    const connection = await signedOnConnection(client);

    const authId = emulator.forward(connection, authorization(1));
    const purchaseId = emulator.forward(connection, { ...authorization(2), mti: '0200' });

    expect(await connection.nextMessage((m) => m['id'] === authId)).toEqual({
      mti: '0110',
      id: authId,
      rc: '00',
      authCode: 'A1B2C3',
      amount: 1250,
    });
    expect(await connection.nextMessage((m) => m['id'] === purchaseId)).toMatchObject({
      mti: '0210',
      id: purchaseId,
      rc: '00',
    });
    expect(seen[0]).toMatchObject({ mti: '0100', id: authId, acquirer: 'acq-emulated', stan: 1 });
    expect(typeof seen[0]?.rrn).toBe('string');
  });

  it('keeps an mti and id the handler sets, and answers a frame of requests in one frame', async () => {
    const client = await start();
    client.onRequest((request) => ({ rc: '05', ...(request.stan === 3 ? { mti: '0110', id: 'x-3' } : {}) }));
    const connection = await signedOnConnection(client);
    const payloadsBefore = connection.payloadCount;

    connection.send([1, 2, 3].map((stan) => ({ ...authorization(stan), id: 100 + stan })));
    await connection.nextMessage((m) => m['id'] === 'x-3');
    await connection.nextMessage((m) => m['id'] === 102);

    expect(connection.received.map((m) => [m['mti'], m['id'], m['rc']])).toEqual([
      ['0110', 101, '05'],
      ['0110', 102, '05'],
      ['0110', 'x-3', '05'],
    ]);
    // A synchronous handler answers in the turn that read the frame, so the answers share one.
    expect(connection.payloadCount - payloadsBefore).toBe(1);
  });

  it('null answers nothing now; context.respond() answers later, on the same connection, as often as called', async () => {
    const client = await start();
    const contexts: SwitchMessageContext[] = [];
    client.onRequest(async (_request, context) => {
      contexts.push(context);
      return null;
    });
    const connection = await signedOnConnection(client);

    const id = emulator.forward(connection, authorization(1));
    await expect.poll(() => contexts.length).toBe(1);
    await quietFor(50);
    expect(connection.answersTo(id)).toEqual([]);

    expect(contexts[0]!.respond({ rc: '51' })).toBe(true);
    expect(contexts[0]!.respond({ rc: '51' })).toBe(true);
    await expect.poll(() => connection.answersTo(id).length).toBe(2);
    expect(connection.answersTo(id)).toEqual([
      { mti: '0110', id, rc: '51' },
      { mti: '0110', id, rc: '51' },
    ]);
  });

  it('a handler that throws, rejects or returns no answer gets the switch rc 96 and an error event', async () => {
    const client = await start();
    const errors: ClientError[] = [];
    client.on('error', (error) => errors.push(error as ClientError));
    client.onRequest((request) => {
      if (request.stan === 1) throw new Error('database down');
      if (request.stan === 2) return Promise.reject(new Error('timeout in the card system'));
      return undefined as unknown as null;
    });
    const connection = await signedOnConnection(client);

    const ids = [1, 2, 3].map((stan) => emulator.forward(connection, authorization(stan)));
    for (const id of ids) {
      expect(await connection.nextMessage((m) => m['id'] === id)).toEqual({ mti: '0110', id, rc: '96' });
    }
    expect(errors.map((e) => e.code)).toEqual(['HANDLER_FAILED', 'HANDLER_FAILED', 'HANDLER_FAILED']);
    expect(client.connected).toBe(true);
  });

  it('without a handler a request goes unanswered (the switch times it out)', async () => {
    const client = await start();
    const connection = await signedOnConnection(client);
    const id = emulator.forward(connection, authorization(1));
    await quietFor(100);
    expect(connection.answersTo(id)).toEqual([]);
    expect(client.connected).toBe(true);
  });

  it('an answer whose connection dropped is not sent on the next one: respond() says false', async () => {
    const client = await start({ reconnect: { initialDelayMs: 10, maxDelayMs: 20 }, random: () => 0.5 });
    const contexts: SwitchMessageContext[] = [];
    client.onRequest((_request, context) => {
      contexts.push(context);
      return null;
    });
    const first = await signedOnConnection(client);
    emulator.forward(first, authorization(1));
    await expect.poll(() => contexts.length).toBe(1);

    first.destroy();
    const [, second] = await emulator.signedOn(2);

    expect(contexts[0]!.respond({ rc: '00', authCode: 'LATE01' })).toBe(false);
    await quietFor(50);
    expect(second!.received).toEqual([]);
  });
});

describe('SDK issuer side: advices', () => {
  const ADVICES: ReadonlyArray<readonly [string, string]> = [
    ['0120', '0130'],
    ['0121', '0130'],
    ['0220', '0230'],
    ['0221', '0230'],
    ['0420', '0430'],
    ['0421', '0430'],
  ];

  it('acknowledges every advice and repeat with its response MTI and the same id, after onAdvice', async () => {
    const client = await start();
    const seen: string[] = [];
    client.onAdvice(async (advice) => {
      await quietFor(5);
      seen.push(advice.mti);
    });
    const connection = await signedOnConnection(client);

    ADVICES.forEach(([mti], index) => {
      emulator.advise(connection, { ...authorization(index + 1), mti, id: `adv-${index}` });
    });

    for (const [index, [, ackMti]] of ADVICES.entries()) {
      expect(await connection.nextMessage((m) => m['id'] === `adv-${index}`)).toEqual({
        mti: ackMti,
        id: `adv-${index}`,
        rc: '00',
      });
    }
    expect(seen.sort()).toEqual(ADVICES.map(([mti]) => mti).sort());
  });

  it('acknowledges advices unseen when there is no onAdvice, and does not pass them to onRequest', async () => {
    const client = await start();
    const requests: string[] = [];
    client.onRequest((request) => {
      requests.push(request.mti);
      return { rc: '00', authCode: 'ZZ0001' };
    });
    const connection = await signedOnConnection(client);

    emulator.advise(connection, { ...authorization(1), mti: '0420', id: 9_001, orig: { stan: 1, time: 1 } });

    expect(await connection.nextMessage((m) => m['id'] === 9_001)).toEqual({
      mti: '0430',
      id: 9_001,
      rc: '00',
    });
    expect(requests).toEqual([]);
  });

  it('does not acknowledge an advice whose handler throws or rejects (the switch repeats it)', async () => {
    const client = await start();
    const errors: ClientError[] = [];
    client.on('error', (error) => errors.push(error as ClientError));
    let calls = 0;
    client.onAdvice(() => {
      calls++;
      if (calls === 1) throw new Error('ledger busy');
      if (calls === 2) return Promise.reject(new Error('ledger still busy'));
    });
    const connection = await signedOnConnection(client);

    emulator.advise(connection, { ...authorization(1), mti: '0120', id: 'a-1' });
    emulator.advise(connection, { ...authorization(1), mti: '0121', id: 'a-1' });
    await expect.poll(() => errors.length).toBe(2);
    await quietFor(50);
    expect(connection.answersTo('a-1')).toEqual([]);

    // The third delivery is recorded, so it is acknowledged.
    emulator.advise(connection, { ...authorization(1), mti: '0121', id: 'a-1' });
    expect(await connection.nextMessage((m) => m['id'] === 'a-1')).toEqual({
      mti: '0130',
      id: 'a-1',
      rc: '00',
    });
    expect(errors.map((e) => e.code)).toEqual(['HANDLER_FAILED', 'HANDLER_FAILED']);
  });

  it('with autoAcknowledgeAdvices false, acknowledges only when the host calls acknowledge(), and once', async () => {
    const client = await start({ autoAcknowledgeAdvices: false });
    const contexts: SwitchMessageContext[] = [];
    client.onAdvice((_advice, context) => {
      contexts.push(context);
    });
    const connection = await signedOnConnection(client);

    emulator.advise(connection, { ...authorization(1), mti: '0220', id: 42, orig: { stan: 1, time: 1 } });
    await expect.poll(() => contexts.length).toBe(1);
    await quietFor(50);
    expect(connection.answersTo(42)).toEqual([]);

    expect(contexts[0]!.acknowledge()).toBe(true);
    expect(contexts[0]!.acknowledge()).toBe(true);
    await expect.poll(() => connection.answersTo(42).length).toBe(1);
    await quietFor(50);
    expect(connection.answersTo(42)).toEqual([{ mti: '0230', id: 42, rc: '00' }]);
  });

  it('a handler that acknowledges by itself under auto-acknowledgment is acknowledged once', async () => {
    const client = await start();
    client.onAdvice((_advice, context) => {
      context.acknowledge();
    });
    const connection = await signedOnConnection(client);

    emulator.advise(connection, { ...authorization(1), mti: '0120', id: 7 });
    await connection.nextMessage((m) => m['id'] === 7);
    await quietFor(50);
    expect(connection.answersTo(7)).toHaveLength(1);
  });
});

describe('SDK issuer side: dropConnection()', () => {
  it('drops without a sign-off, reports the disconnect, then signs on again with back-off', async () => {
    const client = await start({ reconnect: { initialDelayMs: 10, maxDelayMs: 20 }, random: () => 0.5 });
    const events: string[] = [];
    client.on('disconnect', (error) => events.push(`disconnect ${error.code}`));
    client.on('reconnect', () => events.push('reconnect'));
    client.onRequest(() => ({ rc: '00', authCode: 'OK0001' }));
    const first = await signedOnConnection(client);

    client.dropConnection();
    await first.closed;
    const [, second] = await emulator.signedOn(2);
    await expect.poll(() => events).toEqual(['disconnect DISCONNECTED', 'reconnect']);

    expect(first.signedOff).toBe(false);
    const id = emulator.forward(second!, authorization(1));
    expect(await second!.nextMessage((m) => m['id'] === id)).toMatchObject({ rc: '00' });
  });
});
