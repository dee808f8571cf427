import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameParser } from '../../src/codec/frame-parser.js';

function collect(frameBytesMax = 1024): { parser: FrameParser; frames: Buffer[] } {
  const frames: Buffer[] = [];
  const parser = new FrameParser(frameBytesMax, (payload) => frames.push(Buffer.from(payload)));
  return { parser, frames };
}

const payloads = [
  Buffer.from('hello'),
  Buffer.alloc(0),
  Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
  Buffer.alloc(300, 7),
];
const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));

describe('FrameParser', () => {
  it('parses many frames delivered in one chunk', () => {
    const { parser, frames } = collect();
    expect(parser.push(stream)).toBe('ok');
    expect(frames).toEqual(payloads);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('parses the stream split into two chunks at every byte offset', () => {
    for (let split = 0; split <= stream.length; split++) {
      const { parser, frames } = collect();
      expect(parser.push(stream.subarray(0, split))).toBe('ok');
      expect(parser.push(stream.subarray(split))).toBe('ok');
      expect(frames, `split at ${split}`).toEqual(payloads);
    }
  });

  it('parses the stream fed one byte at a time', () => {
    const { parser, frames } = collect();
    for (let i = 0; i < stream.length; i++) expect(parser.push(stream.subarray(i, i + 1))).toBe('ok');
    expect(frames).toEqual(payloads);
  });

  it('accepts a frame of exactly frameBytesMax and refuses one byte more', () => {
    const exact = collect(16);
    expect(exact.parser.push(encodeFrame(Buffer.alloc(16, 1)))).toBe('ok');
    expect(exact.frames).toHaveLength(1);
    const over = collect(16);
    expect(over.parser.push(encodeFrame(Buffer.alloc(17, 1)))).toBe('oversize');
    expect(over.frames).toHaveLength(0);
  });

  it('refuses an oversize header before any of its body arrives, even split across chunks', () => {
    const { parser, frames } = collect(1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffffffff, 0);
    expect(parser.push(header.subarray(0, 2))).toBe('ok');
    expect(parser.push(header.subarray(2))).toBe('oversize');
    expect(parser.bufferedBytes).toBe(0);
    // Stays failed: later bytes are not parsed.
    expect(parser.push(encodeFrame(Buffer.from('x')))).toBe('oversize');
    expect(frames).toHaveLength(0);
  });

  it('delivers the frames before an oversize one in the same chunk', () => {
    const { parser, frames } = collect(8);
    const bad = Buffer.alloc(4);
    bad.writeUInt32BE(9, 0);
    expect(parser.push(Buffer.concat([encodeFrame(Buffer.from('ok')), bad]))).toBe('oversize');
    expect(frames).toEqual([Buffer.from('ok')]);
  });
});
