import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';
import { decodePayload, encodePayload } from '../../src/codec/codec.js';
import { encodeFrameHeader, FrameParser } from '../../src/codec/frame-parser.js';
import { encodeResponses } from '../../src/transport/response-encoder.js';
import { type AnswerRelease, type Msg, type ReleasableAnswers, releaseAtTurnEnd } from './answer-release.js';
import { releaseAfterDurableWrite } from './durable-release.js';

/**
 * The ceiling the switch is measured against: a server with the switch's
 * framing (4-byte length prefix over TCP, one binary message per payload over
 * WebSocket) and codec (the same msgpackr options, the same response
 * encoder), that answers every request map with a small response map shaped
 * like an approval, coalesced per connection per event-loop turn as the
 * switch does, and does nothing else: no validation, no session state, no
 * ledger, no Redis.
 *
 * It speaks just enough of the session (docs/protocol.md section 2) for the
 * unmodified simulator: a challenge on connect, any sign-on answered 0810 rc
 * 00 (no signature check), echo answered, sign-off answered and the
 * connection closed after the flush.
 *
 * With a Redis URL it is the floor server (issue 20): the same, except that
 * the answers to what was read in one event-loop turn leave only after one
 * fsync'd Redis write returns (durable-release.ts), the least a durable
 * answer costs.
 *
 * Run it: `node dist/bench/procs/echo-server.js [--host H] [--tcp-port P] [--ws-port P] [--redis URL]`;
 * it prints one JSON line `{"msg":"echo ready","listen":{"tcp":...,"ws":...},"durable":false}`.
 */

const FRAME_BYTES_MAX = 1024 * 1024;
const BATCH_MAX = 4_096;
const NONCE_BYTES = 32;
const WS_BUFFERED_HIGH_WATER_BYTES = 1024 * 1024;

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface EchoServer {
  readonly tcp: Endpoint;
  readonly ws: Endpoint;
  close(): Promise<void>;
}

/** One side of a connection: how payloads leave, and how reading is paused for back-pressure. */
interface EchoWire {
  /** False when the transport is above its high-water mark. */
  send(payload: Buffer): boolean;
  pause(): void;
  resume(): void;
  end(): void;
}

let rrnCounter = 0;

/** The approval-shaped answer to one request (what the switch sends for an approved 0100/0200). */
function answerTo(msg: Msg): Msg {
  const mti = typeof msg.mti === 'string' ? msg.mti : '0000';
  if (mti === '0800') {
    return { mti: '0810', id: msg.id, code: msg.code, rc: '00' };
  }
  rrnCounter = rrnCounter === 999_999_999 ? 0 : rrnCounter + 1;
  return {
    // 0100 -> 0110, 0200 -> 0210, ...: the third digit is the class's response.
    mti: `${mti.slice(0, 2)}${String(Number(mti[2] ?? '0') + 1)}${mti.slice(3)}`,
    id: msg.id,
    stan: msg.stan,
    rc: '00',
    rrn: String(rrnCounter).padStart(12, '0'),
    authCode: '000001',
    amount: msg.amount,
    balance: 1_000_000_000,
  };
}

class EchoConnection implements ReleasableAnswers {
  private outbox: Msg[] = [];
  private releaseQueued = false;
  private closing = false;

  constructor(
    private readonly wire: EchoWire,
    private readonly release: AnswerRelease,
  ) {
    wire.send(
      encodePayload({
        mti: '0800',
        code: 'challenge',
        nonce: randomBytes(NONCE_BYTES),
        switch: 'echo',
        version: 1,
      }),
    );
  }

  onPayload(payload: Buffer): void {
    if (this.closing) return;
    let value: unknown;
    try {
      value = decodePayload(payload);
    } catch {
      this.wire.end();
      return;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) this.onMessage(value[i] as Msg);
    } else if (typeof value === 'object' && value !== null) {
      this.onMessage(value as Msg);
    }
  }

  onWritable(): void {
    this.wire.resume();
  }

  private onMessage(msg: Msg): void {
    if (msg.mti === '0810') return;
    this.outbox.push(answerTo(msg));
    if (msg.mti === '0800' && msg.code === 'signoff') this.closing = true;
    if (!this.releaseQueued) {
      this.releaseQueued = true;
      this.release.queue(this);
    }
  }

  take(): Msg[] {
    this.releaseQueued = false;
    const responses = this.outbox;
    this.outbox = [];
    return responses;
  }

  /**
   * Writes `responses` (what take() returned), then ends the connection if
   * they answer its sign-off: nothing is read after a sign-off, so its answer
   * is the last of the last batch (the floor server may still be sending an
   * earlier batch when the sign-off is read).
   */
  send(responses: readonly Msg[]): void {
    let writable = true;
    for (const payload of encodeResponses(responses, BATCH_MAX, FRAME_BYTES_MAX)) {
      if (!this.wire.send(payload)) writable = false;
    }
    const last = responses[responses.length - 1];
    if (last?.mti === '0810' && last.code === 'signoff') {
      this.wire.end();
      return;
    }
    if (!writable) this.wire.pause();
  }
}

function tcpWire(socket: Socket): EchoWire {
  return {
    send(payload) {
      if (socket.destroyed || !socket.writable) return true;
      socket.cork();
      socket.write(encodeFrameHeader(payload.length));
      const ok = socket.write(payload);
      socket.uncork();
      return ok;
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => {
      socket.end();
      socket.resume();
    },
  };
}

function wsWire(socket: WebSocket, onWritable: () => void): EchoWire {
  let waiting = false;
  const onSent = (): void => {
    if (waiting && socket.bufferedAmount < WS_BUFFERED_HIGH_WATER_BYTES) {
      waiting = false;
      onWritable();
    }
  };
  return {
    send(payload) {
      if (socket.readyState !== socket.OPEN) return true;
      socket.send(payload, { binary: true }, onSent);
      if (socket.bufferedAmount >= WS_BUFFERED_HIGH_WATER_BYTES) {
        waiting = true;
        return false;
      }
      return true;
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => {
      if (socket.readyState === socket.OPEN) socket.close(1000);
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({ host: address.address, port: address.port });
    });
  });
}

export interface EchoServerOptions {
  readonly host?: string;
  /** 0 (the default): any free port. */
  readonly tcpPort?: number;
  readonly wsPort?: number;
  /** The floor server: answers leave after one fsync'd write to this Redis per turn. */
  readonly redisUrl?: string;
}

/** Starts both listeners. */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const { host = '127.0.0.1', tcpPort = 0, wsPort = 0 } = options;
  const release =
    options.redisUrl === undefined ? releaseAtTurnEnd() : await releaseAfterDurableWrite(options.redisUrl);
  const sockets = new Set<Socket>();
  const tcpServer = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let connection: EchoConnection | undefined;
    const parser = new FrameParser(FRAME_BYTES_MAX, (payload) => connection?.onPayload(payload));
    connection = new EchoConnection(tcpWire(socket), release);
    socket.on('data', (chunk: Buffer) => {
      if (parser.push(chunk) === 'oversize') socket.destroy();
    });
    socket.on('drain', () => connection?.onWritable());
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: FRAME_BYTES_MAX });
  wss.on('connection', (socket) => {
    socket.binaryType = 'nodebuffer';
    let connection: EchoConnection | undefined;
    connection = new EchoConnection(
      wsWire(socket, () => connection?.onWritable()),
      release,
    );
    socket.on('message', (data: Buffer) => connection?.onPayload(data));
    socket.on('error', () => {});
  });
  wss.on('error', () => {});
  const tcp = await listen(tcpServer, host, tcpPort);
  const ws = await listen(http, host, wsPort);
  return {
    tcp,
    ws,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await Promise.all([
        new Promise<void>((resolve) => tcpServer.close(() => resolve())),
        new Promise<void>((resolve) => http.close(() => resolve())),
      ]);
      await release.close();
    },
  };
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index === -1 ? undefined : argv[index + 1];
}

async function main(argv: readonly string[]): Promise<void> {
  const redisUrl = flagValue(argv, 'redis');
  const server = await startEchoServer({
    host: flagValue(argv, 'host') ?? '127.0.0.1',
    tcpPort: Number(flagValue(argv, 'tcp-port') ?? 0),
    wsPort: Number(flagValue(argv, 'ws-port') ?? 0),
    ...(redisUrl === undefined ? {} : { redisUrl }),
  });
  process.stdout.write(
    `${JSON.stringify({ msg: 'echo ready', listen: { tcp: server.tcp, ws: server.ws }, durable: redisUrl !== undefined })}\n`,
  );
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`echo server failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
