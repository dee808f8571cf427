import { BASE36_DIGIT, BASE36_PAIR } from '../util/base36.js';
import type { CodeSource } from '../util/code-source.js';

/**
 * Authorization codes: 6 upper-case base-36 characters. The first is the
 * worker id (workers never collide), then a 5-character sequence starting at
 * a random point (60M codes before it wraps), so codes do not repeat within
 * any realistic day of one worker.
 */
const SEQ_SPACE = 36 ** 5;
const PAIR_SPACE = 36 * 36;

/** The codes of one worker as a CodeSource: head is the first 4 characters, tail the last pair. */
export class AuthCodeSource implements CodeSource {
  head = '';
  tail = -1;
  private readonly lead: string;
  private seq: number;
  private block = -1;

  constructor(workerId: number, seed = Math.floor(Math.random() * SEQ_SPACE)) {
    this.lead = BASE36_DIGIT[workerId % 36]!;
    this.seq = seed % SEQ_SPACE;
  }

  next(): void {
    this.seq = (this.seq + 1) % SEQ_SPACE;
    const high = (this.seq / PAIR_SPACE) | 0;
    if (high !== this.block) {
      this.block = high;
      this.head = this.lead + BASE36_DIGIT[(high / PAIR_SPACE) | 0]! + BASE36_PAIR[high % PAIR_SPACE]!;
    }
    this.tail = this.seq % PAIR_SPACE;
  }
}

export function createAuthCodeGenerator(workerId: number, seed?: number): () => string {
  const source = new AuthCodeSource(workerId, seed);
  return () => {
    source.next();
    return source.head + BASE36_PAIR[source.tail]!;
  };
}
