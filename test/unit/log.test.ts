/**
 * The logger (src/observability/log.ts): line format, levels, children, and
 * Errors written with message, stack, code and cause (recursively).
 * Redaction has its own file (log-redact.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { LogLevel } from '../../src/config/types.js';
import { createLogger, type Logger } from '../../src/observability/log.js';

function capture(level: LogLevel = 'debug'): {
  log: Logger;
  lines: string[];
  parsed: () => Record<string, unknown>[];
} {
  const lines: string[] = [];
  const log = createLogger(level, (line) => lines.push(line));
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('line format', () => {
  it('writes one JSON object per line: time, level, msg, bindings, then fields', () => {
    const { log, lines, parsed } = capture();
    const before = Date.now();
    log.child({ worker: 3 }).info('signed on', { institution: 'acq-1', role: 'acquirer' });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('}\n')).toBe(true);
    expect(lines[0]!.indexOf('\n')).toBe(lines[0]!.length - 1);
    const [line] = parsed();
    expect(Object.keys(line!)).toEqual(['time', 'level', 'msg', 'worker', 'institution', 'role']);
    expect(line).toMatchObject({ level: 'info', msg: 'signed on', worker: 3, institution: 'acq-1' });
    const time = Date.parse(line!['time'] as string);
    expect(line!['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('writes a line with no fields, and numbers, booleans, null, bigint, Date as JSON has them', () => {
    const { log, parsed } = capture();
    log.warn('stopped');
    log.info('values', {
      n: -1.5,
      big: 2n ** 35n,
      yes: true,
      none: null,
      gone: undefined,
      at: new Date(0),
      nan: Number.NaN,
      list: [1, 'a', undefined],
    });
    expect(parsed()[0]).toEqual({ time: expect.any(String), level: 'warn', msg: 'stopped' });
    expect(parsed()[1]).toEqual({
      time: expect.any(String),
      level: 'info',
      msg: 'values',
      n: -1.5,
      big: '34359738368',
      yes: true,
      none: null,
      at: '1970-01-01T00:00:00.000Z',
      nan: null,
      list: [1, 'a', null],
    });
  });

  it('keeps the line parseable when a field takes a name the line uses', () => {
    const { log, parsed } = capture();
    log.info('reserved names', { msg: 'x', level: 'y', time: 7 });
    expect(parsed()[0]).toMatchObject({
      msg: 'reserved names',
      level: 'info',
      msg_: 'x',
      level_: 'y',
      time_: 7,
    });
  });

  it('writes bytes as their length, never their content (a frame holds PANs)', () => {
    const { log, parsed } = capture();
    log.info('frame', {
      payload: Buffer.from('4000001234567899'),
      raw: new Uint8Array(3),
      ab: new ArrayBuffer(5),
    });
    expect(parsed()[0]).toMatchObject({ payload: '[16 bytes]', raw: '[3 bytes]', ab: '[5 bytes]' });
  });

  it('bounds a value: cycles, depth, long strings, many keys, many items', () => {
    const { log, parsed } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    const shared = { x: 1 };
    log.info('bounded', {
      cyclic,
      deep,
      long: 'y'.repeat(20_000),
      wide,
      many: Array.from({ length: 200 }, (_, i) => i),
      twice: [shared, shared],
    });
    const line = parsed()[0]!;
    expect(line['cyclic']).toEqual({ a: 1, self: '[circular]' });
    expect(JSON.stringify(line['deep'])).toContain('[too deep]');
    expect(JSON.stringify(line['deep'])).not.toContain('leaf');
    expect((line['long'] as string).length).toBeLessThan(8_300);
    expect(line['long']).toMatch(/\.\.\.\[11808 more chars\]$/);
    expect(Object.keys(line['wide'] as object)).toHaveLength(65);
    expect((line['wide'] as Record<string, unknown>)['[more keys]']).toBe(36);
    expect(line['many']).toHaveLength(65);
    expect((line['many'] as unknown[])[64]).toBe('[136 more items]');
    // The same object twice is not a cycle.
    expect(line['twice']).toEqual([{ x: 1 }, { x: 1 }]);
  });

  it('never throws into the caller: a field whose getter throws becomes a note on the line', () => {
    const { log, parsed } = capture();
    const hostile = {
      get boom(): never {
        throw new Error('getter failed');
      },
    };
    expect(() => log.error('still written', { hostile })).not.toThrow();
    expect(parsed()[0]).toMatchObject({ msg: 'still written', logFieldsUnwritable: 'getter failed' });
  });
});

describe('levels', () => {
  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ] as const)('at %s writes %j', (level, written) => {
    const { log, parsed } = capture(level);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(parsed().map((l) => l['level'])).toEqual(written);
    expect(log.level).toBe(level);
    for (const l of ['debug', 'info', 'warn', 'error'] as const) {
      expect(log.isLevelEnabled(l)).toBe((written as readonly string[]).includes(l));
    }
  });

  it('a child keeps its parent level and sink', () => {
    const { log, parsed } = capture('warn');
    const child = log.child({ worker: 1 });
    child.info('dropped');
    child.warn('kept');
    expect(child.level).toBe('warn');
    expect(parsed().map((l) => l['msg'])).toEqual(['kept']);
  });
});

describe('children', () => {
  it('accumulates bindings, fixed when the child is made', () => {
    const { log, parsed } = capture();
    const bindings: Record<string, unknown> = { worker: 1 };
    const child = log.child(bindings).child({ shard: 7 });
    bindings['worker'] = 2;
    child.info('x', { seq: 9 });
    expect(parsed()[0]).toEqual({
      time: expect.any(String),
      level: 'info',
      msg: 'x',
      worker: 1,
      shard: 7,
      seq: 9,
    });
  });
});

describe('errors', () => {
  it('keep name, message, code, stack and their other own fields', () => {
    const { log, parsed } = capture();
    const error = Object.assign(new TypeError('bad reply'), { code: 'ERR_X', command: { name: 'fcall' } });
    log.error('commit failed', { error });
    const written = parsed()[0]!['error'] as Record<string, unknown>;
    expect(written).toEqual({
      name: 'TypeError',
      message: 'bad reply',
      code: 'ERR_X',
      stack: error.stack,
      command: { name: 'fcall' },
    });
    expect(written['stack']).toContain('log.test.ts');
  });

  it('keep their cause, recursively, each with its own stack and code', () => {
    const { log, parsed } = capture();
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    const middle = new Error('redis unreachable', { cause: root });
    const top = Object.assign(new Error('commit failed', { cause: middle }), { code: 'SWITCHYARD_COMMIT' });
    log.warn('commit failed or unconfirmed', { error: top });
    const written = parsed()[0]!['error'] as Record<string, Record<string, Record<string, unknown>>>;
    expect(written['code']).toBe('SWITCHYARD_COMMIT');
    expect(written['cause']!['message']).toBe('redis unreachable');
    expect(written['cause']!['stack']).toBe(middle.stack);
    expect(written['cause']!['cause']).toMatchObject({
      name: 'Error',
      message: 'connect ECONNREFUSED 127.0.0.1:6379',
      code: 'ECONNREFUSED',
      stack: root.stack,
    });
  });

  it('write a non-Error cause as a value, a cyclic cause once, and an AggregateError its errors', () => {
    const { log, parsed } = capture();
    const plain = new Error('outer', { cause: { reason: 'timeout', afterMs: 50 } });
    const loop = new Error('loop');
    (loop as { cause?: unknown }).cause = loop;
    const many = new AggregateError([new Error('a'), new RangeError('b')], 'both failed');
    log.error('x', { plain, loop, many });
    const line = parsed()[0]!;
    expect((line['plain'] as Record<string, unknown>)['cause']).toEqual({ reason: 'timeout', afterMs: 50 });
    expect((line['loop'] as Record<string, unknown>)['cause']).toBe('[circular]');
    const errors = (line['many'] as Record<string, unknown>)['errors'] as Record<string, unknown>[];
    expect(errors.map((e) => [e['name'], e['message']])).toEqual([
      ['Error', 'a'],
      ['RangeError', 'b'],
    ]);
  });

  it('bound a long cause chain', () => {
    const { log, lines } = capture();
    let error = new Error('e0');
    for (let i = 1; i < 50; i++) error = new Error(`e${i}`, { cause: error });
    log.error('chain', { error });
    const text = lines[0]!;
    expect(text).toContain('"e49"');
    expect(text).toContain('[too deep]');
    expect(text).not.toContain('"e0"');
  });
});
