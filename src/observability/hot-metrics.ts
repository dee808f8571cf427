import type { Metric, Registry } from 'prom-client';

/**
 * A counter and a histogram for the per-message hot path, exported through a
 * prom-client Registry like any of its metrics (same exposition lines), but
 * recorded as plain numbers: prom-client hashes the label set on every inc()
 * and observe(), even on a cached child, which cost ~8% of the main thread at
 * 64 msgs/frame (docs/performance-log.md). Label values come from bounded sets
 * (MTIs, response codes): the caller keeps them bounded.
 */

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

/** What Registry needs of a metric: a name and get(). */
function register(registry: Registry, metric: { name: string; get(): Promise<Exported> }): void {
  registry.registerMetric(metric as unknown as Metric);
}

/** A counter with two labels; counts() returns the cell to increment for a label pair. */
export class HotCounter2 {
  private readonly cells = new Map<string, { readonly labels: Record<string, string>; value: number }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly [string, string],
  ) {
    register(registry, this);
  }

  /** Adds `by` (1 unless given; 0 makes the series exist, at 0). */
  inc(a: string, b: string, by = 1): void {
    const key = `${a}\u0000${b}`;
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = { labels: { [this.labelNames[0]]: a, [this.labelNames[1]]: b }, value: 0 };
      this.cells.set(key, cell);
    }
    cell.value += by;
  }

  async get(): Promise<Exported> {
    const values = [...this.cells.values()].map((c) => ({ value: c.value, labels: { ...c.labels } }));
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

interface Series {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with one label and fixed upper bounds. */
export class HotHistogram1 {
  private readonly series = new Map<string, Series>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly upperBounds: readonly number[],
  ) {
    register(registry, this);
  }

  observe(label: string, value: number): void {
    let s = this.series.get(label);
    if (s === undefined) {
      s = { counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
      this.series.set(label, s);
    }
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  async get(): Promise<Exported> {
    const values: ExportedValue[] = [];
    for (const [label, s] of this.series) {
      const shared = { [this.labelName]: label };
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({
          value: cumulative,
          labels: { le },
          sharedLabels: shared,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        value: s.count,
        labels: { le: '+Inf' },
        sharedLabels: shared,
        metricName: `${this.name}_bucket`,
      });
      values.push({ value: s.sum, labels: {}, sharedLabels: shared, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: {}, sharedLabels: shared, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
