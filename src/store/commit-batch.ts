import { CmsgpackEncoder } from './cmsgpack-encoder.js';
import { COMMIT_OP_VALUES_MAX } from './commit-script.js';

const encoder = new CmsgpackEncoder();

type Value = string | Buffer;

/**
 * Builds one call of the commit script (commit-script.ts): the ops of a batch
 * collected into the arrays the script walks, then packed as one blob.
 */
export class CommitBatch {
  private readonly epochKeys: string[] = [];
  private readonly seenEpochKeys = new Set<string>();
  private readonly hsets: Value[][] = [];
  private readonly hdels: string[][] = [];
  private readonly rpushes: string[][] = [];
  private readonly sadds: string[][] = [];
  private readonly xadds: Value[][] = [];

  /** Checks a shard's fencing epoch (once per shard per batch). */
  epoch(key: string): void {
    if (this.seenEpochKeys.has(key)) return;
    this.seenEpochKeys.add(key);
    this.epochKeys.push(key);
  }

  /** HSET key with [field, value, field, value, ...]. */
  hset(key: string, pairs: readonly Value[]): void {
    chunked(this.hsets, key, pairs, 2);
  }

  hdel(key: string, fields: readonly string[]): void {
    chunked(this.hdels, key, fields, 1);
  }

  rpush(key: string, values: readonly string[]): void {
    chunked(this.rpushes, key, values, 1);
  }

  sadd(key: string, members: readonly string[]): void {
    chunked(this.sadds, key, members, 1);
  }

  xadd(key: string, data: Buffer): void {
    this.xadds.push([key, data]);
  }

  /** The script's ARGV[3]. */
  pack(): Buffer {
    return encoder.encode([this.epochKeys, this.hsets, this.hdels, this.rpushes, this.sadds, this.xadds]);
  }
}

function chunked<T extends Value>(
  ops: T[][] | Value[][],
  key: string,
  values: readonly T[],
  width: number,
): void {
  const step = Math.floor(COMMIT_OP_VALUES_MAX / width) * width;
  for (let start = 0; start < values.length; start += step) {
    (ops as Value[][]).push([key, ...values.slice(start, start + step)]);
  }
}
