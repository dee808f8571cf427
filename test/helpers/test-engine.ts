import { expect } from 'vitest';
import { silentLogger } from '../../src/observability/log.js';
import type { OutboundMessage } from '../../src/protocol/request.js';
import type { TxnContext } from '../../src/protocol/txn-context.js';
import { ledgerRuleSet } from '../../src/rules/rule-set.js';
import { LedgerEngine, type LedgerEngineOptions } from '../../src/runtime/ledger-engine.js';
import { createRrnGenerator } from '../../src/runtime/rrn.js';
import { ShardHash } from '../../src/security/shard-hash.js';
import { type KeySpace, keySpace } from '../../src/store/keys.js';
import { claimAllShards } from '../../src/store/shard-epoch.js';
import type { RedisFixture } from './redis-fixture.js';
import { DEV_KEYS_JSON, devRefs } from './test-keys.js';
import { txnRequest } from './txn-request.js';

export interface TestEngineOptions {
  readonly redisUrl: string;
  readonly keys: KeySpace;
  /** The shards' epoch (claimAllShards). */
  readonly epoch: number;
  readonly inline: boolean;
  readonly commitTimeoutMs: number;
  /** What the engine tells the metrics, for a test that watches it. */
  readonly hooks?: Pick<LedgerEngineOptions, 'onRestart' | 'onStats' | 'onForward'>;
  /** The adaptive policy (ledger.adaptive), if the test wants one. */
  readonly adaptive?: LedgerEngineOptions['adaptive'];
}

/**
 * A LedgerEngine of two owners (worker threads, or inline) on the test's
 * Redis, with the development data keys and the switch's rule set, started.
 * For tests of the engine in this process; the caller closes it.
 */
export async function startTestEngine(o: TestEngineOptions): Promise<LedgerEngine> {
  const engine = new LedgerEngine({
    ruleSet: ledgerRuleSet,
    workers: 2,
    inline: o.inline,
    workerData: {
      redisUrl: o.redisUrl,
      epoch: o.epoch,
      holdTtlMs: 60_000,
      dedupeWindowMs: 86_400_000,
      dataKeysJson: DEV_KEYS_JSON,
      actorsMax: 10_000,
      recordsPerActorMax: 64,
      evictedKeysMax: 1_000_000,
      commitTimeoutMs: o.commitTimeoutMs,
      keyPrefix: o.keys.prefix,
    },
    shards: new ShardHash(devRefs.keys.shardKey),
    log: silentLogger,
    rrn: createRrnGenerator(0),
    adaptive: o.adaptive,
    ...o.hooks,
  });
  await engine.start();
  return engine;
}

/** Creates an EUR account through the owning actor; asserts it was created. */
export async function createAccount(engine: LedgerEngine, pan: string, balance: number): Promise<void> {
  const created = await engine.admin({
    k: 'put',
    pan,
    currency: 'EUR',
    balance,
    limits: undefined,
    status: undefined,
    createOnly: false,
  });
  expect(created.ok).toBe(true);
}

/** A purchase (0200) of `amount` under key `stan`, as the session layer would submit it; resolves with its answer. */
export function purchase(
  engine: LedgerEngine,
  pan: string,
  stan: number,
  amount: number,
): Promise<OutboundMessage> {
  return new Promise((resolve) => {
    const ctx: TxnContext = {
      request: txnRequest({ txnClass: '0200', id: stan, stan, pan, amount }),
      institution: 'acq',
      issuer: 'local',
      receivedAtMs: performance.now(),
      replyTo: { deliver: (response) => resolve(response) },
    };
    engine.submit(ctx);
  });
}

/**
 * A two-worker engine (worker threads) on the fixture's Redis under key prefix `prefix` (the
 * default prefix if none), its shards claimed, with an EUR account of `opening` for each PAN.
 */
export async function startEngineWithAccounts(
  redis: RedisFixture,
  o: {
    readonly prefix?: string;
    readonly pans: readonly string[];
    readonly opening: number;
  } & Pick<TestEngineOptions, 'hooks' | 'adaptive'>,
): Promise<LedgerEngine> {
  const keys = keySpace(o.prefix);
  const epoch = await claimAllShards(redis.client, keys);
  const engine = await startTestEngine({
    redisUrl: redis.server.url,
    keys,
    epoch,
    inline: false,
    commitTimeoutMs: 10_000,
    hooks: o.hooks,
    adaptive: o.adaptive,
  });
  for (const pan of o.pans) await createAccount(engine, pan, o.opening);
  return engine;
}
