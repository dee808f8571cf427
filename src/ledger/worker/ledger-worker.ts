import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { createRrnGenerator, leaseRrnSource } from '../../engine/rrn.js';
import { keySpace } from '../../store/keys.js';
import { createLogger } from '../../util/log.js';
import { createAuthCodeGenerator } from '../auth-code.js';
import { packResults, transferOf, unpackWork } from '../worker-codec.js';
import type { FromWorker, LedgerWorkerData, ToWorker } from '../worker-protocol.js';
import { LedgerCore } from './ledger-core.js';

/**
 * Entry point of a ledger worker thread: owns the actors of the shards the
 * main thread maps to it, and their commits. Everything interesting is in
 * LedgerCore; this file wires it to the port and to Redis.
 */

const STATS_INTERVAL_MS = 1_000;

const data = workerData as LedgerWorkerData;
const port = parentPort!;
const log = createLogger('info').child({ worker: data.workerId });

function post(message: FromWorker): void {
  port.postMessage(message);
}

function connect(name: string): Redis {
  // Fail fast: no offline queue, no resend of unanswered commands after a
  // reconnect (an unanswered commit is answered 96, the worker re-fences its
  // shards so a late apply of it is refused, and its accounts are reloaded).
  const redis = new Redis(data.redisUrl, {
    connectionName: `switchyard-ledger-${data.workerId}-${name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    lazyConnect: true,
  });
  redis.on('error', () => {});
  return redis;
}

async function main(): Promise<void> {
  const writer = connect('writer');
  const reader = connect('reader');
  await Promise.all([writer.connect(), reader.connect()]);
  const keys = keySpace(data.keyPrefix);
  // A fresh source id per worker start: a restarted worker never repeats the rrns of the one before.
  const rrnSource = await leaseRrnSource(() => writer.incr(keys.rrnSourceCounter()));
  const core = new LedgerCore({
    workerId: data.workerId,
    workerCount: data.workerCount,
    epoch: data.epoch,
    holdTtlMs: data.holdTtlMs,
    dedupeWindowMs: data.dedupeWindowMs,
    actorsMax: data.actorsMax,
    commitTimeoutMs: data.commitTimeoutMs,
    keys,
    writer,
    reader,
    nextRrn: createRrnGenerator(rrnSource),
    nextAuthCode: createAuthCodeGenerator(data.workerId),
    post: (items) => {
      const packed = packResults(items);
      port.postMessage({ t: 'results', items: packed } satisfies FromWorker, transferOf(packed));
    },
    log,
  });
  await core.init();
  port.on('message', (message: ToWorker) => {
    if (message.t === 'work') core.handle(unpackWork(message.items));
    else if (message.t === 'stop') {
      clearInterval(statsTimer);
      writer.disconnect();
      reader.disconnect();
      port.close();
    }
  });
  const statsTimer = setInterval(() => {
    const s = core.takeStats();
    post({
      t: 'stats',
      actorsActive: s.actorsActive,
      mailboxDepth: s.mailboxDepth,
      batchSize: s.batchSizes,
      commitSeconds: s.commitSeconds,
    });
  }, STATS_INTERVAL_MS);
  statsTimer.unref();
  post({ t: 'ready' });
}

main().catch((error: unknown) => {
  post({ t: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
