import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/log.js';
import { AccountRefs } from '../../security/account-refs.js';
import { parseKeyFile } from '../../security/key-file.js';
import { keySpace } from '../../store/keys.js';
import { createRequestPathRedis } from '../../store/redis-connection.js';
import { AuthCodeSource } from '../auth-code.js';
import { leaseRrnSource, RrnSource } from '../rrn.js';
import type {
  FromWorker,
  LedgerWorkerData,
  WarmRef,
  WorkItem,
  WorkResult,
} from '../worker/worker-protocol.js';
import type { ActorRules } from './actor-rules.js';
import { LedgerCore } from './ledger-core.js';
import { StoreReadiness, type StoreState } from './store-readiness.js';

const STATS_INTERVAL_MS = 1_000;

export type CoreStats = Extract<FromWorker, { t: 'stats' }>;

/** A LedgerCore with its Redis connections, rrn source and stats timer: what one ledger owner runs. */
export interface CoreRuntime {
  handle(items: readonly WorkItem[]): void;
  /** New data keys, as the key file's JSON (SIGHUP). */
  setKeys(dataKeysJson: string): void;
  /** Closes the connections and the timer; the core answers nothing more. */
  stop(): void;
  /**
   * Stops as stop() does, and resolves once nothing this owner sent can still
   * reach Redis (a re-fence under way landed first): the shards may then be
   * taken by another host (a handover, ledger-engine.ts). Resolves with the
   * accounts traffic had in memory, most recently used first (WARM_REFS_MAX
   * at most), for the next owner to load.
   */
  release(): Promise<WarmRef[]>;
  /** Loads a handover's warm accounts, WARM_PER_TURN at a time between turns, so live traffic interleaves. */
  warm(refs: readonly WarmRef[]): void;
  /** Accounts in memory now (the adaptive policy tells a warm-up from a load the main thread cannot take). */
  activeActors(): number;
}

/**
 * Accounts a handover passes to the next owner to load: the most recently
 * used, up to this many (about 50 B each across the thread boundary).
 */
export const WARM_REFS_MAX = 100_000;
/** Warm loads queued per event-loop turn: one pipelined round of reads each, small beside live traffic. */
const WARM_PER_TURN = 64;

function connect(data: LedgerWorkerData, name: string): Redis {
  // Fail fast, as every request-path connection: no offline queue; and no
  // resend of unanswered commands after a reconnect (an unanswered commit is
  // answered 96, the owner re-fences its shards so a late apply of it is
  // refused, and its accounts are reloaded).
  const redis = createRequestPathRedis(data.redisUrl, `switchyard-ledger-${data.workerId}-${name}`, {
    autoResendUnfulfilledCommands: false,
  });
  redis.on('error', () => {});
  return redis;
}

/**
 * Starts the ledger for the shards `data` assigns (shard % workerCount ===
 * workerId), on whatever thread calls it: a worker thread (ledger-worker.ts)
 * or the main thread (inline host). Results and stats go to the callbacks.
 */
export async function startCoreRuntime(
  data: LedgerWorkerData,
  rules: ActorRules,
  log: Logger,
  post: (results: WorkResult[]) => void,
  onStats: (stats: CoreStats) => void,
  /** Each change of whether the owner can commit (its first state before it is started). */
  onStoreState: (state: StoreState) => void,
): Promise<CoreRuntime> {
  const refs = refsFrom(data.dataKeysJson);
  const writer = connect(data, 'writer');
  const reader = connect(data, 'reader');
  try {
    await Promise.all([writer.connect(), reader.connect()]);
  } catch (error) {
    writer.disconnect();
    reader.disconnect();
    throw error;
  }
  const keys = keySpace(data.keyPrefix);
  // A fresh source id per start: a restarted owner never repeats the rrns of the one before.
  const rrnSource = await leaseRrnSource(() => writer.incr(keys.rrnSourceCounter()));
  // A fresh owner id per start: its commits are numbered under it (see LedgerCoreOptions.owner).
  const owner = await writer.incr(keys.ownerCounter());
  // authCodes from blocks of the switch-wide sequence: never one the run before handed out.
  const authCodes = await AuthCodeSource.leased(
    () => writer.incr(keys.authCodeBlockCounter()),
    () => log.warn('authCode block used up before the next was leased; going on into the next block number'),
  );
  const storeReadiness = new StoreReadiness({ writer, reader }, onStoreState);
  const core = new LedgerCore({
    rules,
    refs,
    workerId: data.workerId,
    owner,
    workerCount: data.workerCount,
    epoch: data.epoch,
    holdTtlMs: data.holdTtlMs,
    dedupeWindowMs: data.dedupeWindowMs,
    actorsMax: data.actorsMax,
    recordsPerActorMax: data.recordsPerActorMax,
    evictedKeysMax: data.evictedKeysMax,
    commitTimeoutMs: data.commitTimeoutMs,
    keys,
    writer,
    reader,
    rrns: new RrnSource(rrnSource),
    authCodes,
    post,
    commitStateChanged: (state) => storeReadiness.commitStateChanged(state),
    log,
  });
  await core.init();
  const statsTimer = setInterval(() => {
    const s = core.takeStats();
    onStats({
      t: 'stats',
      actorsActive: s.actorsActive,
      mailboxDepth: s.mailboxDepth,
      evictedKeys: s.evictedKeys,
      recordReads: s.recordReads,
      commitFailures: s.commitFailures,
      batchSize: s.batchSizes,
      commitSeconds: s.commitSeconds,
      standInApprovals: s.standInApprovals,
    });
  }, STATS_INTERVAL_MS);
  statsTimer.unref();
  let stopped = false;
  const stopTaking = (): void => {
    stopped = true;
    core.stop();
    storeReadiness.stop();
    clearInterval(statsTimer);
  };
  return {
    handle: (items) => {
      if (!stopped) core.handle(items);
    },
    setKeys: (json) => {
      const next = refsFrom(json);
      // The main thread checked it too: an account's shard is its writer, it cannot move.
      if (!next.sameShards(refs.keys)) throw new Error('the shard key cannot change while the switch runs');
      core.setRefs(next);
    },
    stop: () => {
      stopTaking();
      writer.disconnect();
      reader.disconnect();
    },
    release: async () => {
      const warm = core.hotRefs(WARM_REFS_MAX);
      stopTaking();
      await core.quiesced();
      // Nothing of this owner's is still at Redis that matters: every commit was answered (the engine drained it first).
      writer.disconnect();
      reader.disconnect();
      return warm;
    },
    activeActors: () => core.activeActors,
    warm: (refs) => {
      let at = 0;
      const step = (): void => {
        if (stopped || at >= refs.length) return;
        core.warm(refs.slice(at, at + WARM_PER_TURN));
        at += WARM_PER_TURN;
        setImmediate(step);
      };
      step();
    },
  };
}

function refsFrom(dataKeysJson: string): AccountRefs {
  return new AccountRefs(parseKeyFile(dataKeysJson, 'the data keys handed to the ledger owner'));
}
