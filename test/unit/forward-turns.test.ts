/**
 * ForwardTurns (src/runtime/core/forward-turns.ts) posts the forwards of one
 * turn of the event loop together, once the turn ends, and never lets a 96
 * for a forward's copies reach the main thread before the forward itself.
 */
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../src/runtime/core/actor.js';
import type { ActorRules, DecideContext, RouteDecision } from '../../src/runtime/core/actor-rules.js';
import type { BatchSink } from '../../src/runtime/core/batch-sink.js';
import { FailedResults } from '../../src/runtime/core/failed-results.js';
import { ForwardTurns } from '../../src/runtime/core/forward-turns.js';
import { OpenBatch } from '../../src/runtime/core/open-batch.js';
import { RecordIndex } from '../../src/runtime/records/record-index.js';
import type { WorkItem, WorkResult } from '../../src/runtime/worker/worker-protocol.js';
import { stringCodeSource } from '../../src/util/code-source.js';
import { txnRequest } from '../helpers/txn-request.js';

type TxnItem = Extract<WorkItem, { k: 'txn' }>;

function setUp() {
  const posts: WorkResult[][] = [];
  let rrn = 0;
  const rrns = stringCodeSource(() => `RRN${String(++rrn).padStart(9, '0')}`);
  const ctx: { -readonly [K in keyof DecideContext]: DecideContext[K] } = {
    nowMs: 0,
    holdTtlMs: 60_000,
    institution: '',
    rrns,
    authCodes: stringCodeSource(() => 'unused'),
  };
  // Every transaction is new to the issuer: forwarded.
  const rules = { route: (): RouteDecision => 'forward' } as unknown as ActorRules;
  const turns = new ForwardTurns({
    rules,
    ctx,
    sink: { actor: undefined, batch: undefined } as unknown as BatchSink,
    failures: new FailedResults(
      stringCodeSource(() => 'FAILED000001'),
      () => 0,
    ),
    post: (results) => posts.push(results),
    runWaiting: () => {},
  });
  return { posts, turns };
}

function actor(): Actor {
  return { forwards: undefined, records: new RecordIndex(), standIn: undefined } as unknown as Actor;
}

function item(seq: number): TxnItem {
  return {
    k: 'txn',
    seq,
    institution: 'acq',
    issuer: 'iss',
    req: txnRequest({ txnClass: '0100', stan: seq, pan: '5100000000000008', amount: 100 }),
  };
}

/** The end of this turn: the queued microtasks have run. */
const turnEnded = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('forward turns', () => {
  it("post one turn's forwards together, in order, once the turn ends", async () => {
    const { posts, turns } = setUp();
    const batch = new OpenBatch(1);
    for (const seq of [1, 2, 3]) turns.route(actor(), item(seq), batch, 1_000);
    expect(posts).toEqual([]);
    await turnEnded();
    expect(posts).toEqual([
      [
        { seq: 1, k: 'forward', rrn: 'RRN000000001' },
        { seq: 2, k: 'forward', rrn: 'RRN000000002' },
        { seq: 3, k: 'forward', rrn: 'RRN000000003' },
      ],
    ]);
    // The next turn's forwards are a post of their own.
    turns.route(actor(), item(4), batch, 1_001);
    await turnEnded();
    expect(posts.map((p) => p.map((r) => r.seq))).toEqual([[1, 2, 3], [4]]);
    expect(batch.results).toEqual([]);
  });

  it('post the forwards of the turn before the 96 of an actor abandoned in it', async () => {
    const { posts, turns } = setUp();
    const batch = new OpenBatch(1);
    const other = actor();
    const abandoned = actor();
    turns.route(other, item(1), batch, 1_000);
    turns.route(abandoned, item(2), batch, 1_000);
    turns.abandon(abandoned);
    expect(posts.flat().map((r) => [r.seq, r.k])).toEqual([
      [1, 'forward'],
      [2, 'forward'],
      [2, 'txn'],
    ]);
    expect(posts.flat()[2]).toMatchObject({ response: { rc: '96' } });
    await turnEnded();
    // Nothing posted twice.
    expect(posts.flat()).toHaveLength(3);
  });
});
