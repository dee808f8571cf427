/**
 * A LedgerCore in-process against a real redis-server, as a ledger worker runs it (fail-fast
 * connections, the on-us rules), for the tests that aim at the core itself (ledger-core.test.ts,
 * ledger-rotation.test.ts).
 */
import { Redis } from 'ioredis';
import { silentLogger } from '../../src/observability/log.js';
import { switchRules } from '../../src/rules/switch-rules.js';
import { AuthCodeSource } from '../../src/runtime/auth-code.js';
import { LedgerCore } from '../../src/runtime/core/ledger-core.js';
import { RrnSource } from '../../src/runtime/rrn.js';
import type { WorkItem, WorkResult } from '../../src/runtime/worker/worker-protocol.js';
import type { AccountRefs } from '../../src/security/account-refs.js';
import { keySpace } from '../../src/store/keys.js';
import { claimAllShards } from '../../src/store/shard-epoch.js';
import { EVENTUALLY_MS, waitFor } from './processes.js';
import { devRefs } from './test-keys.js';

export interface CoreHarness {
  readonly core: LedgerCore;
  /** Every result, in the order the core posted them. */
  readonly results: WorkResult[];
  readonly keys: ReturnType<typeof keySpace>;
  readonly epoch: number;
  readonly writer: Redis;
  readonly reader: Redis;
  /** Hands `items` to the core and waits for their results (by seq), sorted by seq. */
  run(items: WorkItem[]): Promise<WorkResult[]>;
  /** Stops the core and closes its connections. */
  dispose(): void;
}

export interface CoreHarnessOptions {
  /** The key prefix: a fresh one per core unless a test restarts a core on another's data. */
  readonly prefix: string;
  readonly refs?: AccountRefs;
  readonly actorsMax?: number;
  readonly recordsPerActorMax?: number;
  readonly evictedKeysMax?: number;
  readonly commitTimeoutMs?: number;
  /** A given epoch is what a restarted worker gets: the one its predecessor had. */
  readonly epoch?: number;
  readonly dedupeWindowMs?: number;
  readonly nowMs?: () => number;
  readonly rrnSource?: number;
}

/** A started core; `admin` is a connection of the test's own (epochs, owner ids). */
export async function startCoreHarness(
  redisUrl: string,
  admin: Redis,
  options: CoreHarnessOptions,
): Promise<CoreHarness> {
  const keys = keySpace(options.prefix);
  const epoch = options.epoch ?? (await claimAllShards(admin, keys));
  const connect = (): Redis => {
    const connection = new Redis(redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: () => 50,
      lazyConnect: true,
    });
    connection.on('error', () => {});
    return connection;
  };
  const writer = connect();
  const reader = connect();
  await Promise.all([writer.connect(), reader.connect()]);
  const results: WorkResult[] = [];
  const core = new LedgerCore({
    rules: switchRules,
    refs: options.refs ?? devRefs,
    workerId: 0,
    owner: await admin.incr(keys.ownerCounter()),
    workerCount: 1,
    epoch,
    holdTtlMs: 60_000,
    dedupeWindowMs: options.dedupeWindowMs ?? 86_400_000,
    ...(options.nowMs !== undefined ? { nowMs: options.nowMs } : {}),
    actorsMax: options.actorsMax ?? 100_000,
    recordsPerActorMax: options.recordsPerActorMax ?? 10_000,
    evictedKeysMax: options.evictedKeysMax ?? 1_000_000,
    // No test wants a commit timeout unless it says so: a slow fsync on a busy disk is not a 96.
    commitTimeoutMs: options.commitTimeoutMs ?? 10_000,
    keys,
    writer,
    reader,
    rrns: new RrnSource(options.rrnSource ?? 7),
    authCodes: new AuthCodeSource(0),
    post: (items) => results.push(...items),
    log: silentLogger,
  });
  await core.init();
  // Waits for this call's own seqs: several runs may be in flight at once, and counting all
  // results would let one return on another's answers (a race the differential test hit).
  const run = async (items: WorkItem[]): Promise<WorkResult[]> => {
    const seqs = new Set(items.map((i) => i.seq));
    const mine = (): WorkResult[] => results.filter((r) => seqs.has(r.seq));
    core.handle(items);
    await waitFor(() => mine().length >= items.length, EVENTUALLY_MS);
    return mine().sort((a, b) => a.seq - b.seq);
  };
  const dispose = (): void => {
    core.stop();
    writer.disconnect();
    reader.disconnect();
  };
  return { core, results, keys, epoch, writer, reader, run, dispose };
}
