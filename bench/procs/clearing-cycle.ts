import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { clearRange } from '../../src/clearing/clear-range.js';
import { keySpace } from '../../src/store/keys.js';
import { renderProfiles } from '../harness/flame.js';
import { makeTempDir, removeTempDir, repoRoot, spawnTracked } from '../harness/processes.js';
import { startRedis } from '../harness/redis.js';
import { plantJournal } from './journal-seed.js';

/**
 * Clearing one cycle of ITEMS cleared items in-process, without the job
 * around it (the suite's "clearing 1M" row runs the real job): a journal
 * written straight into a private Redis (journal-seed.ts, RECORDS_PER_ENTRY
 * records per stream entry), then one child process that reads the range
 * and writes the files (clearRange), reporting its seconds and peak RSS.
 * With --cpu-prof, the child runs under node's profiler and a flame graph and
 * summary per thread go to bench/results/profiles/clearing/.
 * Usage: node dist/bench/procs/clearing-cycle.js [items] [recordsPerEntry] [--cpu-prof]
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
  const argv = process.argv.slice(2);
  if (argv[0] === 'clear') return clearChild(argv[1]!, Number(argv[2]), Number(argv[3]), argv[4]!);
  const profiling = argv.includes('--cpu-prof');
  const [itemsText, recordsText] = argv.filter((a) => !a.startsWith('--'));
  const items = Number(itemsText ?? 1_000_000);
  const recordsPerEntry = Number(recordsText ?? 8);
  const profileDir = join(repoRoot, 'bench', 'results', 'profiles', 'clearing');
  const rawDir = join(profileDir, 'raw');
  if (profiling) {
    rmSync(rawDir, { recursive: true, force: true });
    mkdirSync(rawDir, { recursive: true });
  }
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
        ...(profiling ? ['--cpu-prof', '--cpu-prof-dir', rawDir] : []),
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
    if (profiling) renderProfiles(rawDir, profileDir, 'clearing');
  } finally {
    removeTempDir(outDir);
    await server.stop();
  }
}

await main();
