import { assemblePayload, type FrameUnit, planFrames } from './batch-frames.js';
import type { Transport } from './transport.js';

/**
 * The write side of one connection: units queue here and go out as frames.
 * With coalescing, everything queued in one event-loop turn leaves in a
 * setImmediate, after the turn's I/O callbacks have all run (so a burst of
 * responses that each trigger a new request becomes one frame, not many).
 * While the transport reports back-pressure nothing is written; 'drain'
 * resumes.
 */
export class Outbox {
  private units: FrameUnit[] = [];
  private blocked = false;
  private scheduled = false;
  private discarded = false;

  constructor(
    private readonly transport: Transport,
    private readonly batchMax: number,
    private readonly frameBytesMax: number,
    private readonly coalesce: boolean,
  ) {}

  /** Units waiting for the next flush or for 'drain'. */
  get queuedUnits(): number {
    return this.units.length;
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  enqueue(unit: FrameUnit): void {
    if (this.discarded) return;
    this.units.push(unit);
    if (!this.coalesce) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  onDrain(): void {
    this.blocked = false;
    this.flush();
  }

  /** The connection is gone: drop what was not written. */
  discard(): void {
    this.discarded = true;
    this.units = [];
  }

  private flush(): void {
    if (this.blocked || this.discarded || this.units.length === 0) return;
    const units = this.units;
    const frames = planFrames(units, this.batchMax, this.frameBytesMax, this.coalesce);
    let consumed = 0;
    for (const unitsInFrame of frames) {
      const belowHighWater = this.transport.send(assemblePayload(units, consumed, unitsInFrame));
      consumed += unitsInFrame;
      if (!belowHighWater) {
        this.blocked = true;
        break;
      }
    }
    this.units = consumed === units.length ? [] : units.slice(consumed);
  }
}
