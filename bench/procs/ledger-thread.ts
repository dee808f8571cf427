import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { MicroResult } from '../harness/micro.js';
import { runLedgerBench } from '../scenarios/ledger.bench.js';

/**
 * runLedgerBench on a worker thread of its own, started as the switch starts
 * its ledger workers (ledger-host.ts: default resource limits): a fresh heap
 * that holds only the ledger's accounts and records. Run on the main thread,
 * after the codec benchmarks, the ledger's collections also walked what
 * those left behind, which no ledger worker carries.
 */
export function runLedgerBenchOnWorker(durationMs: number, accountCount: number): Promise<MicroResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { ledgerBench: { durationMs, accountCount } },
    });
    let results: MicroResult[] | undefined;
    worker.once('message', (message: MicroResult[]) => {
      results = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (results !== undefined && code === 0) resolve(results);
      else reject(new Error(`ledger benchmark thread exited with ${code} and no results`));
    });
  });
}

/**
 * runLedgerBenchOnWorker `repeats` times, each on a fresh thread, one after
 * another; per scenario the run with the median sustained rate, with every
 * run's sustained rate beside it. The rate moves ±10% between fresh heaps
 * on this machine (where the records land in memory), as the end-to-end
 * rows do between fresh processes, which are reported the same way.
 */
export async function runLedgerBenchRepeated(
  durationMs: number,
  accountCount: number,
  repeats: number,
): Promise<MicroResult[]> {
  const runs: MicroResult[][] = [];
  for (let i = 0; i < repeats; i++) runs.push(await runLedgerBenchOnWorker(durationMs, accountCount));
  return runs[0]!.map((first, scenario) => {
    const sorted = runs
      .map((run) => run[scenario]!)
      .sort((a, b) => a.sustainedOpsPerSecond - b.sustainedOpsPerSecond);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    if (median.name !== first.name) throw new Error(`ledger benchmark runs disagree on scenario ${scenario}`);
    return { ...median, sustainedRuns: runs.map((run) => run[scenario]!.sustainedOpsPerSecond) };
  });
}

interface LedgerBenchData {
  readonly durationMs: number;
  readonly accountCount: number;
}

const data = (workerData as { ledgerBench?: LedgerBenchData } | null)?.ledgerBench;
if (!isMainThread && data !== undefined) {
  parentPort!.postMessage(runLedgerBench(data.durationMs, data.accountCount));
}
