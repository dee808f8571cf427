import { EVENTUALLY_MS } from './processes.js';
import { type ConnectOptions, RawClient, type TransportKind } from './raw-client.js';
import { type RedisHandle, startRedis } from './redis-server.js';
import { connectSignedOn, type Institution } from './signon.js';
import { type Endpoint, type StartOptions, type SwitchProcess, startSwitch } from './switch-process.js';

export interface Stack {
  readonly redis: RedisHandle;
  readonly sw: SwitchProcess;
  /** Stops the switch, then Redis; removes temp dirs. Idempotent. */
  dispose(): Promise<void>;
}

/** A fresh Redis plus a switch using it. On failure everything started is cleaned up. */
export async function startStack(options: StartOptions = {}): Promise<Stack> {
  const redis = await startRedis();
  let sw: SwitchProcess;
  try {
    sw = await startSwitch({ ...options, config: { ...options.config, redis: { url: redis.url } } });
  } catch (e) {
    await redis.stop();
    throw e;
  }
  return {
    redis,
    sw,
    dispose: async () => {
      await sw.dispose();
      await redis.stop();
    },
  };
}

export function endpoint(sw: SwitchProcess, kind: TransportKind | 'admin'): Endpoint {
  const e = sw.listen[kind];
  if (!e) throw new Error(`switch has no ${kind} listener: ${JSON.stringify(sw.listen)}`);
  return e;
}

/** Client options for one of the switch's listeners. */
export function at(
  sw: SwitchProcess,
  transport: TransportKind,
  extra: Partial<ConnectOptions> = {},
): ConnectOptions {
  const { host, port } = endpoint(sw, transport);
  return { transport, host, port, ...extra };
}

/** Tracks clients so afterEach/afterAll can close whatever a failing test left open. */
export class ClientPool {
  private readonly clients = new Set<RawClient>();

  async connect(options: ConnectOptions): Promise<RawClient> {
    return this.track(await RawClient.connect(options));
  }

  async signedOn(options: ConnectOptions, inst: Institution): Promise<RawClient> {
    return this.track(await connectSignedOn(options, inst));
  }

  track(client: RawClient): RawClient {
    this.clients.add(client);
    return client;
  }

  closeAll(): void {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** Parsed body when it is JSON, else undefined. */
  readonly json: unknown;
}

/** One admin HTTP call; `token` adds `Authorization: Bearer <token>`. */
export async function admin(
  sw: SwitchProcess,
  method: string,
  path: string,
  opts: { token?: string; authorization?: string; body?: unknown } = {},
): Promise<HttpAnswer> {
  const { host, port } = endpoint(sw, 'admin');
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.authorization !== undefined) headers['authorization'] = opts.authorization;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://${host}:${port}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(EVENTUALLY_MS),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}
