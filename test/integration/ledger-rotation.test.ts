/**
 * Key rotation in the ledger's core (src/runtime/core/ledger-core.ts), in-process against a
 * real redis-server: the re-seal turn and the barrier the rotation jobs wait on, aimed at
 * precisely (which answer, what the account log holds after). The jobs and a running switch
 * are in key-rotation.test.ts.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/log.js';
import { onUsRules } from '../../src/rules/onus/onus-rules.js';
import { AuthCodeSource } from '../../src/runtime/auth-code.js';
import { LedgerCore } from '../../src/runtime/core/ledger-core.js';
import { RrnSource } from '../../src/runtime/rrn.js';
import type { WorkItem, WorkResult } from '../../src/runtime/worker/worker-protocol.js';
import { AccountRefs } from '../../src/security/account-refs.js';
import { sealedKeyId } from '../../src/security/aead.js';
import { type KeyFile, keyFileText, parseKeyFile } from '../../src/security/key-file.js';
import { keySpace } from '../../src/store/keys.js';
import { claimAllShards } from '../../src/store/shard-epoch.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { accountLogAt } from '../helpers/account-log.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { devRefs } from '../helpers/test-keys.js';

let redis: RedisHandle;
let admin: Redis;
const connections: Redis[] = [];
let prefixSeq = 0;
let seq = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterEach(() => {
  for (const connection of connections.splice(0)) connection.disconnect();
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

/** The development keys with one more data key (current) or token key (current, the old one previous). */
function withNewKey(base: KeyFile, kind: 'data' | 'token', id: string): AccountRefs {
  const key = Buffer.alloc(32, id.charCodeAt(0));
  const next: KeyFile =
    kind === 'data'
      ? { ...base, dataKeys: new Map(base.dataKeys).set(id, key), currentDataKey: id }
      : {
          ...base,
          tokenKeys: new Map(base.tokenKeys).set(id, key),
          currentTokenKey: id,
          previousTokenKey: base.currentTokenKey,
        };
  return new AccountRefs(parseKeyFile(keyFileText(next), 'test'));
}

interface Harness {
  readonly core: LedgerCore;
  /** Every result, in the order the core posted them. */
  readonly results: WorkResult[];
  readonly keys: ReturnType<typeof keySpace>;
  run(items: WorkItem[]): Promise<WorkResult[]>;
}

async function newCore(prefix = `rot${++prefixSeq}`): Promise<Harness> {
  const keys = keySpace(prefix);
  const epoch = await claimAllShards(admin, keys);
  const connect = (): Redis => {
    const connection = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    connection.on('error', () => {});
    connections.push(connection);
    return connection;
  };
  const writer = connect();
  const reader = connect();
  await Promise.all([writer.connect(), reader.connect()]);
  const results: WorkResult[] = [];
  const core = new LedgerCore({
    rules: onUsRules,
    refs: devRefs,
    workerId: 0,
    owner: await admin.incr(keys.ownerCounter()),
    workerCount: 1,
    epoch,
    holdTtlMs: 60_000,
    dedupeWindowMs: 86_400_000,
    actorsMax: 100_000,
    recordsPerActorMax: 10_000,
    evictedKeysMax: 1_000_000,
    commitTimeoutMs: 10_000,
    keys,
    writer,
    reader,
    rrns: new RrnSource(3),
    authCodes: new AuthCodeSource(0),
    post: (items) => results.push(...items),
    log: silentLogger,
  });
  await core.init();
  const run = async (items: WorkItem[]): Promise<WorkResult[]> => {
    const seqs = new Set(items.map((i) => i.seq));
    const mine = (): WorkResult[] => results.filter((r) => seqs.has(r.seq));
    core.handle(items);
    await waitFor(() => mine().length >= items.length, EVENTUALLY_MS);
    return mine().sort((a, b) => a.seq - b.seq);
  };
  return { core, results, keys, run };
}

const pan = (n: number): string => withLuhnDigit(`43000000${String(n).padStart(7, '0')}`);

function put(p: string, balance = 10_000): WorkItem {
  return {
    k: 'put',
    seq: ++seq,
    pan: p,
    currency: 'EUR',
    balance,
    limits: undefined,
    status: undefined,
    createOnly: false,
  };
}

function outcomes(results: WorkResult[]): unknown[] {
  return results.map((r) => (r.k === 'rotation' ? r.outcome : r.k));
}

describe('the re-seal turn', () => {
  it('re-seals an account under an older data key once, durably, and answers current after', async () => {
    const h = await newCore();
    const pans = [pan(1), pan(2), pan(3)];
    await h.run(pans.map((p) => put(p)));
    const d2 = withNewKey(devRefs.keys, 'data', 'd2');
    h.core.setRefs(d2);
    const reseal = (p: string): WorkItem => ({
      k: 'reseal',
      seq: ++seq,
      shard: devRefs.shardOf(p),
      ref: devRefs.refOf(p),
    });
    // In memory (activated before the new key): re-sealed by this turn.
    expect(outcomes(await h.run(pans.map(reseal)))).toEqual(['done', 'done', 'done']);
    for (const p of pans) {
      const log = await accountLogAt(admin, h.keys.account(devRefs.shardOf(p), devRefs.refOf(p)));
      expect(sealedKeyId(log!.account!.panSealed)).toBe('d2');
      expect(d2.openPan(log!.account!.panSealed, devRefs.refOf(p))).toBe(p);
    }
    expect(outcomes(await h.run(pans.map(reseal)))).toEqual(['current', 'current', 'current']);
    // No such account: absent, nothing written.
    expect(outcomes(await h.run([reseal(pan(9))]))).toEqual(['absent']);
    expect(await admin.exists(h.keys.account(devRefs.shardOf(pan(9)), devRefs.refOf(pan(9))))).toBe(0);
  });

  it('an account activated by the job under the new key is re-sealed at activation and answered current', async () => {
    const h = await newCore();
    const p = pan(4);
    await h.run([put(p)]);
    // A fresh core on the same store with the new key: the account comes in by its ref.
    const fresh = await newCore(h.keys.prefix);
    fresh.core.setRefs(withNewKey(devRefs.keys, 'data', 'd2'));
    const [answer] = await fresh.run([
      { k: 'reseal', seq: ++seq, shard: devRefs.shardOf(p), ref: devRefs.refOf(p) },
    ]);
    expect(answer).toMatchObject({ k: 'rotation', outcome: 'current' });
    const log = await accountLogAt(admin, h.keys.account(devRefs.shardOf(p), devRefs.refOf(p)));
    expect(sealedKeyId(log!.account!.panSealed), 'durable before the answer').toBe('d2');
  });

  it('leaves a PAN whose data key is gone from the key file as it is, and says so', async () => {
    const h = await newCore();
    const p = pan(5);
    await h.run([put(p)]);
    const fresh = await newCore(h.keys.prefix);
    const withoutD1 = withNewKey(devRefs.keys, 'data', 'd2').keys;
    const dataKeys = new Map(withoutD1.dataKeys);
    dataKeys.delete('d1');
    fresh.core.setRefs(new AccountRefs({ ...withoutD1, dataKeys }));
    const [answer] = await fresh.run([
      { k: 'reseal', seq: ++seq, shard: devRefs.shardOf(p), ref: devRefs.refOf(p) },
    ]);
    expect(answer).toMatchObject({ k: 'rotation', outcome: 'unreadable' });
  });
});

describe('the barrier', () => {
  it('is answered only after every batch decided before it is released', async () => {
    const h = await newCore();
    const pans = Array.from({ length: 20 }, (_, i) => pan(100 + i));
    await h.run(pans.map((p) => put(p)));
    // Ready actors: these are decided at once, into the batch the barrier joins or one before.
    const adjustments: WorkItem[] = pans.map((p, i) => ({
      k: 'adjust',
      seq: ++seq,
      pan: p,
      amount: 1 + i,
      reference: `barrier-${i}`,
    }));
    const barrier: WorkItem = { k: 'barrier', seq: ++seq };
    await h.run([...adjustments, barrier]);
    const posted = h.results.map((r) => r.seq);
    for (const item of adjustments)
      expect(posted.indexOf(item.seq)).toBeLessThan(posted.indexOf(barrier.seq));
  });
});
