import { Gauge, type Registry } from 'prom-client';
import { metricFamily, READY_CHECKS } from './metric-catalog.js';
import type { ReadinessProbe } from './readiness.js';

/**
 * `switchyard_ready` and `switchyard_ready_check{check}` (docs/protocol.md
 * section 8): what GET /readyz would answer, computed at scrape time by the
 * same probe, so the metric and the probe never disagree. Every check has
 * its series from start.
 */
export function registerReadinessMetrics(registry: Registry, probe: ReadinessProbe): void {
  const registers = [registry];
  const ready = metricFamily('switchyard_ready');
  new Gauge({
    name: ready.name,
    help: ready.help,
    registers,
    async collect() {
      this.set((await probe.check()).ready ? 1 : 0);
    },
  });
  const perCheck = metricFamily('switchyard_ready_check');
  new Gauge({
    name: perCheck.name,
    help: perCheck.help,
    labelNames: ['check'],
    registers,
    async collect() {
      const { checks } = await probe.check();
      for (const check of READY_CHECKS) this.set({ check }, checks[check].ok ? 1 : 0);
    },
  });
}
