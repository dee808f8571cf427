import { BASE36_PAIR, base36 } from '../util/base36.js';
import type { CodeSource } from '../util/code-source.js';

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

const EPOCH_MS = Date.UTC(2024, 0, 1);
const SEQ_PER_SECOND = 36 ** 4;
export const RRN_SOURCE_MAX = 36 ** 2 - 1;

/** Takes the caller's clock reading when it has one (the ledger's batch time), else reads the clock. */
export type RrnGenerator = (nowMs?: number) => string;

/**
 * The rrns of one source as a CodeSource (the ledger's hot path keeps them
 * as head and tail): head is the first 10 characters (second, source, the
 * sequence's high pair), tail the sequence's low pair.
 */
export class RrnSource implements CodeSource {
  head = '';
  tail = -1;
  private readonly source: string;
  private second = -1;
  private prefix = '';
  private seq = 0;
  private block = -1;

  constructor(sourceId: number) {
    if (!Number.isInteger(sourceId) || sourceId < 0 || sourceId > RRN_SOURCE_MAX) {
      throw new RangeError(`rrn source id must be 0..${RRN_SOURCE_MAX}`);
    }
    this.source = base36(sourceId, 2);
  }

  next(nowMs: number): void {
    const nowSecond = Math.floor((nowMs - EPOCH_MS) / 1000);
    if (nowSecond > this.second) {
      this.second = nowSecond;
      this.startSecond();
    } else if (this.seq >= SEQ_PER_SECOND) {
      this.second += 1;
      this.startSecond();
    }
    const s = this.seq++;
    const high = (s / 1296) | 0;
    if (high !== this.block) {
      this.block = high;
      this.head = this.prefix + BASE36_PAIR[high]!;
    }
    this.tail = s % 1296;
  }

  private startSecond(): void {
    this.seq = 0;
    this.prefix = base36(this.second, 6) + this.source;
    this.block = -1;
  }
}

export function createRrnGenerator(sourceId: number, nowMs: () => number = Date.now): RrnGenerator {
  const source = new RrnSource(sourceId);
  return (atMs = nowMs()) => {
    source.next(atMs);
    return source.head + BASE36_PAIR[source.tail]!;
  };
}

/** Leases a source id for a new generator (see above). */
export async function leaseRrnSource(incr: () => Promise<number>): Promise<number> {
  return (await incr()) % (RRN_SOURCE_MAX + 1);
}
