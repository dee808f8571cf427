import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { clearRange } from '../../src/clearing/clear-range.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import type { Proc } from '../../src/protocol/request.js';
import { type JournalEntry, writeJournalRecord } from '../../src/runtime/storage/state-codec.js';
import { keySpace, LOG_PARTITION_COUNT } from '../../src/store/keys.js';
import { makeTempDir, removeTempDir, spawnTracked } from '../harness/processes.js';
import { startRedis } from '../harness/redis.js';

/**
 * Clearing one cycle of ITEMS cleared items (issue 18's target: 1,000,000
 * in under 10 s and 512 MB): a journal written straight into a private
 * Redis (one stream entry per partition per "commit", RECORDS_PER_ENTRY
 * records each, a mix of purchases, refunds, completions with their
 * releases, reversals, and holds that clear nothing), then one child process
 * that reads the range and writes the files (clearRange), reporting its
 * seconds and peak RSS. Usage: node dist/bench/procs/clearing-cycle.js [items] [recordsPerEntry]
 */

const SEED_ENTRIES_PER_PIPELINE = 500;
const ACQUIRERS = ['acq-a', 'acq-b', 'acq-c', 'acq-d'];
const ISSUERS = ['local', 'iss-x', 'iss-y'];

interface Shape {
  readonly kind: JournalEntry['kind'];
  readonly mti: string;
  readonly proc: Proc;
  readonly clears: boolean;
}

/** Out of 20 records: 13 purchases, 2 refunds, 2 completions (each with its release), 1 reversal, 2 holds. */
const MIX: readonly Shape[] = [
  ...Array.from({ length: 13 }, (): Shape => ({ kind: 'debit', mti: '0200', proc: '00', clears: true })),
  { kind: 'credit', mti: '0200', proc: '20', clears: true },
  { kind: 'credit', mti: '0200', proc: '20', clears: true },
  { kind: 'complete', mti: '0220', proc: '00', clears: true },
  { kind: 'complete', mti: '0220', proc: '00', clears: true },
  { kind: 'credit', mti: '0400', proc: '00', clears: true },
  { kind: 'hold', mti: '0100', proc: '00', clears: false },
  { kind: 'release', mti: '0220', proc: '00', clears: false },
];

function recordOf(n: number, atMs: number): { record: JournalEntry; clears: boolean } {
  const shape = MIX[n % MIX.length]!;
  const stan = (n % 999_999) + 1;
  return {
    clears: shape.clears,
    record: {
      kind: shape.kind,
      shard: n % 1024,
      ref: `k1.${n.toString(36).padStart(22, '0')}`,
      panMasked: '411111******1111',
      issuer: ISSUERS[n % ISSUERS.length]!,
      mti: shape.mti,
      amount: 100 + (n % 10_000),
      currency: n % 7 === 0 ? 'EUR' : 'USD',
      proc: shape.proc,
      key: `${ACQUIRERS[n % ACQUIRERS.length]}|${stan}|${atMs - 1000}`,
      origKey: undefined,
      rrn: n.toString(36).toUpperCase().padStart(12, '0'),
      atMs,
    },
  };
}

/** Writes journal entries until `items` cleared items are in [startMs, cutMs). */
async function seed(redis: Redis, items: number, recordsPerEntry: number, startMs: number): Promise<number> {
  const keys = keySpace();
  let cleared = 0;
  let n = 0;
  let ms = startMs;
  const w = new MsgpackWriter(64 * 1024);
  while (cleared < items) {
    const pipeline = redis.pipeline();
    for (let e = 0; e < SEED_ENTRIES_PER_PIPELINE && cleared < items; e++) {
      const partition = e % LOG_PARTITION_COUNT;
      if (partition === 0) ms++;
      w.reset();
      for (let r = 0; r < recordsPerEntry && cleared < items; r++) {
        const { record, clears } = recordOf(n++, ms);
        writeJournalRecord(w, record);
        if (clears) cleared++;
      }
      pipeline.xadd(keys.journal(partition), `${ms}-*`, 'd', Buffer.from(w.view()));
    }
    await pipeline.exec();
  }
  return ms + 1;
}

/** The child: clears [startMs, cutMs) and prints one JSON line. */
async function clearChild(url: string, startMs: number, cutMs: number, outDir: string): Promise<void> {
  const redis = new Redis(url);
  const startedAt = process.hrtime.bigint();
  const settlement = await clearRange(
    { redis, keys: keySpace(), range: { startMs, cutMs }, switchId: 'bench-switch' },
    { outDir, cycle: 1, status: 'done' },
  );
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  redis.disconnect();
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ items: settlement.items, seconds, peakRssMb })}\n`);
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'clear') return clearChild(args[0]!, Number(args[1]), Number(args[2]), args[3]!);
  const items = Number(mode ?? 1_000_000);
  const recordsPerEntry = Number(args[0] ?? 8);
  const server = await startRedis('everysec');
  const outDir = makeTempDir('clearing-out');
  try {
    const redis = new Redis(server.url);
    const startMs = 1_700_000_000_000;
    const seedStarted = Date.now();
    const cutMs = await seed(redis, items, recordsPerEntry, startMs);
    redis.disconnect();
    process.stderr.write(
      `seeded ${items} items (${recordsPerEntry} records/entry) in ${Date.now() - seedStarted} ms\n`,
    );
    let result: string | undefined;
    const child = spawnTracked(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        'clear',
        server.url,
        String(startMs),
        String(cutMs),
        outDir,
      ],
      { onLine: (line) => (result = line) },
    );
    const exit = await child.exited;
    if (exit.code !== 0 || result === undefined) throw new Error(`clearing child failed: ${child.tail()}`);
    process.stdout.write(`${result}\n`);
  } finally {
    removeTempDir(outDir);
    await server.stop();
  }
}

await main();
