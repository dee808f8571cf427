import type { Metric, Registry } from 'prom-client';
import { BucketCounts } from './bucket-counts.js';
import { type LabelUniverse, labelSets, type MetricFamily } from './metric-catalog.js';

/**
 * Metric families of the catalog kept as plain numbers and exported through
 * a prom-client Registry like any of its own metrics (same exposition
 * lines). prom-client hashes the label set on every inc() and observe(),
 * even on a cached child, which cost ~8% of the main thread at 64
 * msgs/frame (docs/performance-log.md); here a series is a cell found by
 * one or two Map lookups on label values (or held by the caller), so the
 * per-message path does a lookup and an addition. Every label combination
 * of the catalog exists from construction, at 0; a value outside it (an
 * issuer added by a config reload) gets its series on first use.
 */

/** One series of a counter or gauge. */
export interface Cell {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

/** Sets gauges from their sources just before they are exported (may wait, never rejects). */
export type Collect = () => void | Promise<void>;

/** What Registry needs of a metric: a name and get(). */
function register(registry: Registry, metric: { name: string; get(): Promise<Exported> }): void {
  registry.registerMetric(metric as unknown as Metric);
}

function labelNamesOf(family: MetricFamily, most: number): readonly string[] {
  const names = Object.keys(family.labels);
  if (names.length > most)
    throw new Error(`${family.name}: at most ${most} labels here, not ${names.length}`);
  return names;
}

/** A counter or gauge family with up to two labels. */
export class ValueFamily {
  readonly name: string;
  readonly help: string;
  private readonly type: 'counter' | 'gauge';
  private readonly labelNames: readonly string[];
  /** Export order: the catalog's label sets first, then any added later. */
  private readonly cells: Cell[] = [];
  private readonly byValue = new Map<string, Cell>();
  private readonly byTwo = new Map<string, Map<string, Cell>>();

  constructor(
    registry: Registry,
    family: MetricFamily,
    universe: LabelUniverse,
    private readonly collect?: Collect,
  ) {
    if (family.type === 'histogram') throw new Error(`${family.name} is a histogram`);
    this.name = family.name;
    this.help = family.help;
    this.type = family.type;
    this.labelNames = labelNamesOf(family, 2);
    for (const set of labelSets(family, universe)) {
      const [a, b] = this.labelNames.map((name) => set[name]!);
      this.cell(a, b);
    }
    register(registry, this);
  }

  /** The series of these label values (in the catalog's label order; none for an unlabelled family). */
  cell(a?: string, b?: string): Cell {
    const names = this.labelNames;
    if (names.length === 2) {
      const cell = this.byTwo.get(a!)?.get(b!);
      return cell ?? this.add({ [names[0]!]: a!, [names[1]!]: b! }, a!, b);
    }
    const key = names.length === 0 ? '' : a!;
    return this.byValue.get(key) ?? this.add(names.length === 0 ? {} : { [names[0]!]: key }, key, undefined);
  }

  private add(labels: Record<string, string>, a: string, b: string | undefined): Cell {
    const cell: Cell = { labels, value: 0 };
    this.cells.push(cell);
    if (b === undefined) this.byValue.set(a, cell);
    else {
      let inner = this.byTwo.get(a);
      if (inner === undefined) {
        inner = new Map();
        this.byTwo.set(a, inner);
      }
      inner.set(b, cell);
    }
    return cell;
  }

  async get(): Promise<Exported> {
    if (this.collect !== undefined) await this.collect();
    const values = this.cells.map((c) => ({ value: c.value, labels: { ...c.labels } }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/** A histogram family with fixed upper bounds and at most one label. */
export class HistogramFamily {
  readonly name: string;
  readonly help: string;
  private readonly labelName: string | undefined;
  private readonly series = new Map<string, BucketCounts>();

  constructor(
    registry: Registry,
    family: MetricFamily,
    universe: LabelUniverse,
    private readonly upperBounds: readonly number[],
  ) {
    if (family.type !== 'histogram') throw new Error(`${family.name} is not a histogram`);
    this.name = family.name;
    this.help = family.help;
    this.labelName = labelNamesOf(family, 1)[0];
    for (const set of labelSets(family, universe))
      this.of(this.labelName === undefined ? undefined : set[this.labelName]);
    register(registry, this);
  }

  /** The series of this label value (none for an unlabelled family): observe() into it, or add() a snapshot. */
  of(label?: string): BucketCounts {
    const key = label ?? '';
    let s = this.series.get(key);
    if (s === undefined) {
      s = new BucketCounts(this.upperBounds);
      this.series.set(key, s);
    }
    return s;
  }

  async get(): Promise<Exported> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [label, s] of this.series) {
      const shared: Record<string, string> = this.labelName === undefined ? {} : { [this.labelName]: label };
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ value: cumulative, labels: { le }, sharedLabels: shared, metricName: bucket });
      });
      values.push({ value: s.count, labels: { le: '+Inf' }, sharedLabels: shared, metricName: bucket });
      values.push({ value: s.sum, labels: {}, sharedLabels: shared, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: {}, sharedLabels: shared, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
