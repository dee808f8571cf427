import { BASE36_PAIR, base36 } from '../util/base36.js';
import type { CodeSource } from '../util/code-source.js';

/**
 * Authorization codes: 6 upper-case base-36 characters, the base-36 form of
 * one switch-wide sequence (36^6, 2.18 billion codes, then it wraps). The
 * sequence is handed out in blocks of AUTH_CODE_BLOCK codes: every source
 * (a ledger owner, at every start) takes block numbers from a Redis counter
 * (INCR), so two sources, and a restarted owner and the one before it, never
 * hand out the same code until the whole space has been used (at 100,000
 * approvals a second, after 6 hours; a code is not an identifier, the
 * transaction key and the rrn are). The next block is leased when half of
 * the current one is used, off the decision path: a decision never waits
 * for Redis.
 */
export const AUTH_CODE_SPACE = 36 ** 6;
/** Codes per leased block (2,176 blocks in the space; one INCR per million approvals). */
export const AUTH_CODE_BLOCK = 1_000_000;
const BLOCKS_IN_SPACE = Math.floor(AUTH_CODE_SPACE / AUTH_CODE_BLOCK);
const PAIR_SPACE = 36 * 36;

/** Leases the next block number (the Redis counter's INCR). */
export type AuthCodeBlockLease = () => Promise<number>;

/**
 * The codes of one source as a CodeSource: head is the first 4 characters,
 * tail the last pair. Without a lease (tests, the benchmark) it goes on to
 * the next block number itself.
 */
export class AuthCodeSource implements CodeSource {
  head = '';
  tail = -1;
  private block: number;
  /** Codes of the current block handed out. */
  private used = 0;
  private leased: number | undefined;
  private leasing = false;
  private high = -1;

  constructor(
    firstBlock: number,
    private readonly lease?: AuthCodeBlockLease,
    /** Called when a block ran out before the next one was leased (it then goes on into the next block number). */
    private readonly onOverrun?: () => void,
  ) {
    this.block = firstBlock;
  }

  /** A source on a freshly leased block. */
  static async leased(lease: AuthCodeBlockLease, onOverrun?: () => void): Promise<AuthCodeSource> {
    return new AuthCodeSource(await lease(), lease, onOverrun);
  }

  next(): void {
    if (this.used === AUTH_CODE_BLOCK) this.nextBlock();
    else if (this.used === AUTH_CODE_BLOCK / 2) this.leaseNext();
    const code = (this.block % BLOCKS_IN_SPACE) * AUTH_CODE_BLOCK + this.used++;
    const high = (code / PAIR_SPACE) | 0;
    if (high !== this.high) {
      this.high = high;
      this.head = base36(high, 4);
    }
    this.tail = code % PAIR_SPACE;
  }

  private nextBlock(): void {
    this.used = 0;
    if (this.leased !== undefined) {
      this.block = this.leased;
      this.leased = undefined;
      return;
    }
    // No lease yet (Redis slow or down; its commits fail too then): the following block number,
    // which another source may lease as well.
    if (this.lease !== undefined) this.onOverrun?.();
    this.block++;
  }

  private leaseNext(): void {
    if (this.lease === undefined || this.leasing || this.leased !== undefined) return;
    this.leasing = true;
    this.lease().then(
      (block) => {
        this.leasing = false;
        this.leased = block;
      },
      () => {
        // Asked again at the next block's half; until then nextBlock() goes on by itself.
        this.leasing = false;
      },
    );
  }
}

/** A generator of whole codes from block `firstBlock` on (tests, tools). */
export function createAuthCodeGenerator(firstBlock: number): () => string {
  const source = new AuthCodeSource(firstBlock);
  return () => {
    source.next();
    return source.head + BASE36_PAIR[source.tail]!;
  };
}
