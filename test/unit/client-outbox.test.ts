import { describe, expect, it } from 'vitest';
import type { FrameUnit } from '../../src/client/batch-frames.js';
import { Outbox } from '../../src/client/outbox.js';
import type { Transport } from '../../src/client/transport.js';
import { decodePayload, encodePayload } from '../../src/codec/codec.js';

/** A transport that records payloads and reports back-pressure when told to. */
function fakeTransport() {
  const sent: unknown[] = [];
  const state = { highWater: false };
  const transport: Transport = {
    ready: Promise.resolve(),
    send(payload: Buffer): boolean {
      sent.push(decodePayload(payload));
      return !state.highWater;
    },
    cork() {},
    uncork() {},
    end() {},
    destroy() {},
  };
  return { transport, sent, state };
}

function unit(id: number): FrameUnit {
  const message = encodePayload({ mti: '0100', id });
  return { messages: [message], bytes: message.length, asArray: false };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Outbox', () => {
  it("sends a turn's units together, after the turn", async () => {
    const { transport, sent } = fakeTransport();
    const outbox = new Outbox(transport, 4096, 1024 * 1024, true);
    outbox.enqueue(unit(1));
    outbox.enqueue(unit(2));
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([
      [
        { mti: '0100', id: 1 },
        { mti: '0100', id: 2 },
      ],
    ]);
  });

  it('sends at once without coalescing', () => {
    const { transport, sent } = fakeTransport();
    const outbox = new Outbox(transport, 4096, 1024 * 1024, false);
    outbox.enqueue(unit(1));
    outbox.enqueue(unit(2));
    expect(sent).toEqual([
      { mti: '0100', id: 1 },
      { mti: '0100', id: 2 },
    ]);
  });

  it('stops writing at back-pressure and resumes on drain, in order', async () => {
    const { transport, sent, state } = fakeTransport();
    const outbox = new Outbox(transport, 1, 1024 * 1024, true);
    state.highWater = true;
    for (const id of [1, 2, 3]) outbox.enqueue(unit(id));
    await nextTurn();
    // The write that crossed the mark went out; nothing after it.
    expect(sent).toEqual([{ mti: '0100', id: 1 }]);
    expect(outbox.isBlocked).toBe(true);
    outbox.enqueue(unit(4));
    await nextTurn();
    expect(sent).toHaveLength(1);
    expect(outbox.queuedUnits).toBe(3);

    state.highWater = false;
    outbox.onDrain();
    expect(sent.map((m) => (m as { id: number }).id)).toEqual([1, 2, 3, 4]);
    expect(outbox.isBlocked).toBe(false);
  });

  it('drops what is queued when discarded', async () => {
    const { transport, sent } = fakeTransport();
    const outbox = new Outbox(transport, 4096, 1024 * 1024, true);
    outbox.enqueue(unit(1));
    outbox.discard();
    outbox.enqueue(unit(2));
    await nextTurn();
    expect(sent).toEqual([]);
  });
});
