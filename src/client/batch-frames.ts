/**
 * Packing queued messages into frames (pure; the client owns the timing).
 *
 * A batch payload is a MessagePack array whose elements are the messages.
 * Each message is encoded once, on its own, when it is queued: an array is
 * just a header followed by its elements back to back, so a frame is the
 * header plus the already-encoded messages, and its exact size is known before
 * any bytes are copied.
 */

/** Messages that must travel together: one request (1) or one requestBatch() (n). */
export interface FrameUnit {
  readonly messages: readonly Buffer[];
  /** Sum of the messages' encoded sizes. */
  readonly bytes: number;
  /** A requestBatch() stays an array payload even with one message; a lone request goes as a bare map. */
  readonly asArray: boolean;
}

/** Size of a MessagePack array header for n elements: fixarray, array16 or array32. */
export function arrayHeaderBytes(count: number): number {
  if (count < 16) return 1;
  if (count < 0x1_0000) return 3;
  return 5;
}

export function encodeArrayHeader(count: number): Buffer {
  if (count < 16) return Buffer.from([0x90 | count]);
  if (count < 0x1_0000) {
    const header = Buffer.allocUnsafe(3);
    header[0] = 0xdc;
    header.writeUInt16BE(count, 1);
    return header;
  }
  const header = Buffer.allocUnsafe(5);
  header[0] = 0xdd;
  header.writeUInt32BE(count, 1);
  return header;
}

/** Payload bytes of a frame holding `count` messages totalling `bytes`. */
export function payloadBytes(count: number, bytes: number, asArray: boolean): number {
  return count === 1 && !asArray ? bytes : arrayHeaderBytes(count) + bytes;
}

/** True when the unit fits in a frame on its own; a unit is never split. */
export function unitFits(unit: FrameUnit, batchMax: number, frameBytesMax: number): boolean {
  const count = unit.messages.length;
  return count >= 1 && count <= batchMax && payloadBytes(count, unit.bytes, unit.asArray) <= frameBytesMax;
}

/**
 * Groups consecutive units into frames, in order, greedily: a unit joins the
 * current frame while the frame stays within `batchMax` messages and
 * `frameBytesMax` payload bytes; otherwise it opens the next frame. With
 * `merge` false every unit is its own frame. Returns the number of units in
 * each frame. Every unit must satisfy unitFits().
 */
export function planFrames(
  units: readonly FrameUnit[],
  batchMax: number,
  frameBytesMax: number,
  merge: boolean,
): number[] {
  const frames: number[] = [];
  let unitsInFrame = 0;
  let count = 0;
  let bytes = 0;
  for (const unit of units) {
    const unitCount = unit.messages.length;
    if (unitsInFrame > 0) {
      const joinedCount = count + unitCount;
      const joinedBytes = arrayHeaderBytes(joinedCount) + bytes + unit.bytes;
      if (merge && joinedCount <= batchMax && joinedBytes <= frameBytesMax) {
        unitsInFrame++;
        count = joinedCount;
        bytes += unit.bytes;
        continue;
      }
      frames.push(unitsInFrame);
    }
    unitsInFrame = 1;
    count = unitCount;
    bytes = unit.bytes;
  }
  if (unitsInFrame > 0) frames.push(unitsInFrame);
  return frames;
}

/** Concatenates units[start, start + length) into one payload: a bare map, or an array. */
export function assemblePayload(units: readonly FrameUnit[], start: number, length: number): Buffer {
  const first = units[start]!;
  if (length === 1 && first.messages.length === 1 && !first.asArray) return first.messages[0]!;
  let count = 0;
  let bytes = 0;
  for (let i = start; i < start + length; i++) {
    const unit = units[i]!;
    count += unit.messages.length;
    bytes += unit.bytes;
  }
  const header = encodeArrayHeader(count);
  const payload = Buffer.allocUnsafe(header.length + bytes);
  header.copy(payload, 0);
  let offset = header.length;
  for (let i = start; i < start + length; i++) {
    for (const message of units[i]!.messages) {
      payload.set(message, offset);
      offset += message.length;
    }
  }
  return payload;
}
