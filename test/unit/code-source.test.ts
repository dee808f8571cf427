import { describe, expect, it } from 'vitest';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { AuthCodeSource, createAuthCodeGenerator } from '../../src/runtime/auth-code.js';
import { RrnSource } from '../../src/runtime/rrn.js';
import { base36, parseBase36 } from '../../src/util/base36.js';
import { codeString, stringCodeSource } from '../../src/util/code-source.js';

function bytesOf(write: (w: MsgpackWriter) => void): Buffer {
  const w = new MsgpackWriter(64);
  write(w);
  return Buffer.from(w.view());
}

describe('code sources', () => {
  it('an AuthCodeSource makes the codes createAuthCodeGenerator makes, across block boundaries', () => {
    const source = new AuthCodeSource(5);
    const next = createAuthCodeGenerator(5);
    for (let i = 0; i < 3_000; i++) {
      source.next();
      expect(codeString(source.head, source.tail)).toBe(next());
    }
  });

  it('an RrnSource shares one head string per 1,296 rrns', () => {
    const source = new RrnSource(9);
    const nowMs = Date.UTC(2026, 10, 26);
    const heads = new Set<string>();
    for (let i = 0; i < 1_296 * 3; i++) {
      source.next(nowMs);
      heads.add(source.head);
      expect(source.tail).toBe(i % 1_296);
    }
    expect(heads.size).toBe(3);
  });

  it('stringCodeSource passes whole strings through (tail -1)', () => {
    let n = 0;
    const source = stringCodeSource((nowMs) => `X${nowMs}-${++n}`);
    source.next(7);
    expect([source.head, source.tail, codeString(source.head, source.tail)]).toEqual(['X7-1', -1, 'X7-1']);
  });

  it.each([
    ['1IK7NI0700', 0],
    ['1IK7NI0700', 1_295],
    ['0000', 37],
    ['whole-string', -1],
    ['', -1],
    ['', 5],
    ['é-not-ascii', 3],
    ['a'.repeat(30), 4],
    ['a'.repeat(40), 4],
  ])('MsgpackWriter.code(%j, %i) writes the bytes of str() of the string', (head, tail) => {
    expect(bytesOf((w) => w.code(head, tail))).toEqual(bytesOf((w) => w.str(codeString(head, tail))));
  });

  it('codeOrNil writes nil without a head', () => {
    expect(bytesOf((w) => w.codeOrNil(undefined, 3))).toEqual(Buffer.from([0xc0]));
  });
});

describe('parseBase36', () => {
  it('reads exactly `width` upper-case base-36 digits, as base36() writes them', () => {
    for (const [value, width] of [
      [0, 4],
      [35, 1],
      [36 ** 4 - 1, 4],
      [36 ** 10 - 1, 10],
      [1_234_567_890_123, 10],
    ] as const) {
      expect(parseBase36(base36(value, width), width)).toBe(value);
    }
    for (const [text, width] of [
      ['ABC', 4],
      ['ABCDE', 4],
      ['abcd', 4],
      ['AB-D', 4],
      ['00000000000', 11],
    ] as const) {
      expect(parseBase36(text, width), text).toBe(-1);
    }
  });
});
