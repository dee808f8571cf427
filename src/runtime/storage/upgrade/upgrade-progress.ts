import type { ChainableCommander, Redis } from 'ioredis';
import type { KeySpace } from '../../../store/keys.js';
import { execChecked } from './exec-checked.js';

/**
 * The upgrade to layout 3 in phases, in this order: account logs, journal
 * streams, hold buckets, then Redis's files rewritten. Each phase finds what
 * is left to convert by looking at the data itself (a layout 2 key or value
 * looks different from a layout 3 one), so a phase run twice does nothing
 * the second time; the progress marker only saves repeating work.
 */
export type UpgradePhase = 'accounts' | 'journals' | 'holds' | 'files';

export const UPGRADE_PHASES: readonly UpgradePhase[] = ['accounts', 'journals', 'holds', 'files'];

/** Where an interrupted upgrade stands, as the progress marker holds it. */
export interface UpgradeState {
  readonly phase: UpgradePhase;
  /**
   * The SCAN cursor of the accounts or holds phase: every key SCAN returned
   * before it is converted. Only valid in the Redis process that gave it
   * (`runId`): a restarted Redis hashes keys with a new seed.
   */
  readonly scanCursor: string;
  readonly runId: string | undefined;
  /** The journals phase: the first log partition not yet rewritten. */
  readonly partition: number;
  /** Some value was converted, in this run or an earlier one: the files phase must rewrite Redis's files. */
  readonly converted: boolean;
}

/**
 * The progress marker: one hash beside the layout marker, made here rather
 * than in store/keys.ts because only the upgrade ever reads it, and it is
 * gone once the layout is 3. `${prefix}:account-layout-upgrade`.
 */
export function upgradeProgressKey(keys: KeySpace): string {
  return `${keys.prefix}:account-layout-upgrade`;
}

/**
 * The stream a journal is rewritten into before it replaces the journal
 * (RENAME). Same hash tag as the journal, so a Redis Cluster keeps both in
 * one slot (RENAME needs that).
 */
export function journalRewriteKey(keys: KeySpace, partition: number): string {
  return `${keys.journal(partition)}-layout3`;
}

/** Reads and moves the progress marker. */
export class UpgradeProgress {
  private convertedNoted = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {}

  private get key(): string {
    return upgradeProgressKey(this.keys);
  }

  async read(): Promise<UpgradeState> {
    const fields = await this.redis.hgetall(this.key);
    const phase = UPGRADE_PHASES.find((p) => p === fields['phase']) ?? 'accounts';
    const partition = Number(fields['partition'] ?? 0);
    this.convertedNoted = fields['converted'] === '1';
    return {
      phase,
      scanCursor: fields['cursor'] ?? '0',
      runId: fields['runId'],
      partition: Number.isInteger(partition) && partition >= 0 ? partition : 0,
      converted: this.convertedNoted,
    };
  }

  /**
   * Says that values are about to be converted, before the first write: a
   * crash after it still leaves the files phase knowing there are old bytes
   * on disk to get rid of. Once per run.
   */
  async noteConverting(): Promise<void> {
    if (this.convertedNoted) return;
    await this.redis.hset(this.key, 'converted', '1');
    this.convertedNoted = true;
  }

  get converted(): boolean {
    return this.convertedNoted;
  }

  /** Every key a SCAN returned up to `cursor` is converted (in the Redis process `runId`). */
  async scanned(phase: 'accounts' | 'holds', cursor: string, runId: string): Promise<void> {
    await this.redis.hset(this.key, 'phase', phase, 'cursor', cursor, 'runId', runId);
  }

  /** The phase before `phase` is done. */
  async enter(phase: UpgradePhase): Promise<void> {
    await execChecked(
      this.redis
        .multi()
        .hset(this.key, 'phase', phase, 'cursor', '0', 'partition', '0')
        .hdel(this.key, 'runId'),
      `entering the ${phase} phase`,
    );
  }

  /** Queues, in the transaction that replaces a journal, that its partition is done. */
  partitionDone(transaction: ChainableCommander, partition: number): void {
    transaction.hset(this.key, 'phase', 'journals', 'partition', String(partition + 1));
  }

  /** The end: the layout marker set and the progress marker gone, in one transaction. */
  async finish(layout: number): Promise<void> {
    await execChecked(
      this.redis.multi().set(this.keys.accountLayout(), String(layout)).del(this.key),
      'setting the account layout marker',
    );
  }
}

/** The SCAN cursor to go on from: the saved one if the same Redis process gave it, else the start. */
export function resumeCursor(state: UpgradeState, phase: 'accounts' | 'holds', runId: string): string {
  return state.phase === phase && state.runId === runId ? state.scanCursor : '0';
}

/** The Redis process's run id (INFO server): changes when Redis restarts. */
export async function redisRunId(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  const match = /^run_id:(\w+)/m.exec(info);
  if (match === null) throw new Error('INFO server has no run_id');
  return match[1]!;
}
