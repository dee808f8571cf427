/**
 * Typed arrays for long-lived per-actor state, backed by a SharedArrayBuffer
 * so that V8's collector does not count them as external memory.
 *
 * Why: V8 adds each ArrayBuffer's backing store to the isolate's external
 * memory and starts a full mark-compact whenever that has grown by 64 MB
 * since the last one. An account's kept records grow in steps (8, 24, 72
 * slots, src/runtime/records/packed-records.ts); under even traffic every
 * account takes the same step in the same second, and 10,000 accounts going
 * from 24 to 72 slots allocate ~150 MB in half a second. On ArrayBuffers that
 * was three back-to-back mark-compacts and the worst second of the p99 at
 * 5,000 and 20,000/s (docs/performance-log.md, "Latency at moderate load").
 * A shared backing store is left out of that count (V8 cannot tell which
 * isolate owns shared memory), so the growth schedules no collection.
 *
 * The memory still shows in `process.memoryUsage().arrayBuffers` and in the
 * process's resident size; only the collector's trigger ignores it. Garbage
 * arrays wait for a collection the heap itself asks for: fine for state that
 * lives as long as its actor, wrong for per-message buffers. The arrays are
 * never posted to another thread, so nothing is actually shared.
 */

export function unaccountedFloat64Array(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

export function unaccountedInt32Array(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}
