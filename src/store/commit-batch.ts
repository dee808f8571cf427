/**
 * Builds one call of the commit script (commit-script.ts): keys are
 * interned so each appears once in KEYS; ops reference them by index.
 */
export class CommitBatch {
  private readonly keyIndex = new Map<string, number>();
  readonly keys: string[] = [];
  readonly args: (string | Buffer | number)[] = [];
  private readonly checkedEpochs = new Set<number>();
  private readonly checkedAccounts = new Set<string>();
  /** Writes queued (checks excluded); a batch with none is not sent. */
  writes = 0;

  constructor(epoch: number, guardTtlMs: number) {
    this.args.push(epoch, guardTtlMs);
  }

  private key(key: string): number {
    let index = this.keyIndex.get(key);
    if (index === undefined) {
      this.keys.push(key);
      index = this.keys.length;
      this.keyIndex.set(key, index);
    }
    return index;
  }

  guard(key: string): void {
    this.args.push('G', this.key(key));
  }

  /** Checks the shard's fencing epoch (once per shard per batch). */
  epoch(shard: number, key: string): void {
    if (this.checkedEpochs.has(shard)) return;
    this.checkedEpochs.add(shard);
    this.args.push('E', this.key(key));
  }

  /** Checks an account's stored version once per batch: the version the batch's first decision saw. */
  expectVersion(key: string, version: number): void {
    if (this.checkedAccounts.has(key)) return;
    this.checkedAccounts.add(key);
    this.args.push('V', this.key(key), version);
  }

  setAccount(key: string, version: number, data: Buffer): void {
    this.args.push('A', this.key(key), version, data);
    this.writes++;
  }

  hset(key: string, field: string, data: Buffer): void {
    this.args.push('H', this.key(key), field, data);
    this.writes++;
  }

  hdel(key: string, field: string): void {
    this.args.push('D', this.key(key), field);
    this.writes++;
  }

  zadd(key: string, score: number, member: string): void {
    this.args.push('Z', this.key(key), score, member);
    this.writes++;
  }

  zrem(key: string, member: string): void {
    this.args.push('R', this.key(key), member);
    this.writes++;
  }

  xadd(key: string, data: Buffer | string): void {
    this.args.push('X', this.key(key), data);
    this.writes++;
  }
}
