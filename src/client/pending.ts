import { ClientError } from './errors.js';
import type { MessageId, ResponseMessage } from './messages.js';

export interface PendingSink {
  resolve(response: ResponseMessage): void;
  reject(error: ClientError): void;
}

interface PendingEntry {
  readonly sink: PendingSink;
  readonly deadlineMs: number;
}

/**
 * Requests in flight on one connection, by id. Every entry has the same
 * timeout, so insertion order is deadline order: one timer armed for the
 * oldest entry replaces a timer per request (at 100k requests/s, a
 * setTimeout/clearTimeout pair each is measurable).
 */
export class PendingTable {
  private readonly entries = new Map<MessageId, PendingEntry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(id: MessageId): boolean {
    return this.entries.has(id);
  }

  add(id: MessageId, sink: PendingSink): void {
    this.entries.set(id, { sink, deadlineMs: this.now() + this.timeoutMs });
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  /** Drops an entry without settling it (the rest of a failed batch). */
  cancel(id: MessageId): void {
    this.entries.delete(id);
  }

  /** Settles the entry the response's id names; false (and nothing happens) for unknown ids. */
  settle(response: ResponseMessage): boolean {
    const id = response.id;
    if (id === undefined) return false;
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    this.entries.delete(id);
    entry.sink.resolve(response);
    return true;
  }

  rejectAll(error: ClientError): void {
    this.stopTimer();
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) entry.sink.reject(error);
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, Math.ceil(delayMs)));
    // The socket keeps the process alive while there is traffic; this timer alone must not.
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(): void {
    this.timer = undefined;
    const nowMs = this.now();
    for (const [id, entry] of this.entries) {
      if (entry.deadlineMs > nowMs) {
        this.arm(entry.deadlineMs - nowMs);
        return;
      }
      this.entries.delete(id);
      entry.sink.reject(
        new ClientError('REQUEST_TIMEOUT', `no response to id ${String(id)} within ${this.timeoutMs} ms`),
      );
    }
  }
}
