import type { LedgerEngine } from '../runtime/ledger-engine.js';
import type { KeySpace, StoredAccountRef } from '../store/keys.js';
import { ScheduledJob, type ScheduledJobBase } from './scheduled-job.js';

export const RECORD_SWEEP_QUEUE = 'switchyard-record-sweep';
const SCHEDULER_ID = 'record-sweep';
/**
 * An account log this short holds one identity and one state and nothing
 * else, so a sweep would find nothing in it: an identity is 69 bytes (a
 * 16-digit PAN sealed under a 2-character key id, and masked), 75 with a
 * 19-digit PAN; a state ~30, and 72 at most (every limit set, amounts beyond
 * 32 bits; record-sweep.test.ts seeds that largest one). Data key ids
 * longer than 25 characters make an identity and a state alone look bigger
 * than this: such an account is swept for nothing once per cycle.
 */
const ACCOUNT_STATE_BYTES_MAX = 170;
/** Sweeps a pass has with the ledger at once. */
const SWEEPS_IN_FLIGHT_MAX = 32;
/** Keys asked of Redis per SCAN step (a hint: Redis may return more or fewer). */
const SCAN_COUNT = 500;

export interface RecordSweepOptions extends ScheduledJobBase {
  readonly keys: KeySpace;
  readonly ledger: Pick<LedgerEngine, 'sweep'>;
  /** Account keys one pass looks at, at most (it stops after the SCAN step that reaches it). */
  readonly accountsPerPassMax: number;
  /** Told every pass (metrics). */
  readonly onPass?: (pass: SweepPass) => void;
}

export interface SweepPass {
  /** Account hashes the pass looked at. */
  readonly accounts: number;
  /** Of those, the ones with records, handed to their actors. */
  readonly swept: number;
  /** Records past the dedupe window deleted from Redis. */
  readonly deleted: number;
  /** Accounts whose worker could not answer (asked again on the next cycle). */
  readonly retries: number;
  /** The pass finished a cycle over every account (the cursor went back to the start). */
  readonly cycleDone: boolean;
}

/**
 * Deletes records past the dedupe window from accounts that stay idle, as a
 * BullMQ job scheduler. An actor prunes its own records when it decides, at
 * activation and from its evicted keys; an account nobody uses again would
 * keep its last window of records in Redis for good. The job walks the
 * account logs with SCAN (a cursor kept in Redis, so passes go round the
 * keyspace in turn, `accountsPerPassMax` at a time), skips logs too short to
 * hold more than a state (STRLEN), and asks each other account's owning
 * actor to sweep (never behind its back). The actor prunes as a
 * transaction's turn would, open holds and adjustments kept, and its commit
 * drops them (or compacts the log: account-log.ts); an actor brought into memory for this leaves it again.
 */
export class RecordSweep {
  private readonly job: ScheduledJob;

  constructor(private readonly o: RecordSweepOptions) {
    const names = { queueName: RECORD_SWEEP_QUEUE, schedulerId: SCHEDULER_ID, jobName: 'sweep-records' };
    this.job = new ScheduledJob(o, names, () => this.runOnce());
  }

  start(): Promise<void> {
    return this.job.start();
  }

  /**
   * One pass: SCAN steps from the saved cursor until `accountsPerPassMax`
   * keys were looked at or the cycle ends. The cursor is saved after each
   * step's sweeps returned, so a pass cut short (a restart, Redis away)
   * repeats at most one step, which is harmless: a second sweep finds
   * nothing left to delete.
   */
  async runOnce(): Promise<SweepPass> {
    const { connection, keys, ledger } = this.o;
    const startedMs = performance.now();
    let cursor = (await connection.get(keys.sweepCursor())) ?? '0';
    let accounts = 0;
    let swept = 0;
    let deleted = 0;
    let retries = 0;
    do {
      const [next, found] = await connection.scan(
        cursor,
        'MATCH',
        keys.accountPattern(),
        'COUNT',
        SCAN_COUNT,
      );
      accounts += found.length;
      const lengths = connection.pipeline();
      for (const key of found) lengths.strlen(key);
      const replies = (await lengths.exec()) ?? [];
      const accountsFound: StoredAccountRef[] = [];
      found.forEach((key, i) => {
        const [error, bytes] = replies[i] ?? [];
        const account = keys.accountOfKey(key);
        // More than one state: the log has records (perhaps past the window), or dead states to compact.
        if (error === null && (bytes as number) > ACCOUNT_STATE_BYTES_MAX && account !== undefined)
          accountsFound.push(account);
      });
      // A few at a time: a step's hundreds of sweeps queued at once ahead of live transactions
      // held them up (a 370 ms pass over 10,000 accounts made a 24 ms p99 second at 20,000/s).
      for (let at = 0; at < accountsFound.length; at += SWEEPS_IN_FLIGHT_MAX) {
        const chunk = accountsFound.slice(at, at + SWEEPS_IN_FLIGHT_MAX);
        for (const outcome of await Promise.all(chunk.map((account) => ledger.sweep(account)))) {
          if (outcome === 'retry') retries++;
          else deleted += outcome;
        }
      }
      swept += accountsFound.length;
      cursor = next;
      await connection.set(keys.sweepCursor(), cursor);
    } while (cursor !== '0' && accounts < this.o.accountsPerPassMax);
    const pass: SweepPass = { accounts, swept, deleted, retries, cycleDone: cursor === '0' };
    this.o.onPass?.(pass);
    const logged = { ...pass, passMs: Math.round(performance.now() - startedMs) };
    if (deleted > 0 || retries > 0) this.o.log.info('swept records past the dedupe window', logged);
    else this.o.log.debug('record sweep pass', logged);
    return pass;
  }

  close(): Promise<void> {
    return this.job.close();
  }
}
