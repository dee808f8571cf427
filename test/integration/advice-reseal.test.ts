/**
 * The data-key re-seal of queued store-and-forward advices (src/jobs/advice-reseal.ts,
 * src/runtime/storage/advice-seals.ts) against a real redis-server, with the real delivery
 * (src/rules/issuer/advice-delivery.ts) on an in-process link: the compare-and-set write never
 * brings back an advice delivered and deleted after the job read it, nor overwrites a seal
 * another writer changed; the delivery opens the re-sealed PAN, also for advices it read before
 * the re-seal, once the old key is gone; the job walks every issuer's stream, idempotently,
 * without touching the entries; GET /keys/usage's reader counts advices by the seal that
 * protects them. The whole rotation on the real switch is in key-rotation-advices.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AdviceResealOptions, emptyAdviceTally, resealAdvices } from '../../src/jobs/advice-reseal.js';
import { silentLogger } from '../../src/observability/log.js';
import type { OutboundMessage } from '../../src/protocol/request.js';
import { AdviceDelivery } from '../../src/rules/issuer/advice-delivery.js';
import {
  type QueuedAdvice,
  readAdvices,
  sealKeyIdOf,
  sealOf,
  storeResealed,
} from '../../src/runtime/storage/advice-seals.js';
import { dataKeyRetirable, readKeyUsage } from '../../src/runtime/storage/key-usage.js';
import type { AdviceRecord } from '../../src/runtime/storage/state-codec.js';
import { AccountRefs } from '../../src/security/account-refs.js';
import { type KeySpace, keySpace } from '../../src/store/keys.js';
import { adviceId, queueAdvice } from '../helpers/advices.js';
import { makePan } from '../helpers/messages.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { devRefs } from '../helpers/test-keys.js';

const redis = useRedisServer();

/** The development keys with a second data key, d2, made current: d1 is the old key, still in the file. */
const rotating = new AccountRefs({
  ...devRefs.keys,
  dataKeys: new Map([...devRefs.keys.dataKeys, ['d2', randomBytes(32)]]),
  currentDataKey: 'd2',
});
/** The same after d1 is retired: what d1 sealed no longer opens. */
const retired = new AccountRefs({
  ...rotating.keys,
  dataKeys: new Map([['d2', rotating.keys.dataKeys.get('d2')!]]),
});

/** A delivery of `issuer`'s advices on a link that records what it is given. */
function deliveryOf(keys: KeySpace, issuer: string, refs: () => AccountRefs, repeatAfterMs = 600_000) {
  const sent: OutboundMessage[] = [];
  const delivery = new AdviceDelivery({
    issuer,
    redis: redis.client,
    keys,
    links: {
      linksOf: () => [
        {
          sendToHost: (message) => {
            sent.push(message);
            return true;
          },
        },
      ],
    },
    refs,
    inFlightMax: 16,
    repeatAfterMs,
    log: silentLogger,
  });
  return { delivery, sent };
}

/** The re-seal walk's options over `keys`, sealing with `refs()`, at full speed and never interrupted. */
function walkOptions(keys: KeySpace, refs: () => AccountRefs): AdviceResealOptions {
  return {
    connection: redis.client,
    keys,
    refs,
    perSecondMax: 1_000,
    interrupted: () => false,
    log: silentLogger,
  };
}

/** Re-sealed under `refs`' current key, as the job would write it for what it read. */
function resealedFor(page: readonly QueuedAdvice[], refs: AccountRefs) {
  return page.map((queued) => {
    const advice = queued.advice as AdviceRecord;
    return {
      queued: { ...queued, advice },
      sealed: refs.sealPan(refs.openPan(sealOf(queued)!, advice.id), advice.id),
    };
  });
}

describe('re-sealing queued advices', () => {
  it('never brings back an advice delivered and deleted after the job read it, nor overwrites a seal changed since', async () => {
    const keys = keySpace('ars1');
    const pans = Array.from({ length: 4 }, () => makePan('6'));
    for (const [i, pan] of pans.entries()) await queueAdvice(redis.client, keys, 'iss', i + 1, pan, devRefs);
    // The job reads its page...
    const page = await readAdvices(redis.client, keys, 'iss', undefined, 10);
    expect(page.map((q) => [q.advice?.id, q.resealed])).toEqual(
      pans.map((_, i) => [adviceId(i + 1), undefined]),
    );
    // ...then the delivery sends all four and the issuer acknowledges the first two: deleted from the stream.
    const { delivery, sent } = deliveryOf(keys, 'iss', () => rotating);
    delivery.start();
    try {
      expect(await waitFor(() => sent.length >= 4, EVENTUALLY_MS)).toBe(true);
      expect(delivery.acknowledge('0130', adviceId(1))).toBe(true);
      expect(delivery.acknowledge('0130', adviceId(2))).toBe(true);
      expect(
        await waitFor(async () => (await redis.client.xlen(keys.advices('iss'))) === 2, EVENTUALLY_MS),
      ).toBe(true);
      // ...and only then does the job write what it read.
      const writes = resealedFor(page, rotating);
      expect(await storeResealed(redis.client, keys, 'iss', writes)).toEqual([
        'absent',
        'absent',
        'done',
        'done',
      ]);
      const seals = keys.adviceSeals('iss');
      expect((await redis.client.hkeys(seals)).sort()).toEqual([adviceId(3), adviceId(4)]);
      // A second writer that read before the first wrote finds the hash changed: nothing overwritten.
      const stored = await redis.client.hgetBuffer(seals, adviceId(3));
      expect(await storeResealed(redis.client, keys, 'iss', writes.slice(2))).toEqual(['retry', 'retry']);
      expect(await redis.client.hgetBuffer(seals, adviceId(3))).toEqual(stored);
      // The stream's order and entries are untouched.
      expect((await redis.client.xrange(keys.advices('iss'), '-', '+')).map(([id]) => id)).toEqual(
        page.slice(2).map((q) => q.streamId),
      );
      // Acknowledged and deleted: the re-sealed PANs go with their entries.
      expect(delivery.acknowledge('0130', adviceId(3))).toBe(true);
      expect(delivery.acknowledge('0130', adviceId(4))).toBe(true);
      expect(
        await waitFor(
          async () =>
            (await redis.client.xlen(keys.advices('iss'))) === 0 && (await redis.client.hlen(seals)) === 0,
          EVENTUALLY_MS,
        ),
        'no re-sealed PAN outlives its advice',
      ).toBe(true);
      expect(sent.map((m) => [m['id'], m['pan']])).toEqual(pans.map((pan, i) => [adviceId(i + 1), pan]));
    } finally {
      await delivery.stop();
    }
  });

  it('the delivery opens the re-sealed PAN once the old key is retired, also for advices it read before the re-seal', async () => {
    const keys = keySpace('ars2');
    const pans = Array.from({ length: 3 }, () => makePan('6'));
    for (const [i, pan] of pans.entries()) await queueAdvice(redis.client, keys, 'iss', i + 1, pan, devRefs);
    let refs = rotating;
    const { delivery, sent } = deliveryOf(keys, 'iss', () => refs, 300);
    delivery.start();
    try {
      // Read and sent under d1, not acknowledged: the window keeps the entries' own seals.
      expect(await waitFor(() => sent.length >= 3, EVENTUALLY_MS)).toBe(true);
      const tally = emptyAdviceTally();
      expect(
        await resealAdvices(
          walkOptions(keys, () => refs),
          tally,
        ),
      ).toBe(true);
      expect(tally).toMatchObject({ asked: 3, done: 3, current: 0, unreadable: 0 });
      refs = retired;
      const before = sent.length;
      // Repeated after the retirement: each with its PAN, opened from the re-sealed copy.
      expect(
        await waitFor(() => new Set(sent.slice(before).map((m) => m['id'])).size === 3, EVENTUALLY_MS),
      ).toBe(true);
      for (const [i, pan] of pans.entries())
        expect(sent.slice(before).find((m) => m['id'] === adviceId(i + 1))).toMatchObject({
          mti: '0121',
          pan,
        });
    } finally {
      await delivery.stop();
    }
    // A delivery that reads them afresh (a restart) under d2 alone sends them in order with their PANs.
    const fresh = deliveryOf(keys, 'iss', () => retired);
    fresh.delivery.start();
    try {
      expect(await waitFor(() => fresh.sent.length >= 3, EVENTUALLY_MS)).toBe(true);
      expect(fresh.sent.map((m) => [m['mti'], m['id'], m['pan']])).toEqual(
        pans.map((pan, i) => ['0120', adviceId(i + 1), pan]),
      );
    } finally {
      await fresh.delivery.stop();
    }
  });

  it('walks every issuer’s stream idempotently, the entries untouched; key usage counts advices by the seal that protects them', async () => {
    const keys = keySpace('ars3');
    const pans = new Map<string, string>();
    const queue = async (issuer: string, n: number, refs: AccountRefs) => {
      const pan = makePan('6');
      pans.set(`${issuer}/${adviceId(n)}`, pan);
      await queueAdvice(redis.client, keys, issuer, n, pan, refs);
    };
    // Issuer a: three under d1. Issuer b (in no config: found in the store): two under d1, one under d2,
    // and one entry nothing can read.
    for (const n of [1, 2, 3]) await queue('a', n, devRefs);
    await queue('b', 1, devRefs);
    await redis.client.xadd(keys.advices('b'), '*', 'd', 'not an advice');
    await queue('b', 2, rotating);
    await queue('b', 3, devRefs);
    const entriesBefore = await Promise.all(
      ['a', 'b'].map((i) => redis.client.xrangeBuffer(keys.advices(i), '-', '+')),
    );

    const before = await readKeyUsage(redis.client, keys, rotating.keys);
    expect(before.dataKeys['d1']).toMatchObject({ advices: 5, identities: 0 });
    expect(before.dataKeys['d2']).toMatchObject({ advices: 1 });
    expect(before).toMatchObject({ advices: 7, unreadableAdvices: 1 });
    expect(dataKeyRetirable(before, 'd1')).toBe(false);

    const options = walkOptions(keys, () => rotating);
    // Stopped before its first step: nothing written, and it says so.
    const stopped = emptyAdviceTally();
    expect(await resealAdvices({ ...options, interrupted: () => true }, stopped)).toBe(false);
    expect(stopped.asked).toBe(0);
    expect(await redis.client.exists(keys.adviceSeals('a'), keys.adviceSeals('b'))).toBe(0);

    const first = emptyAdviceTally();
    expect(await resealAdvices(options, first)).toBe(true);
    expect(first).toEqual({ asked: 7, done: 5, current: 1, absent: 0, unreadable: 1 });
    // Again (a job taken up after kill -9): nothing left to write.
    const again = emptyAdviceTally();
    expect(await resealAdvices(options, again)).toBe(true);
    expect(again).toEqual({ asked: 7, done: 0, current: 6, absent: 0, unreadable: 1 });

    const after = await readKeyUsage(redis.client, keys, rotating.keys);
    expect(after.dataKeys['d1']).toMatchObject({ advices: 0 });
    expect(after.dataKeys['d2']).toMatchObject({ advices: 6 });
    expect(dataKeyRetirable(after, 'd1')).toBe(true);
    // Each advice's PAN opens under d2 alone, from the seal that protects it now; the entries are as they were.
    for (const issuer of ['a', 'b']) {
      for (const queued of await readAdvices(redis.client, keys, issuer, undefined, 100)) {
        if (queued.advice === undefined) continue;
        expect(sealKeyIdOf(sealOf(queued))).toBe('d2');
        expect(retired.openPan(sealOf(queued)!, queued.advice.id)).toBe(
          pans.get(`${issuer}/${queued.advice.id}`),
        );
      }
    }
    expect(
      await Promise.all(['a', 'b'].map((i) => redis.client.xrangeBuffer(keys.advices(i), '-', '+'))),
    ).toEqual(entriesBefore);
  });
});
