import type { Redis } from 'ioredis';
import { notReadyReason } from '../../store/redis-connection.js';
import type { CommitState } from './commit-pipeline.js';

/**
 * Whether a ledger owner can commit now (docs/protocol.md section 6,
 * `ledger_store`), and if not why, in a few words for the /readyz body
 * (never where Redis is: its URL may hold a password).
 */
export interface StoreState {
  readonly ready: boolean;
  readonly reason?: string;
}

/** The connection events after which the status may read differently. */
const STATUS_EVENTS = ['connecting', 'connect', 'ready', 'close', 'reconnecting', 'end'] as const;

/**
 * Follows what an owner needs to commit: its writer (commits, re-fences)
 * and reader (actor loads) connected, and no re-fence under way. Each
 * change, and only a change, goes to `changed`, from the connections'
 * events and the commit pipeline's: nothing per transaction.
 */
export class StoreReadiness {
  private commit: CommitState = 'open';
  private last: StoreState | undefined;
  private readonly update = (): void => {
    const next = this.current();
    if (next.ready === this.last?.ready && next.reason === this.last.reason) return;
    this.last = next;
    this.changed(next);
  };

  constructor(
    private readonly connections: { readonly writer: Redis; readonly reader: Redis },
    private readonly changed: (state: StoreState) => void,
  ) {
    for (const redis of Object.values(connections))
      for (const event of STATUS_EVENTS) redis.on(event, this.update);
    this.update();
  }

  commitStateChanged(state: CommitState): void {
    this.commit = state;
    this.update();
  }

  /** No more events are followed (the owner stops). */
  stop(): void {
    for (const redis of Object.values(this.connections))
      for (const event of STATUS_EVENTS) redis.off(event, this.update);
  }

  private current(): StoreState {
    if (this.commit === 'fenced')
      return { ready: false, reason: 'fenced out: another owner took its shards' };
    for (const [name, redis] of Object.entries(this.connections)) {
      const why = notReadyReason(redis);
      if (why !== undefined) return { ready: false, reason: `redis ${name} ${why}` };
    }
    if (this.commit === 'refencing')
      return { ready: false, reason: 're-fencing its shards after a failed commit' };
    return { ready: true };
  }
}
