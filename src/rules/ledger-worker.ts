import { parentPort, workerData } from 'node:worker_threads';
import { BucketCounts } from '../observability/bucket-counts.js';
import { EventLoopSampler } from '../observability/event-loop-sampler.js';
import { createLogger } from '../observability/log.js';
import { EVENT_LOOP_DELAY_BUCKETS_S } from '../observability/metric-buckets.js';
import { type CoreRuntime, startCoreRuntime } from '../runtime/core/core-runtime.js';
import { packResults, transferOf, unpackWork } from '../runtime/worker/worker-codec.js';
import type { FromWorker, LedgerWorkerInit, ToWorker } from '../runtime/worker/worker-protocol.js';
import { switchRules } from './switch-rules.js';

/**
 * Entry point of a ledger worker thread: owns the actors of the shards the
 * main thread maps to it, and their commits, while its slot's owner is this
 * thread (a handover moves them to the main thread and back: release and
 * acquire). Everything interesting is in the runtime's LedgerCore (started
 * by core-runtime.ts) and the rule set it runs (the same one rule-set.ts
 * gives an inline owner); this file wires them to the port.
 */

const data = workerData as LedgerWorkerInit;
const port = parentPort!;
// The main thread's level (ledger-host.ts passes it): a worker logs what the switch is configured to log.
const log = createLogger(data.logLevel).child({ worker: data.workerId });
// This thread's event loop, shipped with the core's stats (switchyard_event_loop_delay_seconds{thread="ledger-<id>"}).
const loopDelay = new BucketCounts(EVENT_LOOP_DELAY_BUCKETS_S);
/** The core while this thread owns the shards; undefined while another host does. */
let runtime: CoreRuntime | undefined;
/** The data keys in force (a `keys` message replaces them): a core acquired later starts with these. */
let dataKeysJson = data.dataKeysJson;

function post(message: FromWorker): void {
  port.postMessage(message);
}

function start(): Promise<CoreRuntime> {
  return startCoreRuntime(
    { ...data, dataKeysJson },
    switchRules,
    log,
    (items) => {
      const packed = packResults(items);
      port.postMessage({ t: 'results', items: packed } satisfies FromWorker, transferOf(packed));
    },
    (stats) => post({ ...stats, eventLoopDelay: loopDelay.take() }),
    (state) => post({ t: 'store', ...state }),
  );
}

async function main(): Promise<void> {
  new EventLoopSampler(loopDelay).start();
  if (data.idle !== true) runtime = await start();
  port.on('message', (message: ToWorker) => {
    if (message.t === 'work') runtime?.handle(unpackWork(message.items));
    else if (message.t === 'keys') {
      try {
        runtime?.setKeys(message.json);
        dataKeysJson = message.json;
      } catch (error) {
        log.error('new data keys refused by the ledger worker; the keys in use stay', { error });
      }
    } else if (message.t === 'release') {
      const leaving = runtime;
      runtime = undefined;
      (leaving?.release() ?? Promise.resolve([])).then((warm) => post({ t: 'released', warm }));
    } else if (message.t === 'acquire') {
      start().then(
        (started) => {
          runtime = started;
          post({ t: 'acquired' });
          started.warm(message.warm);
        },
        (error: unknown) =>
          post({ t: 'acquireFailed', message: error instanceof Error ? error.message : String(error) }),
      );
    } else if (message.t === 'stop') {
      runtime?.stop();
      port.close();
    }
  });
  log.debug('ledger worker thread started', {
    workerCount: data.workerCount,
    epoch: data.epoch,
    idle: data.idle === true,
  });
  post({ t: 'ready' });
}

main().catch((error: unknown) => {
  // Logged here too: the main thread is told only the message, and this line keeps the stack and cause.
  log.error('ledger worker thread failed to start', { error });
  post({ t: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
