/**
 * What the ledger's owners tell the main thread about whether they can commit (readiness
 * `ledger_store`, docs/protocol.md section 6), on worker threads and inline, with a real Redis
 * that is killed and started again and a real second owner that takes the shards: not ready
 * while a connection is away or a re-fence is under way, ready again only once a purchase is
 * processed, and fenced out for good once another owner holds the shards.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/log.js';
import type { OutboundMessage } from '../../src/protocol/request.js';
import type { TxnContext } from '../../src/protocol/txn-context.js';
import { ledgerRuleSet } from '../../src/rules/rule-set.js';
import { LedgerEngine } from '../../src/runtime/ledger-engine.js';
import { createRrnGenerator } from '../../src/runtime/rrn.js';
import { ShardHash } from '../../src/security/shard-hash.js';
import { keySpace } from '../../src/store/keys.js';
import { claimAllShards } from '../../src/store/shard-epoch.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { KillableRedis } from '../helpers/killable-redis.js';
import { LEDGER_HOSTS } from '../helpers/ledger-hosts.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { DEV_KEYS_JSON, devRefs } from '../helpers/test-keys.js';
import { txnRequest } from '../helpers/txn-request.js';

const pans = Array.from({ length: 16 }, (_, i) => withLuhnDigit(`42100000${String(i).padStart(7, '0')}`));

describe.each(LEDGER_HOSTS)('ledger owners say whether they can commit, $mode', ({ inline }) => {
  let redis: KillableRedis | undefined;
  let engine: LedgerEngine | undefined;
  const keys = keySpace(inline ? 'rdy-inline' : 'rdy');
  let stan = 0;

  beforeAll(async () => {
    redis = await KillableRedis.start();
    const client = new Redis(redis.url);
    const epoch = await claimAllShards(client, keys);
    client.disconnect();
    engine = new LedgerEngine({
      ruleSet: ledgerRuleSet,
      workers: 2,
      inline,
      workerData: {
        redisUrl: redis.url,
        epoch,
        holdTtlMs: 60_000,
        dedupeWindowMs: 86_400_000,
        dataKeysJson: DEV_KEYS_JSON,
        actorsMax: 10_000,
        recordsPerActorMax: 64,
        evictedKeysMax: 1_000_000,
        commitTimeoutMs: 2_000,
        keyPrefix: keys.prefix,
      },
      shards: new ShardHash(devRefs.keys.shardKey),
      log: silentLogger,
      rrn: createRrnGenerator(0),
    });
    await engine.start();
    for (const pan of pans) {
      const created = await engine.admin({
        k: 'put',
        pan,
        currency: 'EUR',
        balance: 1_000_000,
        limits: undefined,
        status: undefined,
        createOnly: false,
      });
      expect(created.ok).toBe(true);
    }
  });

  afterAll(async () => {
    await engine?.close();
    await redis?.dispose();
  });

  function purchase(pan: string): Promise<OutboundMessage> {
    return new Promise((resolve) => {
      stan++;
      const ctx: TxnContext = {
        request: txnRequest({ txnClass: '0200', id: stan, stan, pan, amount: 10 }),
        institution: 'acq',
        issuer: 'local',
        receivedAtMs: performance.now(),
        replyTo: { deliver: (response) => resolve(response) },
      };
      engine!.submit(ctx);
    });
  }

  it('can commit once started', () => {
    expect(engine!.ownersNotUp()).toEqual([]);
    expect(engine!.ownersUnableToCommit()).toEqual([]);
  });

  it('not while Redis is away, and again only once a purchase on any account is processed', async () => {
    await redis!.kill9();
    expect(await waitFor(() => engine!.ownersUnableToCommit().length === 2, EVENTUALLY_MS)).toBe(true);
    for (const problem of engine!.ownersUnableToCommit())
      expect(problem).toMatch(/^worker [01]: redis (writer|reader) /);
    // Commits fail meanwhile: each owner re-fences its shards before it writes again.
    const during = await Promise.all(pans.map(purchase));
    expect(during.every((r) => r.rc === '96')).toBe(true);
    expect(engine!.ownersNotUp()).toEqual([]);

    await redis!.restart();
    expect(await waitFor(() => engine!.ownersUnableToCommit().length === 0, EVENTUALLY_MS, 5)).toBe(true);
    const after = await Promise.all(pans.map(purchase));
    expect(after.map((r) => r.rc)).toEqual(pans.map(() => '00'));
  });

  it('fenced out for good once another owner takes the shards', async () => {
    const other = new Redis(redis!.url);
    await claimAllShards(other, keys);
    other.disconnect();
    const refused = await Promise.all(pans.map(purchase));
    expect(refused.every((r) => r.rc === '96')).toBe(true);
    expect(await waitFor(() => engine!.ownersUnableToCommit().length === 2, EVENTUALLY_MS)).toBe(true);
    expect(engine!.ownersUnableToCommit()).toEqual([
      'worker 0: fenced out: another owner took its shards',
      'worker 1: fenced out: another owner took its shards',
    ]);
  });
});
