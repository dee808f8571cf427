import { Redis } from 'ioredis';
import { pack } from 'msgpackr';
import { cpuTimeMs } from '../harness/processes.js';
import { startRedis } from '../harness/redis.js';

/**
 * What Redis spends per approval on the commit's writes, by the shape the
 * writes are sent in: an experiment for the persistence design, not part of
 * `npm run bench`. 10,000 account hashes (state + 8 records each) as the
 * ledger keeps them; each batch writes 700 approvals, one per account: HSET
 * of the account state and one new record (the ledger's commit without
 * journal and holds). It prints redis-server's CPU per approval (user +
 * system, from /proc), with `appendfsync always` as the switch runs it.
 *
 *   node dist/bench/scenarios/commit-shapes.js script      # today: one Lua call, cmsgpack blob, HSET per account
 *   node dist/bench/scenarios/commit-shapes.js script-hdel # the same plus HDEL of one pruned record per account
 *   node dist/bench/scenarios/commit-shapes.js multi       # the HSETs as plain commands in MULTI/EXEC
 *   node dist/bench/scenarios/commit-shapes.js multi-hdel  # MULTI/EXEC with the HDELs
 *   node dist/bench/scenarios/commit-shapes.js watch-guard # WATCH + a Lua guard (epochs) + MULTI/EXEC
 *   node dist/bench/scenarios/commit-shapes.js grouped     # one Lua call, 16 big hashes: one HSET per hash
 */
const SHAPES = ['script', 'script-hdel', 'multi', 'multi-hdel', 'watch-guard', 'grouped'] as const;
type Shape = (typeof SHAPES)[number];

const ACCOUNTS = 10_000;
const PER_BATCH = 700;
const BATCHES = 200;
const WARMUP_BATCHES = 20;
const EPOCH_KEYS = 300;

interface Batch {
  /** [key, 'd', state, recordField, record] per approval. */
  readonly hsets: string[][];
  /** [key, oldest record field] per approval. */
  readonly hdels: string[][];
}

const SCRIPTS: Partial<Record<Shape, string>> = {
  script: `local b = cmsgpack.unpack(ARGV[1])
for _, op in ipairs(b[1]) do redis.call('HSET', unpack(op)) end
return 1`,
  'script-hdel': `local b = cmsgpack.unpack(ARGV[1])
for _, op in ipairs(b[1]) do redis.call('HSET', unpack(op)) end
for _, op in ipairs(b[2]) do redis.call('HDEL', unpack(op)) end
return 1`,
  grouped: `local b = cmsgpack.unpack(ARGV[1])
for _, op in ipairs(b) do redis.call('HSET', unpack(op)) end
return 1`,
};

const GUARD = `local held = redis.call('MGET', unpack(KEYS, 2))
for i = 1, #held do if held[i] ~= ARGV[1] then redis.call('SET', KEYS[1], '1') return -1 end end
return 1`;

function accountKey(i: number): string {
  return `{${i % 1024}}acct:40000000${String(i).padStart(8, '0')}`;
}

/** A value of `bytes` bytes that differs per call (Redis and Lua see new strings, as in the ledger). */
function value(bytes: number): string {
  return 'z'.repeat(bytes - 8) + Math.random().toString(36).slice(2, 10).padEnd(8, '0');
}

async function run(shape: Shape): Promise<number> {
  const redis = await startRedis('always');
  const client = new Redis(redis.url);
  try {
    let stan = 0;
    const fields: string[][] = Array.from({ length: ACCOUNTS }, () => []);
    for (let i = 0; i < ACCOUNTS; i++) {
      const args = ['d', value(60)];
      for (let k = 0; k < 8; k++) {
        const field = `acq-bench|${++stan}|1764000000000`;
        fields[i]!.push(field);
        args.push(field, value(90));
      }
      await client.hset(accountKey(i), ...args);
    }
    const epochKeys = Array.from({ length: EPOCH_KEYS }, (_, i) => `{${i}}epoch`);
    for (const key of epochKeys) await client.set(key, '7');
    const sha =
      SCRIPTS[shape] === undefined ? undefined : ((await client.script('LOAD', SCRIPTS[shape])) as string);
    let cursor = 0;
    const makeBatch = (): Batch => {
      const hsets: string[][] = [];
      const hdels: string[][] = [];
      for (let j = 0; j < PER_BATCH; j++) {
        const i = cursor;
        cursor = (cursor + 7) % ACCOUNTS;
        const field = `acq-bench|${++stan}|1764000000000`;
        fields[i]!.push(field);
        hsets.push([accountKey(i), 'd', value(60), field, value(90)]);
        hdels.push([accountKey(i), fields[i]!.shift()!]);
      }
      return { hsets, hdels };
    };
    const send = async ({ hsets, hdels }: Batch): Promise<void> => {
      if (shape === 'script' || shape === 'script-hdel') {
        await client.evalsha(sha!, 0, pack([hsets, hdels]));
      } else if (shape === 'grouped') {
        const groups: string[][] = Array.from({ length: 16 }, (_, p) => [`{p${p}}accounts`]);
        hsets.forEach(([key, , state, field, record], j) => {
          groups[j % 16]!.push(key!, state!, `${key}|${field}`, record!);
        });
        await client.evalsha(sha!, 0, pack(groups));
      } else {
        const pipeline = client.pipeline();
        if (shape === 'watch-guard') {
          pipeline.watch(...epochKeys);
          pipeline.eval(GUARD, 1 + epochKeys.length, 'fence', ...epochKeys, '7');
        }
        pipeline.call('MULTI');
        hsets.forEach((op, j) => {
          pipeline.hset(op[0]!, ...op.slice(1));
          if (shape === 'multi-hdel') pipeline.hdel(hdels[j]![0]!, hdels[j]![1]!);
        });
        pipeline.call('EXEC');
        const replies = await pipeline.exec();
        if (replies?.at(-1)?.[1] === null) throw new Error('transaction aborted');
      }
    };
    for (let k = 0; k < WARMUP_BATCHES; k++) await send(makeBatch());
    const batches = Array.from({ length: BATCHES }, makeBatch);
    const before = cpuTimeMs(redis.pid);
    for (const batch of batches) await send(batch);
    const after = cpuTimeMs(redis.pid);
    if (before === undefined || after === undefined) throw new Error('cannot read redis-server CPU time');
    return ((after - before) * 1_000) / (BATCHES * PER_BATCH);
  } finally {
    client.disconnect();
    await redis.stop();
  }
}

const shape = process.argv[2] as Shape | undefined;
if (shape === undefined || !SHAPES.includes(shape)) {
  process.stderr.write(`usage: node dist/bench/scenarios/commit-shapes.js ${SHAPES.join('|')}\n`);
  process.exit(2);
}
const usPerApproval = await run(shape);
console.log(`${shape}: redis-server CPU ${usPerApproval.toFixed(2)} us per approval`);
