import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { AtomicFile, syncDir, writeFileAtomically } from './atomic-file.js';
import type { ItemBatches } from './cleared-item.js';
import { cycleDir, institutionFileName, SETTLEMENT_FILE } from './cycle-paths.js';
import { CycleRenderer } from './cycle-renderer.js';
import { type Imbalance, imbalances } from './positions.js';
import { renderSettlementJson, type Settlement, type SettlementStatus } from './settlement.js';

/** The cycle's nets do not sum to zero in some currency: no file was written. */
export class UnbalancedSettlementError extends Error {
  constructor(
    readonly settlement: Settlement,
    readonly imbalances: readonly Imbalance[],
  ) {
    super(
      `clearing cycle ${settlement.cycle}: nets do not sum to zero (${imbalances
        .map((i) => `${i.currency} ${i.netSum}`)
        .join(', ')}); no file written`,
    );
  }
}

export interface CycleFilesOptions {
  readonly outDir: string;
  readonly cycle: number;
  /** What settlement.json says (the caller's: `done` once these files are its export). */
  readonly status: SettlementStatus;
  /** The cycle's items in journal order (itemsInRange). */
  readonly items: ItemBatches;
}

/**
 * Writes `<outDir>/<cycle>/<institution>.csv` for every institution with
 * items, then `<outDir>/<cycle>/settlement.json`, each atomically (AtomicFile),
 * and returns the settlement. Rows are streamed to the files as they come:
 * memory holds a chunk per institution, not the cycle. Nothing is renamed
 * into place before the nets are known to sum to zero per currency
 * (UnbalancedSettlementError otherwise, with no file written). The same items
 * give the same bytes, so a rerun rewrites the files identically. An empty
 * cycle writes settlement.json alone.
 */
export async function writeCycleFiles(o: CycleFilesOptions): Promise<Settlement> {
  const dir = cycleDir(o.outDir, o.cycle);
  await mkdir(dir, { recursive: true });
  const renderer = new CycleRenderer(
    (institution) => new AtomicFile(path.join(dir, institutionFileName(institution))),
  );
  try {
    for await (const batch of o.items) {
      let full = false;
      for (const item of batch) full = renderer.add(item) || full;
      if (full) await flushFull(renderer);
    }
    const settlement = renderer.settlement(o.cycle, o.status);
    const unbalanced = imbalances(settlement.positions);
    if (unbalanced.length > 0) throw new UnbalancedSettlementError(settlement, unbalanced);
    for (const [, file] of renderer.institutionSinks()) await file.commit();
    // Last, and synced with the folder: settlement.json in place means every CSV is too.
    await writeSettlementFile(o.outDir, settlement);
    return settlement;
  } catch (error) {
    await Promise.all(renderer.institutionSinks().map(([, file]) => file.abort()));
    throw error;
  }
}

async function flushFull(renderer: CycleRenderer<AtomicFile>): Promise<void> {
  for (const [, file] of renderer.institutionSinks()) await file.flushIfFull();
}

/** Writes (or rewrites) `<outDir>/<cycle>/settlement.json` alone: a status change, a failed cycle. */
export async function writeSettlementFile(outDir: string, settlement: Settlement): Promise<void> {
  const dir = cycleDir(outDir, settlement.cycle);
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(path.join(dir, SETTLEMENT_FILE), renderSettlementJson(settlement));
  await syncDir(dir);
}
