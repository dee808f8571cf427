import type { LogFields, Logger } from './log.js';

/** Default spacing of the lines of one repeating event: often enough to see it go on, rarely enough to read. */
export const REPEAT_LOG_INTERVAL_MS = 10_000;

/**
 * One repeating event (a connection that keeps failing to reconnect) logged
 * as a person wants to read it: the first occurrence at once, then at most
 * one line per `intervalMs` carrying how many were left out (`repeated`),
 * and, when it stops, one line saying so with the count since the last line.
 * Without this a Redis outage writes a line per reconnect attempt, several a
 * second, and buries everything else.
 */
export class RepeatLog {
  private lastLoggedMs = Number.NEGATIVE_INFINITY;
  /** Occurrences not logged since the last line. */
  private repeated = 0;
  /** Occurrences since the event last ended (or since the start). */
  private ongoing = 0;

  constructor(
    private readonly log: Logger,
    private readonly level: 'warn' | 'error',
    private readonly msg: string,
    private readonly intervalMs: number = REPEAT_LOG_INTERVAL_MS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * One occurrence: logged now, or counted into the next line. `count` says
   * how many the call stands for (a batch of transactions answered 96 at
   * once, logged as one line): `repeated` and `occurrences` count those.
   */
  note(fields?: LogFields, count = 1): void {
    this.ongoing += count;
    const now = this.nowMs();
    if (now - this.lastLoggedMs < this.intervalMs) {
      this.repeated += count;
      return;
    }
    this.lastLoggedMs = now;
    const repeated = this.repeated;
    this.repeated = 0;
    this.log[this.level](this.msg, repeated > 0 ? { ...fields, repeated } : fields);
  }

  /** Whether the event happened since it last ended (or since the start). */
  get ongoingEvent(): boolean {
    return this.ongoing > 0;
  }

  /** The event is over (the connection is back): one info line, only if it had happened. */
  ended(msg: string, fields?: LogFields): void {
    if (this.ongoing === 0) return;
    this.log.info(msg, { ...fields, occurrences: this.ongoing });
    this.ongoing = 0;
    this.repeated = 0;
    this.lastLoggedMs = Number.NEGATIVE_INFINITY;
  }
}
