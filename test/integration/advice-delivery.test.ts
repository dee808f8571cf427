/**
 * The advice delivery (src/rules/issuer/advice-delivery.ts) against a real redis-server: its
 * window (issuerAdvicesInFlightMax) holds back what is past it until an acknowledgment makes
 * room, in queue order. The issuer's connection is an in-process link that records what it is
 * given (the end-to-end delivery over sockets is in issuer-forwarding.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/log.js';
import type { OutboundMessage } from '../../src/protocol/request.js';
import type { IssuerLink } from '../../src/protocol/txn-context.js';
import { AdviceDelivery } from '../../src/rules/issuer/advice-delivery.js';
import { keySpace } from '../../src/store/keys.js';
import { queueAdvice } from '../helpers/advices.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { useRedisServer } from '../helpers/redis-fixture.js';
import { devRefs } from '../helpers/test-keys.js';

const redis = useRedisServer();

describe('advice delivery', () => {
  it('keeps at most issuerAdvicesInFlightMax unacknowledged, in queue order; an acknowledgment makes room', async () => {
    const keys = keySpace('adv1');
    const pan = '4111111111111111';
    for (let n = 1; n <= 4; n++) await queueAdvice(redis.client, keys, 'iss', n, pan, devRefs);
    const sent: OutboundMessage[] = [];
    const link: IssuerLink = {
      sendToHost: (message) => {
        sent.push(message);
        return true;
      },
    };
    const delivery = new AdviceDelivery({
      issuer: 'iss',
      redis: redis.client,
      keys,
      links: { linksOf: () => [link] },
      refs: () => devRefs,
      inFlightMax: 2,
      repeatAfterMs: 600_000,
      log: silentLogger,
    });
    delivery.start();
    try {
      await waitFor(() => sent.length >= 2, EVENTUALLY_MS);
      // Several passes later (one every 100 ms) the window still holds two: nothing past it went out.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sent.map((m) => m['stan'])).toEqual([1, 2]);
      expect(sent[0]).toMatchObject({ mti: '0120', id: 'RRN000000001.0120', pan, amount: 100 });
      // The second acknowledged first: still no room until the first is (the window is the oldest two).
      expect(delivery.acknowledge('0130', 'RRN000000002.0120')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sent).toHaveLength(2);
      expect(delivery.acknowledge('0130', 'RRN000000001.0120')).toBe(true);
      await waitFor(() => sent.length >= 4, EVENTUALLY_MS);
      expect(sent.map((m) => m['stan'])).toEqual([1, 2, 3, 4]);
      expect(delivery.acknowledge('0230', 'RRN000000003.0120')).toBe(false);
    } finally {
      await delivery.stop();
    }
  });
});
