import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runLedgerBench } from './ledger.bench.js';
import type { MicroResult } from './micro.js';

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

interface LedgerBenchData {
  readonly durationMs: number;
  readonly accountCount: number;
}

const data = (workerData as { ledgerBench?: LedgerBenchData } | null)?.ledgerBench;
if (!isMainThread && data !== undefined) {
  parentPort!.postMessage(runLedgerBench(data.durationMs, data.accountCount));
}
