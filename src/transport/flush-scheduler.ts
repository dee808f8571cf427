/**
 * Coalesces writes: every connection that queued responses during this
 * event-loop turn is flushed once, in the check phase right after the I/O
 * that produced them, so responses owed to one connection leave as one frame
 * per turn (docs/protocol.md section 1; DESIGN.md section 1).
 */
export interface Flushable {
  flush(): void;
}

export class FlushScheduler {
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    const batch = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < batch.length; i++) batch[i]!.flush();
    batch.length = 0;
    this.spare = batch;
  };

  /** Caller guarantees at most one pending mark per target (it tracks its own dirty flag). */
  mark(target: Flushable): void {
    this.dirty.push(target);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }
}
