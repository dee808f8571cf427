/** How often the sampler's timer is set on each watched thread. */
export const EVENT_LOOP_SAMPLE_MS = 50;

/**
 * Measures how late a thread's event loop runs a timer: a timer set every
 * `intervalMs`, each firing observing (in seconds) how long after its due
 * time it ran. That is the delay any timer or I/O callback of the thread
 * suffers at that moment, which is what the metric promises
 * (switchyard_event_loop_delay_seconds). A stall shorter than the interval
 * that falls between two due times goes unseen; anything longer always
 * delays a firing by about its length.
 *
 * Why not perf_hooks.monitorEventLoopDelay: it samples with a timer too, but
 * keeps its own HDR histogram and exposes percentiles, so Prometheus bucket
 * counts would have to be guessed back from them. This timer feeds exact
 * counts into the caller's buckets for about 20 callbacks a second per
 * thread, nothing on the request path.
 */
export class EventLoopSampler {
  private timer: NodeJS.Timeout | undefined;
  private dueAtMs = 0;
  private running = false;

  constructor(
    private readonly into: { observe(seconds: number): void },
    private readonly intervalMs = EVENT_LOOP_SAMPLE_MS,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.dueAtMs = performance.now() + this.intervalMs;
    this.timer = setTimeout(this.fire, this.intervalMs);
    // A sampler never keeps a thread alive.
    this.timer.unref();
  }

  private readonly fire = (): void => {
    if (!this.running) return;
    // libuv may run a timer a fraction of a millisecond before performance.now() says it is due.
    this.into.observe(Math.max(0, performance.now() - this.dueAtMs) / 1000);
    this.arm();
  };
}
