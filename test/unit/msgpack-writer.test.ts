import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { CommitBatch } from '../../src/runtime/storage/commit-batch.js';

/** Seeded: SWITCHYARD_SEED=<int> replays a run; the seed is in the failure message. */
const SEED = Number(process.env['SWITCHYARD_SEED'] ?? 20_261_126);
const unpackr = new Unpackr({ useRecords: false });

type Scalar = number | string | boolean | null;

function write(w: MsgpackWriter, value: Scalar): void {
  if (value === null) w.nil();
  else if (typeof value === 'boolean') w.bool(value);
  else if (typeof value === 'number') w.number(value);
  else w.str(value);
}

function roundTrip(values: readonly Scalar[]): unknown {
  const w = new MsgpackWriter(8);
  w.arrayHeader(values.length);
  for (const v of values) write(w, v);
  return unpackr.unpack(Buffer.from(w.view()));
}

describe('MsgpackWriter', () => {
  it('writes every integer boundary so msgpackr reads the same number', () => {
    const edges = [
      0,
      1,
      0x7f,
      0x80,
      0xff,
      0x100,
      0xffff,
      0x10000,
      0xffffffff,
      0x100000000,
      -1,
      -0x20,
      -0x21,
      -0x80,
      -0x81,
      -0x8000,
      -0x8001,
      -0x80000000,
      -0x80000001,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      1.5,
    ];
    expect(roundTrip(edges)).toEqual(edges);
  });

  it('writes strings of every header size, ASCII and not', () => {
    const strings = [
      '',
      'a',
      'x'.repeat(31),
      'x'.repeat(32),
      'x'.repeat(255),
      'x'.repeat(256),
      'é',
      'ü'.repeat(200),
    ];
    strings.push('y'.repeat(70_000), `${'a'.repeat(40)}€`);
    expect(roundTrip(strings)).toEqual(strings);
  });

  it('round-trips random arrays (seeded)', () => {
    const scalar = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -(2 ** 31) - 5, max: 2 ** 32 + 5 }),
      fc.maxSafeInteger(),
      fc.string({ unit: 'binary', maxLength: 300 }),
    );
    try {
      fc.assert(
        fc.property(fc.array(scalar, { maxLength: 40 }), (values) => {
          expect(roundTrip(values)).toEqual(values);
        }),
        { seed: SEED, numRuns: 300 },
      );
    } catch (error) {
      throw new Error(`msgpack writer property failed (SWITCHYARD_SEED=${SEED}): ${String(error)}`);
    }
  });

  it('nests an encoding under a str header patched afterwards', () => {
    const w = new MsgpackWriter(4);
    w.arrayHeader(2);
    w.str('k');
    const mark = w.beginStr();
    w.arrayHeader(2);
    w.number(7);
    w.str('inner');
    w.endStr(mark);
    const bytes = Buffer.from(w.view());
    // [fixarray 2]['k' as fixstr: 2 bytes][str32 header: 5 bytes][the nested encoding]
    expect(bytes[3]).toBe(0xdb);
    expect(bytes.readUInt32BE(4)).toBe(bytes.length - 8);
    expect(unpackr.unpack(bytes.subarray(8))).toEqual([7, 'inner']);
  });
});

describe('CommitBatch', () => {
  it('packs the five sections with their counts: epochs once each, compactions, appends written in place, XADDs, moves', () => {
    const cb = new CommitBatch();
    cb.epoch(1, 'e1');
    cb.epoch(1, 'e1');
    cb.epoch(2, 'e2');
    cb.compact('acct', 300, Buffer.from('new prefix'));
    const w = cb.beginAppend('acct');
    // Values whose bytes read back as a string here (the blob's str values are UTF-8 to msgpackr).
    w.number(5);
    w.number(0x41);
    expect(cb.endAppend()).toBe(2);
    cb.append('other', Buffer.from('xy'));
    cb.xadd('journal', Buffer.from([1, 2, 3]));
    cb.move('old', 'new', 'alias', 't2.ref');
    const sections = unpackr.unpack(cb.pack()) as unknown[][];
    expect(sections).toHaveLength(5);
    const [epochs, compactions, appends, xadds, moves] = sections;
    // The next batch checks its shards again, those of the batch before included.
    cb.reset();
    cb.epoch(2, 'e2');
    cb.epoch(3, 'e3');
    expect((unpackr.unpack(cb.pack()) as unknown[][])[0]).toEqual(['e2', 'e3']);
    expect(epochs).toEqual(['e1', 'e2']);
    expect(compactions).toEqual([['acct', 300, 'new prefix']]);
    expect(appends).toHaveLength(2);
    expect(appends![0]).toEqual(['acct', '\u0005A']);
    expect(appends![1]).toEqual(['other', 'xy']);
    expect(xadds).toEqual([['journal', '\u0001\u0002\u0003']]);
    expect(moves).toEqual([['old', 'new', 'alias', 't2.ref']]);
    cb.reset();
    expect(unpackr.unpack(cb.pack())).toEqual([[], [], [], [], []]);
  });

  it('refuses to pack, or open a second APPEND, while one is open', () => {
    const cb = new CommitBatch();
    cb.beginAppend('a');
    expect(() => cb.beginAppend('b')).toThrow(/still open/);
    expect(() => cb.pack()).toThrow(/still open/);
    cb.endAppend();
    expect(() => cb.endAppend()).toThrow(/no APPEND open/);
    expect(() => cb.pack()).not.toThrow();
  });
});

describe('MsgpackWriter.txnKey', () => {
  const bytes = (write: (w: MsgpackWriter) => void): Buffer => {
    const w = new MsgpackWriter(8);
    write(w);
    return Buffer.from(w.view());
  };

  it('writes the bytes of str() of the key string, for any parts (seeded)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
        fc.integer({ min: 0, max: 999_999 }),
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.maxSafeInteger().map((n) => Math.abs(n)),
        ),
        (institution, stan, time) => {
          expect(bytes((w) => w.txnKey(institution, stan, time))).toEqual(
            bytes((w) => w.str(`${institution}|${stan}|${time}`)),
          );
        },
      ),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it.each([
    ['acq', 1, 0],
    ['acq', 999_999, Number.MAX_SAFE_INTEGER],
    ['é-not-ascii', 5, 6],
    ['a'.repeat(250), 12, 1_764_115_200_123],
  ])('falls back to the string where the fast path does not apply: %j %i %i', (institution, stan, time) => {
    expect(bytes((w) => w.txnKey(institution, stan, time))).toEqual(
      bytes((w) => w.str(`${institution}|${stan}|${time}`)),
    );
  });
});
