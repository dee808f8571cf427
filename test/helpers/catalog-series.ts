import { bucketsOf } from '../../src/observability/metric-buckets.js';
import {
  type LabelUniverse,
  labelSets,
  METRIC_FAMILIES,
  type MetricFamily,
} from '../../src/observability/metric-catalog.js';
import type { PromFamily, PromSample } from './prom-text.js';

/** A series as one string: its sample name and sorted labels. */
function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort())}`;
}

/** The samples the catalog says `family` has for a switch of `universe` (histograms: every bucket, sum, count). */
export function expectedSeries(family: MetricFamily, universe: LabelUniverse): string[] {
  const out: string[] = [];
  for (const set of labelSets(family, universe)) {
    if (family.type !== 'histogram') {
      out.push(seriesKey(family.name, set));
      continue;
    }
    for (const le of [...bucketsOf(family.name).map(String), '+Inf'])
      out.push(seriesKey(`${family.name}_bucket`, { ...set, le }));
    out.push(seriesKey(`${family.name}_sum`, set), seriesKey(`${family.name}_count`, set));
  }
  return out;
}

export interface CatalogCheck {
  /** Families not to look for (registered by another part of the switch). */
  readonly skip?: ReadonlySet<string>;
  /** A problem with one sample's value, or undefined when it is fine. */
  readonly value?: (family: MetricFamily, sample: PromSample) => string | undefined;
}

/**
 * Every problem of a parsed /metrics page against the catalog: a family
 * missing, of another type or help, a series missing or one the catalog
 * does not name, a value `check.value` refuses. Empty when the page keeps
 * the contract.
 */
export function catalogProblems(
  page: ReadonlyMap<string, PromFamily>,
  universe: LabelUniverse,
  check: CatalogCheck = {},
): string[] {
  const problems: string[] = [];
  for (const family of METRIC_FAMILIES) {
    if (check.skip?.has(family.name)) continue;
    const found = page.get(family.name);
    if (found === undefined) {
      problems.push(`${family.name}: missing`);
      continue;
    }
    if (found.type !== family.type) problems.push(`${family.name}: type ${found.type}, not ${family.type}`);
    if (found.help !== family.help) problems.push(`${family.name}: help ${JSON.stringify(found.help)}`);
    const want = new Set(expectedSeries(family, universe));
    const have = new Set(found.samples.map((s) => seriesKey(s.name, s.labels)));
    for (const key of want) if (!have.has(key)) problems.push(`${family.name}: no series ${key}`);
    for (const key of have)
      if (!want.has(key)) problems.push(`${family.name}: series not in the catalog ${key}`);
    for (const sample of found.samples) {
      const problem = check.value?.(family, sample);
      if (problem !== undefined) problems.push(`${seriesKey(sample.name, sample.labels)}: ${problem}`);
    }
  }
  return problems;
}
