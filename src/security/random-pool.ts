import { randomFillSync } from 'node:crypto';

/**
 * Random bytes handed out in small pieces from a block that is refilled from
 * the CSPRNG in bulk: one randomFillSync per POOL_BYTES instead of one per
 * draw (drawing each 12-byte AES-GCM IV on its own was half of sealing an
 * advice's PAN; docs/performance-log.md).
 *
 * Why the draws stay unique and unpredictable, as GCM's random IVs must be:
 * every byte of the block comes from the same CSPRNG as randomBytes would
 * give, and each byte is handed out once (the offset only moves forward, and
 * the block is refilled with fresh bytes, never rewound, once it is used up),
 * so the draws are distinct pieces of one CSPRNG output, exactly as separate
 * calls would be. Nothing reads the block but draw(); each thread (a worker
 * has its own module instance) and each process has its own block, filled
 * after it started, so no two share bytes. A draw is a view into the block,
 * valid until the next draw: the caller copies it before then (seal() does,
 * synchronously).
 */
const POOL_BYTES = 4_096;

let pool = Buffer.allocUnsafe(0);
let offset = 0;

/** The next `bytes` random bytes (at most POOL_BYTES), as a view valid until the next draw. */
export function drawRandom(bytes: number): Buffer {
  if (bytes > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} bytes per draw`);
  if (offset + bytes > pool.length) {
    // A new block: the bytes left over in the old one are dropped, never handed out later.
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    offset = 0;
  }
  const drawn = pool.subarray(offset, offset + bytes);
  offset += bytes;
  return drawn;
}
