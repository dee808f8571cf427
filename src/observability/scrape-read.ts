/** How long a scrape waits for a store read before it answers without it. */
export const SCRAPE_READ_DEADLINE_MS = 500;
/** How long a read's outcome serves scrapes: Prometheus scraping every second costs one read per this. */
export const SCRAPE_READ_FRESH_MS = 2_000;

/** What a scrape gets: the last value read (undefined before the first), and whether the latest read answered in time. */
export interface ScrapeValue<T> {
  readonly value: T | undefined;
  readonly ok: boolean;
}

/**
 * A value read from the store for /metrics (Redis INFO, clearing progress),
 * bounded so a scrape never waits on an absent or stalled store: at most one
 * read in flight, a scrape waits for it at most `deadlineMs`, and an
 * outcome (a value, a failure, or no answer in time) serves every scrape
 * for `freshMs`. A failed or late read keeps the last value, marked not ok;
 * a late read that lands afterwards still updates the value.
 */
export class ScrapeRead<T> {
  private value: T | undefined;
  private ok = false;
  /** performance.now() when the latest outcome was known (undefined: no outcome yet). */
  private outcomeAtMs: number | undefined;
  private inFlight: Promise<boolean> | undefined;
  /** The scrape-side wait in progress, shared by every family that reads this value in one scrape. */
  private answering: Promise<ScrapeValue<T>> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly deadlineMs = SCRAPE_READ_DEADLINE_MS,
    private readonly freshMs = SCRAPE_READ_FRESH_MS,
  ) {}

  /** Never rejects; resolves within about `deadlineMs`. */
  current(): Promise<ScrapeValue<T>> {
    if (this.outcomeAtMs !== undefined && performance.now() - this.outcomeAtMs < this.freshMs)
      return Promise.resolve({ value: this.value, ok: this.ok });
    this.answering ??= this.attempt().finally(() => {
      this.answering = undefined;
    });
    return this.answering;
  }

  private async attempt(): Promise<ScrapeValue<T>> {
    this.inFlight ??= this.startRead();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.deadlineMs);
    });
    try {
      this.ok = await Promise.race([this.inFlight, late]);
    } finally {
      clearTimeout(timer);
    }
    this.outcomeAtMs = performance.now();
    return { value: this.value, ok: this.ok };
  }

  private startRead(): Promise<boolean> {
    let reading: Promise<T>;
    try {
      reading = this.read();
    } catch {
      reading = Promise.reject(new Error('read threw'));
    }
    return reading
      .then(
        (value) => {
          this.value = value;
          return true;
        },
        () => false,
      )
      .finally(() => {
        this.inFlight = undefined;
      });
  }
}
