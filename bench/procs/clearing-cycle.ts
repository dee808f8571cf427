import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { clearRange } from '../../src/clearing/clear-range.js';
import { keySpace } from '../../src/store/keys.js';
import { makeTempDir, removeTempDir, spawnTracked } from '../harness/processes.js';
import { startRedis } from '../harness/redis.js';
import { plantJournal } from './journal-seed.js';

/**
 * Clearing one cycle of ITEMS cleared items in-process, without the job
 * around it (the suite's "clearing 1M" row runs the real job): a journal
 * written straight into a private Redis (journal-seed.ts, RECORDS_PER_ENTRY
 * records per stream entry), then one child process that reads the range
 * and writes the files (clearRange), reporting its seconds and peak RSS.
 * Usage: node dist/bench/procs/clearing-cycle.js [items] [recordsPerEntry]
 */

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
    const planted = await plantJournal(redis, { items, recordsPerEntry, ids: { startMs } });
    const cutMs = planted.endMs!;
    redis.disconnect();
    process.stderr.write(
      `seeded ${items} items (${recordsPerEntry} records/entry) in ${planted.elapsedMs} ms\n`,
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
