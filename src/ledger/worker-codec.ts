import { Packr, Unpackr } from 'msgpackr';
import type { WorkItem, WorkResult } from './worker-protocol.js';

/**
 * The encoding of work and results between the main thread and ledger
 * workers: MessagePack with msgpackr records (not the wire's standard
 * MessagePack: both ends are ours). About half the CPU of postMessage's
 * structured clone per item (docs/performance.md). Every message carries its
 * own record definitions (no `sequential`), so any decoder reads any message:
 * a restarted worker needs no shared state.
 */
const packr = new Packr({ useRecords: true });
const unpackr = new Unpackr({ useRecords: true });

export function packWork(items: readonly WorkItem[]): Uint8Array {
  return packr.pack(items);
}

export function unpackWork(bytes: Uint8Array): WorkItem[] {
  return unpackr.unpack(bytes) as WorkItem[];
}

export function packResults(items: readonly WorkResult[]): Uint8Array {
  return packr.pack(items);
}

export function unpackResults(bytes: Uint8Array): WorkResult[] {
  return unpackr.unpack(bytes) as WorkResult[];
}
