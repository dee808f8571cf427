/**
 * Key rotation in the ledger's core (src/runtime/core/ledger-core.ts), in-process against a
 * real redis-server: the re-seal and re-key turns, lookups under the previous token key, the
 * aliases a move leaves (followed by hold expiry's old refs), one actor per account whatever
 * ref named it, and the barrier the rotation jobs wait on, aimed at precisely (which answer,
 * what Redis holds after). The jobs and a running switch are in key-rotation.test.ts.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccountView } from '../../src/runtime/account.js';
import { fieldsOf, type ResponseFields } from '../../src/runtime/records/stored-response.js';
import { recordKey } from '../../src/runtime/records/txn-record.js';
import type { WorkItem, WorkResult } from '../../src/runtime/worker/worker-protocol.js';
import { AccountRefs } from '../../src/security/account-refs.js';
import { sealedKeyId } from '../../src/security/aead.js';
import { type KeyFile, keyFileText, parseKeyFile } from '../../src/security/key-file.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import { accountLogAt } from '../helpers/account-log.js';
import { type CoreHarness, startCoreHarness } from '../helpers/ledger-core-harness.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { devRefs } from '../helpers/test-keys.js';
import { txnRequest } from '../helpers/txn-request.js';

let redis: RedisHandle;
let admin: Redis;
const harnesses: CoreHarness[] = [];
let prefixSeq = 0;
let seq = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterEach(() => {
  for (const h of harnesses.splice(0)) {
    h.writer.disconnect();
    h.reader.disconnect();
  }
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

async function newCore(
  prefix = `rot${++prefixSeq}`,
  refs: AccountRefs = devRefs,
  nowMs?: () => number,
): Promise<CoreHarness> {
  const h = await startCoreHarness(redis.url, admin, {
    prefix,
    refs,
    rrnSource: 3,
    ...(nowMs === undefined ? {} : { nowMs }),
  });
  harnesses.push(h);
  return h;
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

/** An authorization (a hold) of `amount` on `p`, under a key of its own. */
function hold(p: string, stan: number, amount: number): Extract<WorkItem, { k: 'txn' }> {
  const req = txnRequest({ id: stan, stan, time: 1_764_000_000_000 + stan, pan: p, amount });
  return { k: 'txn', seq: ++seq, institution: 'acq', req };
}

function again(item: Extract<WorkItem, { k: 'txn' }>): WorkItem {
  return { ...item, seq: ++seq, req: { ...item.req, repeat: true } };
}

function responseOf(result: WorkResult | undefined): ResponseFields {
  if (result?.k !== 'txn') throw new Error(`not a transaction result: ${JSON.stringify(result)}`);
  return fieldsOf(result.response);
}

function accountOf(result: WorkResult | undefined): AccountView {
  if (result?.k !== 'admin' || !result.outcome.ok)
    throw new Error(`not an account: ${JSON.stringify(result)}`);
  return result.outcome.account;
}

const t2 = withNewKey(devRefs.keys, 'token', 't2');

describe('the re-key turn', () => {
  it('moves the account to its new ref in one commit: log, records, new identity, alias', async () => {
    const h = await newCore();
    const p = pan(20);
    const placed = hold(p, 1, 300);
    await h.run([put(p, 5_000)]);
    const [first] = await h.run([placed]);
    h.core.setRefs(t2);
    const oldRef = devRefs.refOf(p);
    const newRef = t2.refOf(p);
    const shard = devRefs.shardOf(p);
    expect(outcomes(await h.run([{ k: 'rekey', seq: ++seq, shard, ref: oldRef }]))).toEqual(['done']);
    expect(await admin.exists(h.keys.account(shard, oldRef))).toBe(0);
    expect(await admin.get(h.keys.accountAlias(shard, oldRef))).toBe(newRef);
    const log = await accountLogAt(admin, h.keys.account(shard, newRef));
    expect(log!.account).toMatchObject({ balance: 5_000, held: 300 });
    // The identity is bound to the new ref: it opens for it, not for the old one.
    expect(t2.openPan(log!.account!.panSealed, newRef)).toBe(p);
    expect(() => t2.openPan(log!.account!.panSealed, oldRef)).toThrow();
    // The records moved with the log: the duplicate is answered as the original was.
    const [replay] = await h.run([again(placed)]);
    expect(responseOf(replay)).toEqual(responseOf(first));
    // Asked again by either ref: the account is at its current ref.
    expect(outcomes(await h.run([{ k: 'rekey', seq: ++seq, shard, ref: oldRef }]))).toEqual(['current']);
    expect(outcomes(await h.run([{ k: 'rekey', seq: ++seq, shard, ref: newRef }]))).toEqual(['current']);
  });

  it('a fresh owner finds an account not yet re-keyed by PAN under the previous token key, then moves it', async () => {
    const h = await newCore();
    const p = pan(21);
    await h.run([put(p, 5_000)]);
    const fresh = await newCore(h.keys.prefix, t2);
    expect(accountOf((await fresh.run([{ k: 'get', seq: ++seq, pan: p }]))[0])).toMatchObject({
      balance: 5_000,
    });
    const [spent] = await fresh.run([hold(p, 2, 100)]);
    expect(responseOf(spent).rc).toBe('00');
    const shard = devRefs.shardOf(p);
    // Still where it was (found, not moved, by the lookup): the job moves it.
    expect(await admin.exists(h.keys.account(shard, devRefs.refOf(p)))).toBe(1);
    expect(outcomes(await fresh.run([{ k: 'rekey', seq: ++seq, shard, ref: devRefs.refOf(p) }]))).toEqual([
      'done',
    ]);
    expect(accountOf((await fresh.run([{ k: 'get', seq: ++seq, pan: p }]))[0])).toMatchObject({
      balance: 5_000,
      held: 100,
    });
    // A new account while a token key rotates is made under the current one.
    const q = pan(22);
    await fresh.run([put(q, 1)]);
    expect(await admin.exists(h.keys.account(t2.shardOf(q), t2.refOf(q)))).toBe(1);
    expect(await admin.exists(h.keys.account(devRefs.shardOf(q), devRefs.refOf(q)))).toBe(0);
  });

  it('hold expiry by the old ref a journal record names still releases the hold after the move', async () => {
    const h = await newCore();
    const p = pan(23);
    const placed = hold(p, 3, 700);
    await h.run([put(p, 5_000), placed]);
    h.core.setRefs(t2);
    const shard = devRefs.shardOf(p);
    const oldRef = devRefs.refOf(p);
    await h.run([{ k: 'rekey', seq: ++seq, shard, ref: oldRef }]);
    // A later owner, past the hold's expiry, asked by the old ref (what the journal says).
    const later = await newCore(h.keys.prefix, t2, () => Date.now() + 120_000);
    const key = recordKey('acq', placed.req.stan, placed.req.time);
    const [expired] = await later.run([{ k: 'expire', seq: ++seq, shard, ref: oldRef, recordKey: key }]);
    expect(expired).toMatchObject({ k: 'expire', outcome: 'released' });
    expect(accountOf((await later.run([{ k: 'get', seq: ++seq, pan: p }]))[0])).toMatchObject({
      balance: 5_000,
      held: 0,
    });
  });

  it('one actor per account: an old ref and the PAN arriving together, the previous key no longer named', async () => {
    const h = await newCore();
    const p = pan(24);
    const placed = hold(p, 4, 200);
    await h.run([put(p, 5_000), placed]);
    h.core.setRefs(t2);
    const shard = devRefs.shardOf(p);
    const oldRef = devRefs.refOf(p);
    await h.run([{ k: 'rekey', seq: ++seq, shard, ref: oldRef }]);
    // t1 retired from lookups (its alias stays): the PAN's actor and the old ref's actor start apart.
    const t2Only = new AccountRefs({ ...t2.keys, previousTokenKey: undefined });
    const later = await newCore(h.keys.prefix, t2Only, () => Date.now() + 120_000);
    const key = recordKey('acq', placed.req.stan, placed.req.time);
    const results = await later.run([
      { k: 'get', seq: ++seq, pan: p },
      { k: 'expire', seq: ++seq, shard, ref: oldRef, recordKey: key },
      { k: 'adjust', seq: ++seq, pan: p, amount: 50, reference: 'merge-1' },
    ]);
    expect(results[1]).toMatchObject({ k: 'expire', outcome: 'released' });
    // The old ref's actor learned which account it is after the PAN's had run (a second read):
    // its work went to that one, in whichever order, each exactly once.
    expect(accountOf(results[2]).balance).toBe(5_050);
    expect(accountOf((await later.run([{ k: 'get', seq: ++seq, pan: p }]))[0])).toMatchObject({
      balance: 5_050,
      held: 0,
    });
    expect(later.core.activeActors).toBe(1);
  });

  it('leaves an account alone when another account of the same PAN is at its new ref', async () => {
    const h = await newCore();
    const p = pan(25);
    await h.run([put(p, 5_000)]);
    // A second account of the PAN under the new token key (what a retired previous key could cause).
    const other = await newCore(h.keys.prefix, new AccountRefs({ ...t2.keys, previousTokenKey: undefined }));
    await other.run([put(p, 9)]);
    const mover = await newCore(h.keys.prefix, t2);
    const shard = devRefs.shardOf(p);
    const oldRef = devRefs.refOf(p);
    expect(outcomes(await mover.run([{ k: 'rekey', seq: ++seq, shard, ref: oldRef }]))).toEqual(['conflict']);
    expect(await admin.exists(h.keys.account(shard, oldRef))).toBe(1);
    expect((await accountLogAt(admin, h.keys.account(shard, t2.refOf(p))))!.account!.balance).toBe(9);
  });
});
