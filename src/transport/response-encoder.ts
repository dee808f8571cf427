import { encodePayload } from '../codec/codec.js';

/**
 * Encodes the responses owed to one connection into as few payloads as the
 * limits allow: one map when there is one response, else arrays of at most
 * `batchMax` maps, each under `frameBytesMax` (a peer applies the same limits
 * to what it reads). A chunk that encodes too large is split in half and
 * retried; only pathological responses (long ids and errors) ever get there.
 */
export function encodeResponses(
  responses: readonly object[],
  batchMax: number,
  frameBytesMax: number,
): Buffer[] {
  if (responses.length === 1) return [encodePayload(responses[0])];
  const payloads: Buffer[] = [];
  for (let start = 0; start < responses.length; start += batchMax) {
    encodeChunk(responses.slice(start, start + batchMax), frameBytesMax, payloads);
  }
  return payloads;
}

function encodeChunk(chunk: readonly object[], frameBytesMax: number, out: Buffer[]): void {
  const payload = encodePayload(chunk.length === 1 ? chunk[0] : chunk);
  if (payload.length <= frameBytesMax || chunk.length === 1) {
    out.push(payload);
    return;
  }
  const half = chunk.length >>> 1;
  encodeChunk(chunk.slice(0, half), frameBytesMax, out);
  encodeChunk(chunk.slice(half), frameBytesMax, out);
}
