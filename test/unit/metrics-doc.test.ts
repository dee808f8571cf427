import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES } from '../../src/observability/metric-catalog.js';

/** docs/operations.md's "## Metrics" section, up to the next section. */
function metricsSection(): string {
  const text = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const start = text.indexOf('\n## Metrics\n');
  expect(start, 'docs/operations.md has a ## Metrics section').toBeGreaterThanOrEqual(0);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

describe('docs/operations.md#metrics', () => {
  it('says what every family of the catalog means (by name, or a `prefix_*` row)', () => {
    const section = metricsSection();
    const wildcards = [...section.matchAll(/`(switchyard_[a-z_]+)\*`/g)].map((m) => m[1]!);
    const missing = METRIC_FAMILIES.map((f) => f.name).filter(
      (name) =>
        !section.includes(`\`${name}\``) &&
        !section.includes(`\`${name}{`) &&
        !wildcards.some((prefix) => name.startsWith(prefix)),
    );
    expect(missing).toEqual([]);
  });
});
