import { decodePayload, encodePayload } from '../../src/codec/codec.js';
import { encodeFrame, FrameParser } from '../../src/codec/frame-parser.js';
import { validateRequest } from '../../src/protocol/validate-request.js';
import { encodeResponses } from '../../src/transport/response-encoder.js';
import { type MicroResult, measure } from '../harness/micro.js';

/** Codec and framing micro-benchmarks: the per-message CPU floor of the wire path. */
export function runCodecBench(durationMs: number): MicroResult[] {
  const auth = {
    mti: '0100',
    id: 123456,
    stan: 4711,
    time: 1_764_158_400_000,
    pan: '4000001234567899',
    amount: 12_345,
    currency: 'EUR',
    merchant: 'ACME STORE 42',
    terminal: 'T0001',
    mcc: '5411',
  };
  const response = {
    mti: '0110',
    id: 123456,
    stan: 4711,
    rc: '00',
    rrn: '0ABCDE000001',
    authCode: '123456',
    amount: 12_345,
    balance: 987_654,
  };
  const authBytes = encodePayload(auth);
  const batch64 = encodePayload(Array.from({ length: 64 }, (_, i) => ({ ...auth, id: i })));
  const responses64 = Array.from({ length: 64 }, (_, i) => ({ ...response, id: i }));

  // 1 MiB of back-to-back frames of 64 messages, fed in 64 KiB chunks (what a socket hands over).
  const frame = encodeFrame(batch64);
  const stream = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / frame.length) }, () => frame));
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 65_536) chunks.push(stream.subarray(i, i + 65_536));
  const framesPerStream = stream.length / frame.length;
  let sink = 0;
  const parser = new FrameParser(1 << 20, (payload) => {
    sink += payload.length;
  });

  const results = [
    measure('pack 1 auth request', 1, () => encodePayload(auth), durationMs),
    measure('unpack 1 auth request', 1, () => decodePayload(authBytes), durationMs),
    measure('unpack batch of 64 (per msg)', 64, () => decodePayload(batch64), durationMs),
    measure('validate 1 request', 1, () => validateRequest(auth, '0100', false), durationMs),
    measure(
      'encode 64 responses, 1 frame (per msg)',
      64,
      () => encodeResponses(responses64, 4096, 1 << 20),
      durationMs,
    ),
    measure(
      'frame parse, 64 msgs/frame (per msg)',
      framesPerStream * 64,
      () => {
        for (const chunk of chunks) parser.push(chunk);
      },
      durationMs,
    ),
  ];
  if (sink < 0) throw new Error('unreachable');
  return results;
}
