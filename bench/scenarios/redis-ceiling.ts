import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { cpuTimeMs } from '../harness/processes.js';
import { type FsyncMode, startRedis } from '../harness/redis.js';

export type RedisWriteMode = 'pipelined' | 'script';

export interface RedisCeiling {
  readonly fsync: FsyncMode;
  /** pipelined: one XADD command per entry; script: ENTRIES_PER_SCRIPT XADDs inside one EVALSHA. */
  readonly mode: RedisWriteMode;
  readonly redisVersion: string;
  /** Journal entries appended (and acknowledged) per second. */
  readonly entriesPerS: number;
  readonly entryBytes: number;
  /** Entries outstanding at any time. */
  readonly entriesInFlight: number;
  /** CPU redis-server used, in cores (1 = one core busy), and the benchmark client (ioredis). */
  readonly redisCores: number | undefined;
  readonly clientCores: number;
}

/** Journal payload of one effect, as the ledger encodes it: about 80 bytes. */
const ENTRY_BYTES = 80;
/** Streams written round-robin, like the ledger's per-shard journals (`{shard}` tags). */
const STREAMS = 1_024;
const PIPELINE_DEPTH = 256;
const PIPELINES_IN_FLIGHT = 4;
/** Script mode: entries per call (like one ledger commit), keys per call, calls in flight. */
const ENTRIES_PER_SCRIPT = 256;
const KEYS_PER_SCRIPT = 16;
const SCRIPTS_IN_FLIGHT = 4;
const WARMUP_MS = 500;

const XADD_MANY = `
local n = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local blob = ARGV[3]
for i = 0, n - 1 do
  redis.call('XADD', KEYS[(i % #KEYS) + 1], '*', 'd', string.sub(blob, i * size + 1, (i + 1) * size))
end
return n
`;

/**
 * The Redis side of the ceiling: how many journal-sized XADDs (80 bytes, to
 * 1,024 streams) a fresh redis-server with this fsync policy acknowledges per
 * second, measured with ioredis from this process, in two ways:
 *
 * - pipelined: one XADD command per entry, PIPELINES_IN_FLIGHT pipelines of
 *   PIPELINE_DEPTH. ioredis spends more CPU encoding commands and settling
 *   their promises than Redis spends executing them, so this is the client's
 *   limit as much as Redis's (both CPU shares are reported);
 * - script: ENTRIES_PER_SCRIPT XADDs inside one EVALSHA carrying one blob, the
 *   way the ledger commits a batch: the client is nearly idle and Redis
 *   (executing and fsyncing the AOF) is the limit.
 *
 * The switch appends at least one journal entry per approval (and writes the
 * account), so the higher of the two bounds its durable rate from above.
 */
export async function measureRedisCeiling(
  fsync: FsyncMode,
  mode: RedisWriteMode,
  durationMs: number,
): Promise<RedisCeiling> {
  const redis = await startRedis(fsync);
  const client = new Redis(redis.url, { enableAutoPipelining: false, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    const keys = Array.from({ length: STREAMS }, (_, i) => `bench:{${i}}:journal`);
    let next = 0;
    let acknowledged = 0;
    let oneRound: () => Promise<void>;
    let inFlight: number;
    if (mode === 'pipelined') {
      const entry = randomBytes(ENTRY_BYTES);
      inFlight = PIPELINES_IN_FLIGHT;
      oneRound = async () => {
        const pipeline = client.pipeline();
        for (let i = 0; i < PIPELINE_DEPTH; i++) {
          pipeline.xadd(keys[next]!, '*', 'd', entry);
          next = next + 1 === STREAMS ? 0 : next + 1;
        }
        const results = await pipeline.exec();
        for (const [error] of results ?? []) if (error !== null) throw error;
        acknowledged += PIPELINE_DEPTH;
      };
    } else {
      const blob = randomBytes(ENTRY_BYTES * ENTRIES_PER_SCRIPT);
      const sha = String(await client.script('LOAD', XADD_MANY));
      inFlight = SCRIPTS_IN_FLIGHT;
      oneRound = async () => {
        const callKeys = keys.slice(next, next + KEYS_PER_SCRIPT);
        next = (next + KEYS_PER_SCRIPT) % STREAMS;
        await client.evalsha(sha, KEYS_PER_SCRIPT, ...callKeys, ENTRIES_PER_SCRIPT, ENTRY_BYTES, blob);
        acknowledged += ENTRIES_PER_SCRIPT;
      };
    }
    const parallel = async (deadlineMs: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (performance.now() < deadlineMs) await oneRound();
        }),
      );
    };
    await parallel(performance.now() + WARMUP_MS);

    acknowledged = 0;
    const redisCpu0 = cpuTimeMs(redis.pid);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    await parallel(t0 + durationMs);
    const elapsedMs = performance.now() - t0;
    const redisCpu1 = cpuTimeMs(redis.pid);
    const clientCpu = process.cpuUsage(clientCpu0);
    return {
      fsync,
      mode,
      redisVersion: redis.version,
      entriesPerS: (acknowledged * 1000) / elapsedMs,
      entryBytes: ENTRY_BYTES,
      entriesInFlight: inFlight * (mode === 'pipelined' ? PIPELINE_DEPTH : ENTRIES_PER_SCRIPT),
      redisCores:
        redisCpu0 === undefined || redisCpu1 === undefined ? undefined : (redisCpu1 - redisCpu0) / elapsedMs,
      clientCores: (clientCpu.user + clientCpu.system) / 1000 / elapsedMs,
    };
  } finally {
    client.disconnect();
    await redis.stop();
  }
}
