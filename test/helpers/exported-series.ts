import { collectDefaultMetrics, Registry } from 'prom-client';
import { METRIC_FAMILIES } from '../../src/observability/metric-catalog.js';

/**
 * Every series name a Prometheus scraping the switch holds, with the label
 * names each may carry: the catalog's families (a histogram as its
 * `_bucket`, `_sum` and `_count`), Node's default process metrics as
 * prom-client exports them (read from a fresh registry, not a list kept
 * here), and Prometheus's own `up`. Dashboards and alert rules may ask for
 * these only.
 */

/** Labels Prometheus adds to every scraped series (the target's). */
export const TARGET_LABELS = ['job', 'instance'] as const;

/**
 * A label the switch exported under a target label's name would be renamed
 * `exported_<name>` at scrape time (honor_labels: false): the catalog has
 * none, and this says so loudly if one is ever added.
 */
function scrapedLabelName(label: string): string {
  if ((TARGET_LABELS as readonly string[]).includes(label))
    throw new Error(`a switchyard label named ${label} clashes with the target's label of that name`);
  return label;
}

function addSeries(
  names: Map<string, Set<string>>,
  name: string,
  type: string,
  labels: readonly string[],
): void {
  const scraped = [...TARGET_LABELS, ...labels.map(scrapedLabelName)];
  if (type === 'histogram') {
    names.set(`${name}_bucket`, new Set([...scraped, 'le']));
    names.set(`${name}_sum`, new Set(scraped));
    names.set(`${name}_count`, new Set(scraped));
  } else {
    names.set(name, new Set(scraped));
  }
}

/** Series name to the label names its series may carry once scraped. */
export async function exportedSeries(): Promise<Map<string, Set<string>>> {
  const names = new Map<string, Set<string>>();
  for (const family of METRIC_FAMILIES)
    addSeries(names, family.name, family.type, Object.keys(family.labels));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const metric of await registry.getMetricsAsJSON()) {
    const labels = new Set<string>();
    for (const value of metric.values) for (const label of Object.keys(value.labels)) labels.add(label);
    labels.delete('le');
    // prom-client types `type` as a numeric enum; at run time it is the exposition's word ('histogram').
    addSeries(names, metric.name, String(metric.type), [...labels]);
  }
  names.set('up', new Set(TARGET_LABELS));
  return names;
}
