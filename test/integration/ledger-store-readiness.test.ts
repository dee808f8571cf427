/**
 * What the ledger's owners tell the main thread about whether they can commit (readiness
 * `ledger_store`, docs/protocol.md section 6), on worker threads and inline, with a real Redis
 * that is killed and started again and a real second owner that takes the shards: not ready
 * while a connection is away or a re-fence is under way, ready again only once a purchase is
 * processed, and fenced out for good once another owner holds the shards.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEngine } from '../../src/runtime/ledger-engine.js';
import { keySpace } from '../../src/store/keys.js';
import { claimAllShards } from '../../src/store/shard-epoch.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { KillableRedis } from '../helpers/killable-redis.js';
import { LEDGER_HOSTS } from '../helpers/ledger-hosts.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { createAccount, purchase as purchaseOn, startTestEngine } from '../helpers/test-engine.js';

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
    engine = await startTestEngine({ redisUrl: redis.url, keys, epoch, inline, commitTimeoutMs: 2_000 });
    for (const pan of pans) await createAccount(engine, pan, 1_000_000);
  });

  afterAll(async () => {
    await engine?.close();
    await redis?.dispose();
  });

  const purchase = (pan: string) => purchaseOn(engine!, pan, ++stan, 10);

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
