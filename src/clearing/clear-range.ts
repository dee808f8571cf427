import type { Redis } from 'ioredis';
import type { KeySpace } from '../store/keys.js';
import { type ClearedItem, clearedItemsIn } from './cleared-item.js';
import { writeCycleFiles } from './cycle-files.js';
import type { JournalRange } from './journal-range.js';
import { type JournalReadOptions, readJournalEntries } from './journal-reader.js';
import type { Settlement, SettlementStatus } from './settlement.js';

export interface RangeSource {
  readonly redis: Redis;
  readonly keys: KeySpace;
  readonly range: JournalRange;
  /** The config's switchId: the issuer of on-us items. */
  readonly switchId: string;
  readonly read?: JournalReadOptions;
}

/** The cleared items of a journal range, in journal order, a batch per journal entry that has any. */
export async function* itemsInRange(source: RangeSource): AsyncGenerator<ClearedItem[]> {
  for await (const entry of readJournalEntries(source.redis, source.keys, source.range, source.read)) {
    const items = clearedItemsIn(entry.records, source.switchId);
    if (items.length > 0) yield items;
  }
}

/**
 * A cycle cleared: its journal range read, its items kept, its files written
 * (writeCycleFiles). What the clearing job runs; reconcile recomputes the
 * same items with itemsInRange.
 */
export function clearRange(
  source: RangeSource,
  files: { readonly outDir: string; readonly cycle: number; readonly status: SettlementStatus },
): Promise<Settlement> {
  return writeCycleFiles({ ...files, items: itemsInRange(source) });
}
