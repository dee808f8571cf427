import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import {
  ClientError,
  type ResponseMessage,
  SwitchClient,
  type SwitchClientOptions,
} from '../../src/client/index.js';
import { decodePayload, encodePayload } from '../../src/codec/codec.js';
import { encodeFrame, FrameParser } from '../../src/codec/frame-parser.js';
import { signonSignedBytes } from '../../src/protocol/signon.js';
import { runAcquirerSim } from '../../src/sim/acquirer.js';
import type { SimOptions } from '../../src/sim/args.js';
import { luhnValid } from '../../src/util/pan.js';
import { EVENTUALLY_MS } from '../helpers/processes.js';

/*
 * The SDK against a tiny fake switch on real sockets (TCP, WS, and TLS when
 * openssl is there to make a certificate). The fake speaks docs/protocol.md
 * section 2 (challenge, Ed25519 sign-on checked with tweetnacl, echo,
 * sign-off) and, unless a test holds them, answers every transaction rc 96.
 * The real switch is tested elsewhere; this isolates the client.
 */

type Message = Record<string, unknown>;

const ACQUIRER = 'acq-test';
const ISSUER = 'iss-test';
const acquirerKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(1));
const issuerKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(2));
const strangerKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(3));

const INSTITUTIONS = new Map<string, { role: string; publicKey: Uint8Array }>([
  [ACQUIRER, { role: 'acquirer', publicKey: acquirerKeys.publicKey }],
  [ISSUER, { role: 'issuer', publicKey: issuerKeys.publicKey }],
]);

function isMap(value: unknown): value is Message {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/** Requests and advices: third MTI digit even (0100, 0120), not session traffic. */
function isTransactionRequest(message: Message): boolean {
  const mti = String(message.mti);
  return mti !== '0800' && mti !== '0620' && Number(mti[2]) % 2 === 0;
}

function responseMti(mti: string): string {
  return `${mti.slice(0, 2)}${Number(mti[2]) + 1}0`;
}

class FakeConnection {
  readonly nonce = randomBytes(32);
  /** Every payload received, decoded, in arrival order (a map or an array). */
  readonly payloads: unknown[] = [];
  signedOn = false;
  closed = false;

  constructor(
    readonly kind: 'tcp' | 'ws',
    private readonly write: (payload: Buffer) => void,
    private readonly end: () => void,
    readonly destroy: () => void,
  ) {}

  send(value: unknown): void {
    if (!this.closed) this.write(encodePayload(value));
  }

  close(): void {
    this.end();
  }

  /** Transaction messages received, flattened over payloads. */
  transactions(): Message[] {
    return this.payloads
      .flatMap((payload) => (Array.isArray(payload) ? payload : [payload]))
      .filter((m): m is Message => isMap(m) && isTransactionRequest(m));
  }
}

interface FakeSwitchBehaviour {
  /** Answer transactions at once with rc 96 (default true); false: the test answers. */
  autoAnswer: boolean;
}

class FakeSwitch {
  readonly connections: FakeConnection[] = [];
  readonly behaviour: FakeSwitchBehaviour = { autoAnswer: true };
  private tcpServer: net.Server | undefined;
  private wsServer: WebSocketServer | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly wsSockets = new Set<WsSocket>();
  tcpPort = 0;
  wsPort = 0;

  constructor(private readonly tlsMaterial?: { cert: string; key: string }) {}

  async start(): Promise<void> {
    const onTcp = (socket: net.Socket): void => this.acceptTcp(socket);
    this.tcpServer =
      this.tlsMaterial === undefined ? net.createServer(onTcp) : tls.createServer(this.tlsMaterial, onTcp);
    await new Promise<void>((resolve) => this.tcpServer!.listen(0, '127.0.0.1', resolve));
    this.tcpPort = (this.tcpServer.address() as AddressInfo).port;

    const httpsServer =
      this.tlsMaterial === undefined
        ? undefined
        : (await import('node:https')).createServer(this.tlsMaterial);
    this.wsServer =
      httpsServer === undefined
        ? new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
        : new WebSocketServer({ server: httpsServer, perMessageDeflate: false });
    if (httpsServer !== undefined) {
      await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
      this.wsPort = (httpsServer.address() as AddressInfo).port;
      this.closeHttps = () => new Promise((resolve) => httpsServer.close(() => resolve()));
    } else {
      await new Promise<void>((resolve) => this.wsServer!.once('listening', resolve));
      this.wsPort = (this.wsServer.address() as AddressInfo).port;
    }
    this.wsServer.on('connection', (socket) => this.acceptWs(socket));
  }

  private closeHttps: () => Promise<void> = async () => {};

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    for (const socket of this.wsSockets) socket.terminate();
    await Promise.all([
      new Promise<void>((resolve) =>
        this.tcpServer === undefined ? resolve() : this.tcpServer.close(() => resolve()),
      ),
      new Promise<void>((resolve) =>
        this.wsServer === undefined ? resolve() : this.wsServer.close(() => resolve()),
      ),
    ]);
    await this.closeHttps();
  }

  /** All transactions received on every connection. */
  transactions(): Message[] {
    return this.connections.flatMap((c) => c.transactions());
  }

  private acceptTcp(socket: net.Socket): void {
    this.sockets.add(socket);
    const connection = new FakeConnection(
      'tcp',
      (payload) => socket.write(encodeFrame(payload)),
      () => socket.end(),
      () => socket.destroy(),
    );
    const parser = new FrameParser(1024 * 1024, (payload) => this.onPayload(connection, payload));
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      connection.closed = true;
      this.sockets.delete(socket);
    });
    this.open(connection);
  }

  private acceptWs(socket: WsSocket): void {
    this.wsSockets.add(socket);
    const connection = new FakeConnection(
      'ws',
      (payload) => socket.send(payload, { binary: true }),
      () => socket.close(1000),
      () => socket.terminate(),
    );
    socket.on('message', (data: Buffer) => this.onPayload(connection, data));
    socket.on('error', () => {});
    socket.on('close', () => {
      connection.closed = true;
      this.wsSockets.delete(socket);
    });
    this.open(connection);
  }

  private open(connection: FakeConnection): void {
    this.connections.push(connection);
    connection.send({
      mti: '0800',
      code: 'challenge',
      nonce: connection.nonce,
      switch: 'fake-switch',
      version: 1,
    });
  }

  private onPayload(connection: FakeConnection, payload: Buffer): void {
    const decoded = decodePayload(payload);
    connection.payloads.push(decoded);
    const messages = Array.isArray(decoded) ? decoded : [decoded];
    const answers: Message[] = [];
    for (const message of messages) {
      if (!isMap(message)) continue;
      if (message.mti === '0800') {
        this.onNetwork(connection, message, Array.isArray(decoded));
        continue;
      }
      if (!isTransactionRequest(message) || !this.behaviour.autoAnswer) continue;
      answers.push({ mti: responseMti(String(message.mti)), id: message.id, stan: message.stan, rc: '96' });
    }
    if (answers.length > 0) connection.send(answers.length === 1 ? answers[0] : answers);
  }

  private onNetwork(connection: FakeConnection, message: Message, inBatch: boolean): void {
    const reply = (rc: string): void =>
      connection.send({ mti: '0810', id: message.id, code: message.code, rc });
    switch (message.code) {
      case 'signon': {
        const institution = INSTITUTIONS.get(String(message.institution));
        const sig = message.sig;
        const valid =
          !inBatch &&
          !connection.signedOn &&
          institution !== undefined &&
          institution.role === message.role &&
          sig instanceof Uint8Array &&
          nacl.sign.detached.verify(
            signonSignedBytes(connection.nonce, String(message.institution), institution.role as 'acquirer'),
            sig,
            institution.publicKey,
          );
        if (valid) {
          connection.signedOn = true;
          reply('00');
        } else {
          reply('63');
          connection.close();
        }
        return;
      }
      case 'echo':
        reply('00');
        return;
      case 'signoff':
        reply('00');
        connection.close();
        return;
    }
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = EVENTUALLY_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

let fake: FakeSwitch;
const clients: SwitchClient[] = [];

async function startFake(tlsMaterial?: { cert: string; key: string }): Promise<FakeSwitch> {
  fake = new FakeSwitch(tlsMaterial);
  await fake.start();
  return fake;
}

function makeClient(overrides: Partial<SwitchClientOptions> = {}): SwitchClient {
  const client = new SwitchClient({
    transport: 'tcp',
    host: '127.0.0.1',
    port: overrides.transport === 'ws' ? fake.wsPort : fake.tcpPort,
    institution: ACQUIRER,
    role: 'acquirer',
    secretKey: acquirerKeys.secretKey,
    requestTimeoutMs: EVENTUALLY_MS,
    reconnect: false,
    ...overrides,
  });
  clients.push(client);
  return client;
}

function txn(stan: number, extra: Message = {}): { mti: string; [field: string]: unknown } {
  return {
    mti: '0100',
    stan,
    time: 1_700_000_000_000 + stan,
    pan: '4000000000000002',
    amount: 100,
    currency: 'USD',
    ...extra,
  };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await fake?.stop();
});

describe('SwitchClient sign-on', () => {
  it('signs on over TCP with the sign-on alone in its frame', async () => {
    await startFake();
    const client = makeClient();
    await client.connect();

    expect(client.connected).toBe(true);
    expect(client.switchId).toBe('fake-switch');
    const [connection] = fake.connections;
    expect(connection?.signedOn).toBe(true);
    const first = connection?.payloads[0];
    expect(
      isMap(first) && first.code === 'signon' && first.institution === ACQUIRER && first.role === 'acquirer',
    ).toBe(true);
  });

  it('signs on over WebSocket, on any path', async () => {
    await startFake();
    const client = makeClient({ transport: 'ws', path: '/some/path' });
    await client.connect();

    expect(client.connected).toBe(true);
    expect(fake.connections[0]?.kind).toBe('ws');
    expect(fake.connections[0]?.signedOn).toBe(true);
    const response = await client.request(txn(1));
    expect(response.rc).toBe('96');
  });

  it('rejects SIGNON_REFUSED with the rc when the key is wrong', async () => {
    await startFake();
    const client = makeClient({ secretKey: strangerKeys.secretKey });

    const error = await rejectionOf(client.connect());

    expect(error.code).toBe('SIGNON_REFUSED');
    expect(error.rc).toBe('63');
    expect(client.connected).toBe(false);
    await expect(client.request(txn(1))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });

  it('signs on as an issuer with the issuer key and role', async () => {
    await startFake();
    const client = makeClient({ institution: ISSUER, role: 'issuer', secretKey: issuerKeys.secretKey });
    await client.connect();
    expect(fake.connections[0]?.signedOn).toBe(true);
  });

  it('reports CONNECT_FAILED when nothing listens', async () => {
    await startFake();
    const closedPort = fake.tcpPort;
    await fake.stop();
    const client = makeClient({ port: closedPort });
    await expect(client.connect()).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
  });
});

describe('SwitchClient requests', () => {
  it('matches responses to requests by id when they come back out of order', async () => {
    await startFake();
    fake.behaviour.autoAnswer = false;
    const client = makeClient();
    await client.connect();

    const pending = [client.request(txn(1)), client.request(txn(2)), client.request(txn(3))];
    const connection = fake.connections[0]!;
    await waitFor(() => connection.transactions().length === 3, 'three requests');
    const received = connection.transactions();
    const ids = received.map((m) => m.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.every((id) => typeof id === 'number' && Number.isInteger(id))).toBe(true);

    // Reversed, split over two frames, with an unknown id mixed in (ignored).
    const answers = received
      .map((m) => ({ mti: '0110', id: m.id, stan: m.stan, rc: `0${m.stan}` }))
      .reverse();
    connection.send([answers[0], { mti: '0110', id: 999_999, rc: '00' }]);
    connection.send([answers[1], answers[2]]);

    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.stan)).toEqual([1, 2, 3]);
    expect(responses.map((r) => r.rc)).toEqual(['01', '02', '03']);
  });

  it('keeps a caller-chosen id and refuses a duplicate in flight', async () => {
    await startFake();
    fake.behaviour.autoAnswer = false;
    const client = makeClient();
    await client.connect();

    const first = client.request(txn(1, { id: 'order-42' }));
    await expect(client.request(txn(2, { id: 'order-42' }))).rejects.toMatchObject({ code: 'DUPLICATE_ID' });
    const connection = fake.connections[0]!;
    await waitFor(() => connection.transactions().length === 1, 'the request');
    connection.send({ mti: '0110', id: 'order-42', rc: '00' });
    expect((await first).id).toBe('order-42');
  });

  it('sends requestBatch() as one array frame and resolves in request order', async () => {
    await startFake();
    fake.behaviour.autoAnswer = false;
    const client = makeClient();
    await client.connect();

    const batch = client.requestBatch([txn(1), txn(2), txn(3)]);
    const connection = fake.connections[0]!;
    await waitFor(() => connection.transactions().length === 3, 'the batch');
    const framesAfterSignon = connection.payloads.slice(1);
    expect(framesAfterSignon).toHaveLength(1);
    expect(Array.isArray(framesAfterSignon[0]) && framesAfterSignon[0].length).toBe(3);

    const received = connection.transactions();
    for (const m of [...received].reverse())
      connection.send({ mti: '0110', id: m.id, stan: m.stan, rc: '05' });
    const responses = await batch;
    expect(responses.map((r) => r.stan)).toEqual([1, 2, 3]);
  });

  it('coalesces requests of one event-loop turn into one frame', async () => {
    await startFake();
    const client = makeClient();
    await client.connect();

    const responses = await Promise.all([1, 2, 3, 4, 5].map((stan) => client.request(txn(stan))));

    expect(responses.every((r) => r.rc === '96')).toBe(true);
    const framesAfterSignon = fake.connections[0]!.payloads.slice(1);
    expect(framesAfterSignon).toHaveLength(1);
    expect(Array.isArray(framesAfterSignon[0]) && framesAfterSignon[0].length).toBe(5);
  });

  it('splits a coalesced turn so no frame exceeds batchMax', async () => {
    await startFake();
    const client = makeClient({ batchMax: 2 });
    await client.connect();

    await Promise.all([1, 2, 3, 4, 5].map((stan) => client.request(txn(stan))));

    const sizes = fake.connections[0]!.payloads.slice(1).map((p) => (Array.isArray(p) ? p.length : 1));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('sends one frame per request with coalesce off', async () => {
    await startFake();
    const client = makeClient({ coalesce: false });
    await client.connect();

    await Promise.all([1, 2, 3].map((stan) => client.request(txn(stan))));

    const framesAfterSignon = fake.connections[0]!.payloads.slice(1);
    expect(framesAfterSignon).toHaveLength(3);
    expect(framesAfterSignon.every((p) => isMap(p))).toBe(true);
  });

  it('rejects REQUEST_TIMEOUT when no response comes', async () => {
    await startFake();
    fake.behaviour.autoAnswer = false;
    const client = makeClient({ requestTimeoutMs: 100 });
    await client.connect();

    const error = await rejectionOf(client.request(txn(1)));
    expect(error.code).toBe('REQUEST_TIMEOUT');
    expect(client.connected).toBe(true);
  });

  it('echo() round-trips and signoff() waits for the 0810 and the close', async () => {
    await startFake();
    const client = makeClient();
    await client.connect();

    await client.echo();
    await client.signoff();

    const connection = fake.connections[0]!;
    expect(connection.payloads.slice(1).map((p) => isMap(p) && p.code)).toEqual(['echo', 'signoff']);
    await waitFor(() => connection.closed, 'the server side to see the close');
    expect(client.connected).toBe(false);
  });
});

describe('SwitchClient session duties', () => {
  it("answers the switch's echo with its id", async () => {
    await startFake();
    const client = makeClient();
    await client.connect();
    const connection = fake.connections[0]!;

    connection.send({ mti: '0800', id: 'hb-1', code: 'echo' });
    await waitFor(() => connection.payloads.some((p) => isMap(p) && p.mti === '0810'), 'the echo answer');

    expect(connection.payloads.find((p) => isMap(p) && p.mti === '0810')).toEqual({
      mti: '0810',
      id: 'hb-1',
      code: 'echo',
      rc: '00',
    });
  });

  it("passes the switch's requests to onRequest and sends the answer back", async () => {
    await startFake();
    const client = makeClient({ institution: ISSUER, role: 'issuer', secretKey: issuerKeys.secretKey });
    const seen: ResponseMessage[] = [];
    client.onRequest(async (request) => {
      seen.push(request);
      return { rc: '00', authCode: 'A1B2C3' };
    });
    await client.connect();
    const connection = fake.connections[0]!;

    connection.send({ mti: '0100', id: 77, stan: 5, pan: '5000000000000009', amount: 100, currency: 'USD' });
    await waitFor(() => connection.payloads.some((p) => isMap(p) && p.mti === '0110'), 'the issuer answer');

    expect(seen.map((r) => r.id)).toEqual([77]);
    expect(connection.payloads.find((p) => isMap(p) && p.mti === '0110')).toEqual({
      mti: '0110',
      id: 77,
      rc: '00',
      authCode: 'A1B2C3',
    });
  });

  it('rejects unanswered requests DISCONNECTED when the connection drops', async () => {
    await startFake();
    fake.behaviour.autoAnswer = false;
    const client = makeClient();
    const disconnects: ClientError[] = [];
    client.on('disconnect', (error) => disconnects.push(error));
    await client.connect();

    const pending = client.request(txn(1));
    const connection = fake.connections[0]!;
    await waitFor(() => connection.transactions().length === 1, 'the request');
    connection.destroy();

    const error = await rejectionOf(pending);
    expect(error.code).toBe('DISCONNECTED');
    expect(disconnects.map((e) => e.code)).toEqual(['DISCONNECTED']);
    expect(client.connected).toBe(false);
  });

  it('reconnects and signs on again after the switch drops the socket', async () => {
    await startFake();
    const client = makeClient({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, random: () => 0.5 });
    let reconnects = 0;
    client.on('reconnect', () => reconnects++);
    await client.connect();
    fake.connections[0]!.destroy();

    await waitFor(() => reconnects === 1, 'the reconnect');

    expect(fake.connections).toHaveLength(2);
    expect(fake.connections[1]?.signedOn).toBe(true);
    const response = await client.request(txn(9));
    expect(response.rc).toBe('96');
  });

  it('does not reconnect after close()', async () => {
    await startFake();
    const client = makeClient({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    await client.connect();
    await client.close();
    // Long enough for several reconnect delays; a reconnect would add a connection.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fake.connections).toHaveLength(1);
    await expect(client.request(txn(1))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });
});

/** A throw-away self-signed certificate for 127.0.0.1/localhost, or undefined when openssl is missing. */
function makeCertificate(): { cert: string; key: string } | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-client-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const certificate = makeCertificate();

describe.skipIf(certificate === undefined)('SwitchClient over TLS', () => {
  it('signs on over TLS and over WSS, verifying the switch against the given CA', async () => {
    await startFake({ cert: certificate!.cert, key: certificate!.key });
    const tlsOptions = { ca: certificate!.cert, servername: 'localhost' };

    const overTcp = makeClient({ tls: tlsOptions });
    await overTcp.connect();
    expect((await overTcp.request(txn(1))).rc).toBe('96');

    const overWs = makeClient({ transport: 'ws', tls: tlsOptions });
    await overWs.connect();
    expect((await overWs.request(txn(2))).rc).toBe('96');
  });

  it('refuses a switch whose certificate it cannot verify', async () => {
    await startFake({ cert: certificate!.cert, key: certificate!.key });
    const client = makeClient({ tls: {} });
    await expect(client.connect()).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
  });
});

describe('acquirer simulator', () => {
  function simOptions(overrides: Partial<SimOptions>): SimOptions {
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    return {
      connection: {
        transport: 'tcp',
        host: '127.0.0.1',
        port: fake.tcpPort,
        path: '/',
        tls: undefined,
        institution: ACQUIRER,
        secretKey: acquirerKeys.secretKey,
        requestTimeoutMs: EVENTUALLY_MS,
      },
      ratePerS: 0,
      durationS: undefined,
      count: 60,
      connections: 2,
      inflightMax: 16,
      batch: 4,
      coalesce: true,
      pans: 7,
      prefix: '4',
      amount: 100,
      currency: 'USD',
      mti: '0100',
      seed: 1234,
      json: true,
      progress: false,
      handleSigint: false,
      stdout: sink,
      stderr: sink,
      ...overrides,
    };
  }

  it('sends --count valid requests with unique keys and summarises the answers', async () => {
    await startFake();
    const lines: string[] = [];
    const stdout = { write: (line: string) => lines.push(line) > 0 } as unknown as NodeJS.WritableStream;

    const summary = await runAcquirerSim(simOptions({ stdout }));

    expect(summary).toMatchObject({ sent: 60, answered: 60, errors: 0, rcCounts: { '96': 60 } });
    expect(JSON.parse(lines.join(''))).toMatchObject({ sent: 60, answered: 60 });
    const received = fake.transactions();
    expect(received).toHaveLength(60);
    const keys = new Set(received.map((m) => `${m.pan}/${m.stan}/${m.time}`));
    expect(keys.size).toBe(60);
    for (const m of received) {
      expect(
        typeof m.pan === 'string' && m.pan.length === 16 && m.pan.startsWith('4') && luhnValid(m.pan),
      ).toBe(true);
      expect(Number.isInteger(m.stan) && (m.stan as number) >= 1 && (m.stan as number) <= 999_999).toBe(true);
      expect(m).toMatchObject({ mti: '0100', amount: 100, currency: 'USD' });
    }
    expect(new Set(received.map((m) => m.pan)).size).toBe(7);
    // Both connections were used and signed off at the end.
    expect(fake.connections.filter((c) => c.transactions().length > 0)).toHaveLength(2);
    for (const connection of fake.connections) {
      expect(connection.payloads.some((p) => isMap(p) && p.code === 'signoff')).toBe(true);
    }
    await waitFor(() => fake.connections.every((c) => c.closed), 'both connections to close');
  });

  it('stops on its abort signal and still reports what was answered', async () => {
    await startFake();
    fake.behaviour.autoAnswer = false;
    const controller = new AbortController();

    const run = runAcquirerSim(
      simOptions({ count: undefined, signal: controller.signal, connections: 1, batch: 1 }),
    );
    await waitFor(() => fake.transactions().length === 16, 'the first window of requests');
    const connection = fake.connections[0]!;
    controller.abort();
    for (const m of connection.transactions()) connection.send({ mti: '0110', id: m.id, rc: '51' });
    const summary = await run;

    expect(summary).toMatchObject({ sent: 16, answered: 16, errors: 0, rcCounts: { '51': 16 } });
  });

  it('rejects when the sign-on is refused', async () => {
    await startFake();
    const options = simOptions({});
    await expect(
      runAcquirerSim({
        ...options,
        connection: { ...options.connection, secretKey: strangerKeys.secretKey },
      }),
    ).rejects.toMatchObject({ code: 'SIGNON_REFUSED' });
  });
});
