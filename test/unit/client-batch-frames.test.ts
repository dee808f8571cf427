import { describe, expect, it } from 'vitest';
import {
  arrayHeaderBytes,
  assemblePayload,
  encodeArrayHeader,
  type FrameUnit,
  planFrames,
  unitFits,
} from '../../src/client/batch-frames.js';
import { decodePayload, encodePayload } from '../../src/codec/codec.js';

function unit(ids: number[], asArray = false): FrameUnit {
  const messages = ids.map((id) => encodePayload({ mti: '0100', id }));
  return { messages, bytes: messages.reduce((sum, m) => sum + m.length, 0), asArray };
}

const singles = (count: number): FrameUnit[] => Array.from({ length: count }, (_, i) => unit([i + 1]));

describe('MessagePack array header', () => {
  it('uses fixarray, array16 and array32 at the right counts', () => {
    expect([1, 15, 16, 65_535, 65_536].map(arrayHeaderBytes)).toEqual([1, 1, 3, 3, 5]);
    for (const count of [0, 15, 16, 65_535, 65_536]) {
      expect(encodeArrayHeader(count)).toHaveLength(arrayHeaderBytes(count));
    }
  });

  it('assembles payloads a standard decoder reads back as the same messages', () => {
    for (const count of [1, 15, 16, 300]) {
      const units = [
        unit(
          Array.from({ length: count }, (_, i) => i),
          true,
        ),
      ];
      const decoded = decodePayload(assemblePayload(units, 0, 1));
      expect(decoded).toEqual(Array.from({ length: count }, (_, i) => ({ mti: '0100', id: i })));
    }
  });

  it('sends a lone request as a bare map, and a batch of one as an array', () => {
    expect(decodePayload(assemblePayload([unit([7])], 0, 1))).toEqual({ mti: '0100', id: 7 });
    expect(decodePayload(assemblePayload([unit([7], true)], 0, 1))).toEqual([{ mti: '0100', id: 7 }]);
    expect(decodePayload(assemblePayload(singles(3), 0, 3))).toEqual(
      [1, 2, 3].map((id) => ({ mti: '0100', id })),
    );
  });
});

describe('planFrames', () => {
  it('puts everything in one frame when it fits', () => {
    expect(planFrames(singles(10), 4096, 1024 * 1024, true)).toEqual([10]);
  });

  it('splits so no frame holds more than batchMax messages', () => {
    expect(planFrames(singles(10), 4, 1024 * 1024, true)).toEqual([4, 4, 2]);
  });

  it('splits so no payload exceeds frameBytesMax, counting the array header', () => {
    const units = singles(10);
    const messageBytes = units[0]!.bytes;
    // Exactly three messages plus a fixarray header fit; a fourth does not.
    const frameBytesMax = 1 + 3 * messageBytes;
    const frames = planFrames(units, 4096, frameBytesMax, true);
    expect(frames).toEqual([3, 3, 3, 1]);
    let start = 0;
    for (const length of frames) {
      expect(assemblePayload(units, start, length).length).toBeLessThanOrEqual(frameBytesMax);
      start += length;
    }
  });

  it('never splits a unit, and counts its messages against batchMax', () => {
    const units = [unit([1, 2, 3], true), unit([4]), unit([5, 6], true), unit([7, 8, 9], true)];
    expect(planFrames(units, 4, 1024 * 1024, true)).toEqual([2, 1, 1]);
  });

  it('gives every unit its own frame without merging', () => {
    expect(planFrames(singles(3), 4096, 1024 * 1024, false)).toEqual([1, 1, 1]);
  });

  it('returns no frames for no units', () => {
    expect(planFrames([], 10, 1000, true)).toEqual([]);
  });
});

describe('unitFits', () => {
  it('refuses a unit over batchMax or over frameBytesMax', () => {
    const three = unit([1, 2, 3], true);
    expect(unitFits(three, 3, 1000)).toBe(true);
    expect(unitFits(three, 2, 1000)).toBe(false);
    expect(unitFits(three, 3, three.bytes)).toBe(false); // the array header does not fit
    expect(unitFits(three, 3, three.bytes + 1)).toBe(true);
    const one = unit([1]);
    expect(unitFits(one, 1, one.bytes)).toBe(true); // a bare map needs no header
  });
});
