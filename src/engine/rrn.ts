/**
 * Retrieval reference numbers: 12 characters, unique per switch.
 *
 * Layout (base 36, upper case): 6 chars of seconds since 2024-01-01 UTC
 * (covers 69 years) + 2 chars of source id + 4 chars of sequence within that
 * second (1,679,616 per second per source). When a second's sequence runs out
 * the generator borrows the next second, so one generator never repeats.
 *
 * Source ids are leased, not assigned: every generator instance (the main
 * thread at start, each ledger worker at every start, restarts included)
 * takes the next value of a Redis counter modulo 1296 (leaseRrnSource). A
 * restarted process or worker therefore never reuses the source of the run
 * before it, even within the same second; two live generators could only
 * meet after 1296 instantiations in between.
 */

import { BASE36_PAIR, base36 } from '../util/base36.js';

const EPOCH_MS = Date.UTC(2024, 0, 1);
const SEQ_PER_SECOND = 36 ** 4;
export const RRN_SOURCE_MAX = 36 ** 2 - 1;

/** Takes the caller's clock reading when it has one (the ledger's batch time), else reads the clock. */
export type RrnGenerator = (nowMs?: number) => string;

export function createRrnGenerator(sourceId: number, nowMs: () => number = Date.now): RrnGenerator {
  if (!Number.isInteger(sourceId) || sourceId < 0 || sourceId > RRN_SOURCE_MAX) {
    throw new RangeError(`rrn source id must be 0..${RRN_SOURCE_MAX}`);
  }
  const source = base36(sourceId, 2);
  let second = -1;
  let prefix = '';
  let seq = 0;
  let block = -1;
  let blockPrefix = '';
  return (atMs = nowMs()) => {
    const nowSecond = Math.floor((atMs - EPOCH_MS) / 1000);
    if (nowSecond > second) {
      second = nowSecond;
      seq = 0;
      prefix = base36(second, 6) + source;
      block = -1;
    } else if (seq >= SEQ_PER_SECOND) {
      second += 1;
      seq = 0;
      prefix = base36(second, 6) + source;
      block = -1;
    }
    const s = seq++;
    const high = (s / 1296) | 0;
    // The first 10 characters change once per 1,296 rrns: kept, so an rrn is one (flat) concatenation.
    if (high !== block) {
      block = high;
      blockPrefix = prefix + BASE36_PAIR[high]!;
    }
    return blockPrefix + BASE36_PAIR[s % 1296]!;
  };
}

/** Leases a source id for a new generator (see above). */
export async function leaseRrnSource(incr: () => Promise<number>): Promise<number> {
  return (await incr()) % (RRN_SOURCE_MAX + 1);
}
