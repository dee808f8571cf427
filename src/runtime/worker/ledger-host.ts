import { Worker } from 'node:worker_threads';
import type { Logger } from '../../observability/log.js';
import type { ActorRules } from '../core/actor-rules.js';
import { type CoreRuntime, type CoreStats, startCoreRuntime } from '../core/core-runtime.js';
import type { StoreState } from '../core/store-readiness.js';
import { packWork, transferOf, unpackResults } from './worker-codec.js';
import type {
  FromWorker,
  LedgerWorkerData,
  LedgerWorkerInit,
  ToWorker,
  WarmRef,
  WorkItem,
  WorkResult,
} from './worker-protocol.js';

/** How long a stopping worker gets to exit by itself before it is terminated. */
const STOP_GRACE_MS = 2_000;

/**
 * The rules the owners run, handed in from above (the runtime imports no
 * rules): the rule set itself for an inline owner, and the entry file of a
 * worker thread, which loads the same rule set on its own side.
 */
export interface RuleSet {
  readonly rules: ActorRules;
  readonly workerScript: () => URL;
}

/** What a ledger owner reports to the engine. */
export interface HostEvents {
  ready(): void;
  results(items: readonly WorkResult[]): void;
  stats(stats: CoreStats): void;
  /** Whether the owner can commit now: on each change (readiness, `ledger_store`). */
  store(state: StoreState): void;
  /** Start-up failed (Redis unreachable, say); `exit` follows. */
  fatal(message: string): void;
  /** The owner is gone (crash, kill, stop); whatever it had in flight is lost. */
  exit(code: number): void;
}

/**
 * One owner of a set of shards, as the engine drives it: a worker thread
 * (the default) or, with `ledger.inline`, a LedgerCore on the main thread.
 * Same core, same batches and same commits either way; inline skips the
 * hand-off (pack, postMessage, unpack, a thread wake-up each way), which
 * lowers latency at moderate load (open loop 20k/s: p50 1.8-2.9 vs 4.9-5.4 ms
 * here) but leaves one thread to do everything, so workers win at saturation
 * (docs/performance-log.md).
 */
export interface LedgerHost {
  send(items: WorkItem[]): void;
  /** New data keys, as the key file's JSON (SIGHUP). */
  setKeys(dataKeysJson: string): void;
  /** Graceful: the owner closes its connections and exits. */
  stop(): Promise<void>;
  /** Fault injection: goes away as a crash would (nothing more is answered). */
  kill(): Promise<void>;
  /**
   * Hands the shards over (the engine drained it first): drops every actor
   * and record and closes its connections; resolves once nothing it sent
   * can still reach Redis. The host stays, owning nothing.
   */
  release(): Promise<WarmRef[]>;
  /**
   * Takes the shards: a fresh core that takes them with a new epoch; rejects
   * if it could not start. Then loads `warm` (the old owner's accounts in
   * memory) in the background.
   */
  acquire(warm?: readonly WarmRef[]): Promise<void>;
  /**
   * Accounts its owner has in memory, where that can be read without a
   * message (the main thread's owner); undefined for a worker thread.
   */
  actorsInMemory(): number | undefined;
}

export function startWorkerHost(
  data: LedgerWorkerData,
  ruleSet: RuleSet,
  log: Logger,
  events: HostEvents,
): LedgerHost {
  const init: LedgerWorkerInit = { ...data, logLevel: log.level };
  const worker = new Worker(ruleSet.workerScript(), { workerData: init });
  /** The release or acquire under way (the engine runs one at a time per slot). */
  let handover: { resolve: (warm: WarmRef[]) => void; reject: (error: Error) => void } | undefined;
  const settle = (error?: Error, warm: WarmRef[] = []): void => {
    const waiting = handover;
    handover = undefined;
    if (error === undefined) waiting?.resolve(warm);
    else waiting?.reject(error);
  };
  const ask = (message: ToWorker & { t: 'release' | 'acquire' }): Promise<WarmRef[]> =>
    new Promise((resolve, reject) => {
      handover = { resolve, reject };
      worker.postMessage(message);
    });
  worker.on('message', (message: FromWorker) => {
    switch (message.t) {
      case 'ready':
        events.ready();
        return;
      case 'released':
        settle(undefined, [...message.warm]);
        return;
      case 'acquired':
        settle();
        return;
      case 'acquireFailed':
        settle(new Error(message.message));
        return;
      case 'results':
        events.results(unpackResults(message.items));
        return;
      case 'stats':
        events.stats(message);
        return;
      case 'fatal':
        events.fatal(message.message);
        return;
      case 'store':
        events.store(message);
        return;
    }
  });
  worker.on('error', (error) => log.error('ledger worker crashed', { worker: data.workerId, error }));
  worker.on('exit', (code) => {
    settle(new Error(`ledger worker exited (code ${code})`));
    events.exit(code);
  });
  return {
    send: (items) => {
      const packed = packWork(items);
      worker.postMessage({ t: 'work', items: packed }, transferOf(packed));
    },
    setKeys: (json) => worker.postMessage({ t: 'keys', json } satisfies ToWorker),
    stop: async () => {
      worker.postMessage({ t: 'stop' });
      await Promise.race([new Promise((resolve) => worker.once('exit', resolve)), delay(STOP_GRACE_MS)]);
      await worker.terminate();
    },
    kill: async () => {
      await worker.terminate();
    },
    release: () => ask({ t: 'release' }),
    acquire: async (warm = []) => {
      await ask({ t: 'acquire', warm });
    },
    // Known only to the worker thread (its stats say it once a second).
    actorsInMemory: () => undefined,
  };
}

export function startInlineHost(
  data: LedgerWorkerData,
  ruleSet: RuleSet,
  log: Logger,
  events: HostEvents,
): LedgerHost {
  let runtime: CoreRuntime | undefined;
  let gone = false;
  /** The data keys in force: a core acquired later starts with these. */
  let dataKeysJson = data.dataKeysJson;
  const end = (code: number): void => {
    if (gone) return;
    gone = true;
    runtime?.stop();
    runtime = undefined;
    // Asynchronously, as a worker's exit event would arrive.
    setImmediate(() => events.exit(code));
  };
  const start = (): Promise<CoreRuntime> =>
    startCoreRuntime(
      { ...data, dataKeysJson },
      ruleSet.rules,
      log.child({ worker: data.workerId, inline: true }),
      (items) => {
        if (!gone) events.results(items);
      },
      (stats) => {
        if (!gone) events.stats(stats);
      },
      (state) => {
        if (!gone) events.store(state);
      },
    );
  if (data.idle === true) {
    // Nothing to start: it owns nothing until acquire(). Ready asynchronously, as a worker's would be.
    setImmediate(() => {
      if (!gone) events.ready();
    });
  } else
    start().then(
      (started) => {
        if (gone) {
          started.stop();
          return;
        }
        runtime = started;
        events.ready();
      },
      (error: unknown) => {
        events.fatal(error instanceof Error ? error.message : String(error));
        end(1);
      },
    );
  return {
    send: (items) => runtime?.handle(items),
    setKeys: (json) => {
      runtime?.setKeys(json);
      dataKeysJson = json;
    },
    stop: async () => end(0),
    kill: async () => end(1),
    release: async () => {
      const leaving = runtime;
      runtime = undefined;
      return (await leaving?.release()) ?? [];
    },
    acquire: async (warm = []) => {
      const started = await start();
      if (gone) {
        started.stop();
        throw new Error('the inline ledger owner was stopped');
      }
      runtime = started;
      started.warm(warm);
    },
    actorsInMemory: () => runtime?.activeActors() ?? 0,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
