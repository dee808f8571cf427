/**
 * TCP framing: a 4-byte big-endian unsigned length N, then N payload bytes
 * (docs/protocol.md section 1).
 *
 * An explicit two-state machine over the chunks the socket hands us. A frame
 * may be split at any byte and a chunk may hold many frames; the length is
 * checked against `frameBytesMax` as soon as the header is complete, before a
 * single payload byte is buffered, so a hostile length never costs memory.
 *
 * Frames that lie wholly inside one chunk are handed out as zero-copy views
 * of that chunk; only frames that span chunks are assembled into a copy.
 */

export const FRAME_HEADER_BYTES = 4;

export type FrameParserResult = 'ok' | 'oversize';

enum State {
  Header = 0,
  Body = 1,
}

export class FrameParser {
  private state: State = State.Header;
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private failed = false;

  constructor(
    private readonly frameBytesMax: number,
    private readonly onFrame: (payload: Buffer) => void,
  ) {}

  /** Bytes held for a frame not yet complete (for tests and leak checks). */
  get bufferedBytes(): number {
    return this.state === State.Header ? this.headerFilled : this.bodyFilled;
  }

  /**
   * Feeds one chunk. Returns 'oversize' (and stops parsing for good) when a
   * header announces more than `frameBytesMax`; frames before it in the same
   * chunk have already been delivered.
   */
  push(chunk: Buffer): FrameParserResult {
    if (this.failed) return 'oversize';
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      if (this.state === State.Header) {
        if (this.headerFilled === 0 && end - offset >= FRAME_HEADER_BYTES) {
          // Fast path: whole header in this chunk.
          const length = chunk.readUInt32BE(offset);
          offset += FRAME_HEADER_BYTES;
          if (length > this.frameBytesMax) return this.fail();
          if (end - offset >= length) {
            this.onFrame(chunk.subarray(offset, offset + length));
            offset += length;
            continue;
          }
          this.startBody(length);
          continue;
        }
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFilled, end - offset);
        chunk.copy(this.header, this.headerFilled, offset, offset + take);
        this.headerFilled += take;
        offset += take;
        if (this.headerFilled < FRAME_HEADER_BYTES) break;
        this.headerFilled = 0;
        const length = this.header.readUInt32BE(0);
        if (length > this.frameBytesMax) return this.fail();
        if (length === 0) {
          this.onFrame(Buffer.alloc(0));
          continue;
        }
        this.startBody(length);
      } else {
        const body = this.body!;
        const take = Math.min(body.length - this.bodyFilled, end - offset);
        chunk.copy(body, this.bodyFilled, offset, offset + take);
        this.bodyFilled += take;
        offset += take;
        if (this.bodyFilled === body.length) {
          this.body = null;
          this.bodyFilled = 0;
          this.state = State.Header;
          this.onFrame(body);
        }
      }
    }
    return 'ok';
  }

  private startBody(length: number): void {
    this.body = Buffer.allocUnsafe(length);
    this.bodyFilled = 0;
    this.state = State.Body;
  }

  private fail(): FrameParserResult {
    this.failed = true;
    this.body = null;
    return 'oversize';
  }
}

/** Prefixes a payload with its 4-byte big-endian length. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** Writes just the header, for callers that send header and payload as two writes (writev). */
export function encodeFrameHeader(payloadBytes: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payloadBytes, 0);
  return header;
}
