/** RepeatLog (src/observability/repeat-log.ts): a repeating event logged first at once, then spaced, then ended. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/log.js';
import { RepeatLog } from '../../src/observability/repeat-log.js';

function setup(intervalMs = 1_000) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('debug', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const clock = { nowMs: 50_000 };
  const repeat = new RepeatLog(log, 'warn', 'redis connection error', intervalMs, () => clock.nowMs);
  return { lines, clock, repeat };
}

describe('RepeatLog', () => {
  it('logs the first occurrence at once, then one line per interval with the count left out', () => {
    const { lines, clock, repeat } = setup();
    repeat.note({ attempt: 1 });
    for (let i = 2; i <= 10; i++) {
      clock.nowMs += 100;
      repeat.note({ attempt: i });
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'redis connection error', attempt: 1 });
    expect(lines[0]).not.toHaveProperty('repeated');
    clock.nowMs += 100; // 1000 ms after the first line
    repeat.note({ attempt: 11 });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ attempt: 11, repeated: 9 });
  });

  it('says once that the event ended, with how often it happened, and starts afresh', () => {
    const { lines, clock, repeat } = setup();
    repeat.ended('redis connection restored');
    expect(lines).toHaveLength(0);
    repeat.note();
    clock.nowMs += 10;
    repeat.note();
    repeat.ended('redis connection restored');
    repeat.ended('redis connection restored');
    expect(lines.map((l) => [l['level'], l['msg'], l['occurrences']])).toEqual([
      ['warn', 'redis connection error', undefined],
      ['info', 'redis connection restored', 2],
    ]);
    // A new outage right after is logged at once, not held back by the interval.
    clock.nowMs += 10;
    repeat.note();
    expect(lines).toHaveLength(3);
    expect(lines[2]).not.toHaveProperty('repeated');
  });

  it('counts a note standing for many occurrences (a batch answered 96 at once) as that many', () => {
    const { lines, clock, repeat } = setup();
    repeat.note({ answered: 3 }, 3);
    clock.nowMs += 10;
    repeat.note({ answered: 4 }, 4);
    expect(repeat.ongoingEvent).toBe(true);
    clock.nowMs += 1_000;
    repeat.note({ answered: 2 }, 2);
    repeat.ended('over');
    expect(lines.map((l) => [l['msg'], l['answered'], l['repeated'], l['occurrences']])).toEqual([
      ['redis connection error', 3, undefined, undefined],
      ['redis connection error', 2, 4, undefined],
      ['over', undefined, undefined, 9],
    ]);
    expect(repeat.ongoingEvent).toBe(false);
  });
});
