/**
 * docs/protocol.md section 1: while a connection has limits.inflightMax requests in
 * flight the switch stops reading from it; it never drops a request it has
 * read. With inflightMax 2 and real ledger commits, a host that pipelines far
 * more than that still gets every answer, and every approval took effect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { makePan, nextId } from '../helpers/messages.js';
import type { TransportKind } from '../helpers/raw-client.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';

const acq = makeInstitution('acq-bp', 'acquirer');
const TOKEN = 'backpressure-admin-token';
let stack: Stack;
const pool = new ClientPool();

beforeAll(async () => {
  stack = await startStack({
    config: {
      institutions: [institutionEntry(acq)],
      routes: [{ prefix: '4', issuer: 'local' }],
      admin: { token: TOKEN },
      limits: { inflightMax: 2 },
    },
  });
});

afterAll(async () => {
  pool.closeAll();
  await stack?.dispose();
});

describe.each<TransportKind>(['tcp', 'ws'])('back-pressure over %s', (transport) => {
  it('answers every pipelined request although only 2 may be in flight', async () => {
    const pan = makePan('4');
    const put = await admin(stack.sw, 'PUT', `/accounts/${pan}`, {
      token: TOKEN,
      body: { currency: 'EUR', balance: 1_000_000 },
    });
    expect(put.status).toBe(201);
    const client = await pool.signedOn(at(stack.sw, transport), acq);
    const time = Date.now();
    const requests = Array.from({ length: 300 }, (_, i) => ({
      mti: '0200',
      id: nextId(),
      stan: i + 1,
      time,
      pan,
      amount: 100,
      currency: 'EUR',
    }));
    // 30 frames of 10, written back to back without waiting.
    for (let i = 0; i < requests.length; i += 10) client.send(requests.slice(i, i + 10));
    const ids = new Set(requests.map((r) => r.id));
    const answers = await client.collect((m) => ids.has(m['id'] as number), requests.length, 30_000);
    expect(answers).toHaveLength(300);
    expect(answers.every((a) => a['rc'] === '00')).toBe(true);
    const view = await admin(stack.sw, 'GET', `/accounts/${pan}`, { token: TOKEN });
    expect(view.json).toMatchObject({ balance: 1_000_000 - 300 * 100, held: 0 });
  });
});
