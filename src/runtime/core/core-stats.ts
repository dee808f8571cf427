/** What one owner counted since its stats were last taken (shipped to the main thread for metrics). */
export interface LedgerCoreStats {
  actorsActive: number;
  mailboxDepth: number;
  /** Keys of evicted records filed now (against evictedKeysMax). */
  evictedKeys: number;
  /** Records read back from Redis since the last stats (evicted, or looked up blind). */
  recordReads: number;
  batchSizes: number[];
  commitSeconds: number[];
}

export function emptyStats(): LedgerCoreStats {
  return {
    actorsActive: 0,
    mailboxDepth: 0,
    evictedKeys: 0,
    recordReads: 0,
    batchSizes: [],
    commitSeconds: [],
  };
}
