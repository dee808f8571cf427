import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { runCodecBench } from './codec.bench.js';
import { runLedgerBench } from './ledger.bench.js';
import { formatTable } from './micro.js';

/**
 * `npm run bench`: runs the benchmark scenarios and writes results under
 * bench/results/. `--quick` shortens every measurement.
 */
async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const durationMs = quick ? 300 : 1_500;
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
  process.stdout.write(
    `switchyard bench (${quick ? 'quick' : 'full'}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n\n`,
  );
  const codec = runCodecBench(durationMs);
  process.stdout.write(`codec and framing (one core):\n${formatTable(codec)}\n\n`);
  const ledger = runLedgerBench(durationMs);
  process.stdout.write(`in-memory actor decisions (one core):\n${formatTable(ledger)}\n`);
  const outDir = new URL('../../bench/results/', import.meta.url);
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString();
  writeFileSync(
    new URL('codec-latest.json', outDir),
    `${JSON.stringify({ at: stamp, machine, codec, ledger }, null, 2)}\n`,
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
