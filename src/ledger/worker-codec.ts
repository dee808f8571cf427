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

/**
 * A copy of `bytes` in its own exact-size ArrayBuffer, to be posted with that
 * buffer in the transfer list. msgpackr returns a view into its reusable
 * target buffer, which grows to the largest batch ever packed (hundreds of
 * KB), and structured clone copies a view's WHOLE backing buffer: posting a
 * one-item batch after a large one copied ~0.5 MB each way, which was most of
 * the CPU per approval at low load (docs/performance.md).
 */
function owned(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** The transfer list for a packed batch (its buffer moves, nothing is copied). */
export function transferOf(bytes: Uint8Array): ArrayBuffer[] {
  return [bytes.buffer as ArrayBuffer];
}

export function packWork(items: readonly WorkItem[]): Uint8Array {
  return owned(packr.pack(items));
}

export function unpackWork(bytes: Uint8Array): WorkItem[] {
  return unpackr.unpack(bytes) as WorkItem[];
}

export function packResults(items: readonly WorkResult[]): Uint8Array {
  return owned(packr.pack(items));
}

export function unpackResults(bytes: Uint8Array): WorkResult[] {
  return unpackr.unpack(bytes) as WorkResult[];
}
