import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientError } from '../../src/client/errors.js';
import type { ResponseMessage } from '../../src/client/messages.js';
import { PendingTable } from '../../src/client/pending.js';

function recorder() {
  const outcomes: string[] = [];
  const sink = (name: string) => ({
    resolve: (response: ResponseMessage) => outcomes.push(`${name}:rc${String(response.rc)}`),
    reject: (error: ClientError) => outcomes.push(`${name}:${error.code}`),
  });
  return { outcomes, sink };
}

describe('PendingTable', () => {
  let nowMs = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    nowMs = 0;
  });
  afterEach(() => vi.useRealTimers());

  const table = (): PendingTable => new PendingTable(1000, () => nowMs);

  it('settles by id and ignores unknown ids', () => {
    const { outcomes, sink } = recorder();
    const pending = table();
    pending.add(1, sink('a'));
    pending.add('x', sink('b'));
    expect(pending.settle({ mti: '0110', id: 'x', rc: '00' })).toBe(true);
    expect(pending.settle({ mti: '0110', id: 'x', rc: '00' })).toBe(false);
    expect(pending.settle({ mti: '0110', id: 2, rc: '00' })).toBe(false);
    expect(pending.settle({ mti: '0110', rc: '00' })).toBe(false);
    expect(outcomes).toEqual(['b:rc00']);
    expect(pending.size).toBe(1);
  });

  it('times requests out in deadline order with one timer', () => {
    const { outcomes, sink } = recorder();
    const pending = table();
    pending.add(1, sink('first'));
    nowMs = 400;
    pending.add(2, sink('second'));
    nowMs = 1000;
    vi.advanceTimersByTime(1000);
    expect(outcomes).toEqual(['first:REQUEST_TIMEOUT']);
    expect(vi.getTimerCount()).toBe(1);
    nowMs = 1400;
    vi.advanceTimersByTime(400);
    expect(outcomes).toEqual(['first:REQUEST_TIMEOUT', 'second:REQUEST_TIMEOUT']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not time out what was answered', () => {
    const { outcomes, sink } = recorder();
    const pending = table();
    pending.add(1, sink('a'));
    pending.settle({ mti: '0110', id: 1, rc: '00' });
    nowMs = 5000;
    vi.advanceTimersByTime(5000);
    expect(outcomes).toEqual(['a:rc00']);
  });

  it('rejects everything at once and stops its timer', () => {
    const { outcomes, sink } = recorder();
    const pending = table();
    pending.add(1, sink('a'));
    pending.add(2, sink('b'));
    pending.cancel(2);
    pending.rejectAll(new ClientError('DISCONNECTED', 'gone'));
    expect(outcomes).toEqual(['a:DISCONNECTED']);
    expect(pending.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
