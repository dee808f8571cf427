import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { NODE_FLAG_NO_MEMORY_REDUCER } from '../../src/runtime/gc-tuning.js';
import { LineFeed, makeTempDir, removeTempDir, spawnTracked, waitForLine } from '../harness/processes.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface Listen {
  readonly tcp: Endpoint;
  readonly ws: Endpoint;
}

/** An institution a simulator signs on as (a fresh key pair per switch). */
export interface HostCredentials {
  readonly institution: string;
  /** tweetnacl secret key, base64: the simulator's --secret-key. */
  readonly secretKeyBase64: string;
}

export interface RunningSwitch {
  readonly pid: number;
  readonly listen: Listen;
  readonly acquirer: HostCredentials;
  /** The issuer that PANs starting with ISSUER_PREFIX are routed to (`sim issuer` signs on as it). */
  readonly issuer: HostCredentials;
  /** POST /accounts/bulk: creates the simulator's first `count` PANs (create-only). */
  seedAccounts(count: number): Promise<SeedResult>;
  /** Issuer connections signed on now, from GET /metrics (`switchyard_connections{role="issuer"}`). */
  issuerConnections(): Promise<number>;
  /** The issuer's advices queued and unacknowledged, from GET /metrics (`switchyard_saf_queue_depth`, ~100 ms old). */
  adviceQueueDepth(): Promise<number>;
  /** One admin API call with the admin token: its status and body. */
  adminCall(method: 'GET' | 'POST', path: string): Promise<AdminAnswer>;
  /** The switch's config file (a standalone `switchyard clearing worker --config` reads it too). */
  readonly configPath: string;
  stop(): Promise<void>;
}

export interface AdminAnswer {
  readonly status: number;
  readonly text: string;
}

export interface SeedResult {
  readonly created: number;
  readonly existing: number;
  readonly failed: number;
  readonly elapsedMs: number;
}

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const INSTITUTION = 'acq-bench';
const ISSUER = 'iss-bench';
/** PANs starting with this go to the bench issuer (as in config/demo.json); the on-us ones start with 4. */
export const ISSUER_PREFIX = '5';
/**
 * Stand-in limits no run reaches: the stand-in row approves every request it
 * sends (the simulator's 100 minor units each, a few dozen a PAN per run), as
 * the on-us rows' balances approve all of theirs.
 */
const STAND_IN = { perTxnMax: 1_000_000, dailyMax: 1_000_000_000_000 };
const READY_TIMEOUT_MS = 60_000;
const SEED_TIMEOUT_MS = 300_000;
/** Balance of every seeded account: no run can exhaust it (no 51s in the results). */
const SEED_BALANCE = 1_000_000_000_000;

function endpoint(value: unknown): Endpoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { host, port } = value as { host?: unknown; port?: unknown };
  return typeof host === 'string' && typeof port === 'number' ? { host, port } : undefined;
}

/**
 * Starts `node --no-memory-reducer dist/src/cli/main.js start` (as
 * docs/operations.md says to run the switch) with a generated config: every
 * listener on a free port, the given Redis, one acquirer and one issuer with
 * fresh keys, PANs starting with 4 on the local ledger and PANs starting with
 * 5 routed to the issuer (with stand-in), default workers and limits (what
 * the project ships). Resolves on the "switch ready" log line. `nodeArgs`
 * go before the script (say, --cpu-prof to profile the switch under a load);
 * `config` overrides the generated config's top-level keys, except that its
 * `clearing` is merged into the generated one (which names the outDir);
 * `env` adds to the switch's environment.
 */
export async function startSwitch(
  redisUrl: string,
  options: {
    readonly nodeArgs?: readonly string[];
    readonly config?: Readonly<Record<string, unknown>>;
    /** Environment variables for the switch on top of this process's. */
    readonly env?: Readonly<Record<string, string>>;
  } = {},
): Promise<RunningSwitch> {
  const dir = makeTempDir('switch');
  const keys = nacl.sign.keyPair();
  const issuerKeys = nacl.sign.keyPair();
  const config = {
    switchId: 'switchyard-bench',
    listen: {
      tcp: { host: '127.0.0.1', port: 0 },
      ws: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
    },
    redis: { url: redisUrl },
    admin: { token: ADMIN_TOKEN },
    institutions: [
      { id: INSTITUTION, role: 'acquirer', publicKey: Buffer.from(keys.publicKey).toString('base64') },
      {
        id: ISSUER,
        role: 'issuer',
        publicKey: Buffer.from(issuerKeys.publicKey).toString('base64'),
        standIn: STAND_IN,
      },
    ],
    routes: [
      { prefix: '4', issuer: 'local' },
      { prefix: ISSUER_PREFIX, issuer: ISSUER },
    ],
    dataDir: join(dir, 'data'),
    log: { level: 'info' },
    ...options.config,
    clearing: { outDir: join(dir, 'clearing'), ...(options.config?.['clearing'] as object | undefined) },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const feed = new LineFeed();
  const args = [
    NODE_FLAG_NO_MEMORY_REDUCER,
    ...(options.nodeArgs ?? []),
    'dist/src/cli/main.js',
    'start',
    '--config',
    configPath,
  ];
  const tracked = spawnTracked(process.execPath, args, {
    onLine: feed.push,
    env: { ...process.env, ...options.env },
  });
  let listen: Listen & { admin: Endpoint };
  try {
    listen = await waitForLine(
      tracked,
      feed,
      (parsed) => {
        const entry = parsed as { msg?: unknown; listen?: { tcp?: unknown; ws?: unknown; admin?: unknown } };
        if (entry.msg !== 'switch ready') return undefined;
        const tcp = endpoint(entry.listen?.tcp);
        const ws = endpoint(entry.listen?.ws);
        const admin = endpoint(entry.listen?.admin);
        return tcp && ws && admin ? { tcp, ws, admin } : undefined;
      },
      READY_TIMEOUT_MS,
      'switch',
    );
  } catch (error) {
    await tracked.stop();
    removeTempDir(dir);
    throw error;
  }
  const admin = listen.admin;
  return {
    pid: tracked.pid,
    listen: { tcp: listen.tcp, ws: listen.ws },
    acquirer: { institution: INSTITUTION, secretKeyBase64: Buffer.from(keys.secretKey).toString('base64') },
    issuer: { institution: ISSUER, secretKeyBase64: Buffer.from(issuerKeys.secretKey).toString('base64') },
    seedAccounts: (count) => seed(admin, count),
    issuerConnections: async () =>
      sample(await getText(admin, '/metrics'), 'switchyard_connections{role="issuer"}'),
    adviceQueueDepth: async () =>
      sample(await getText(admin, '/metrics'), `switchyard_saf_queue_depth{issuer="${ISSUER}"}`),
    adminCall: (method, path) => adminCall(admin, method, path),
    configPath,
    stop: async () => {
      await tracked.stop(30_000);
      removeTempDir(dir);
    },
  };
}

/** The value of one sample (`name{labels}` as Prometheus text writes it) in a /metrics page. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  const value = line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
  if (!Number.isFinite(value)) throw new Error(`GET /metrics: no ${series} sample`);
  return value;
}

function getText(admin: Endpoint, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: admin.host, port: admin.port, method: 'GET', path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        if (res.statusCode === 200) resolve(text);
        else reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${text}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function adminCall(admin: Endpoint, method: 'GET' | 'POST', path: string): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: admin.host,
        port: admin.port,
        method,
        path,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function seed(admin: Endpoint, count: number): Promise<SeedResult> {
  const body = JSON.stringify({ count, balance: SEED_BALANCE, currency: 'USD', prefix: '4' });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: admin.host,
        port: admin.port,
        method: 'POST',
        path: '/accounts/bulk',
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        timeout: SEED_TIMEOUT_MS,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`POST /accounts/bulk: HTTP ${res.statusCode}: ${text}`));
            return;
          }
          const result = JSON.parse(text) as SeedResult;
          if (result.failed > 0) reject(new Error(`seeding failed for ${result.failed} accounts`));
          else resolve(result);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('POST /accounts/bulk timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
