import { BASE36_DIGIT, BASE36_PAIR } from '../util/base36.js';

/**
 * Authorization codes: 6 upper-case base-36 characters. The first is the
 * worker id (workers never collide), then a 5-character sequence starting at
 * a random point (60M codes before it wraps), so codes do not repeat within
 * any realistic day of one worker.
 */
const SEQ_SPACE = 36 ** 5;
const PAIR_SPACE = 36 * 36;

export function createAuthCodeGenerator(
  workerId: number,
  seed = Math.floor(Math.random() * SEQ_SPACE),
): () => string {
  const lead = BASE36_DIGIT[workerId % 36]!;
  let seq = seed % SEQ_SPACE;
  // The first 4 characters change once per 1,296 codes: kept, so a code is one concatenation.
  let block = -1;
  let prefix = '';
  return () => {
    seq = (seq + 1) % SEQ_SPACE;
    const high = (seq / PAIR_SPACE) | 0;
    if (high !== block) {
      block = high;
      prefix = lead + BASE36_DIGIT[(high / PAIR_SPACE) | 0]! + BASE36_PAIR[high % PAIR_SPACE]!;
    }
    return prefix + BASE36_PAIR[seq % PAIR_SPACE]!;
  };
}
