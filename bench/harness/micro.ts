import { performance } from 'node:perf_hooks';

export interface MicroResult {
  readonly name: string;
  /** The best round's rate (see measure). */
  readonly opsPerSecond: number;
  readonly nsPerOp: number;
  /** All rounds together: every operation over the whole measuring time, GC included. */
  readonly sustainedOpsPerSecond: number;
  readonly iterations: number;
  /** When the benchmark was repeated on fresh threads: each run's sustained rate (the row is the median run). */
  readonly sustainedRuns?: readonly number[];
}

/**
 * Runs `fn` in rounds until `durationMs` has passed (after a warm-up round),
 * and reports the best round's rate, the one least disturbed by the other
 * process sharing the two cores, and the sustained rate over all rounds.
 * The two differ by GC: a round may fit between two collections, so code
 * whose objects live long (the ledger's records) is judged by the sustained
 * rate, which pays for its collections.
 */
export function measure(name: string, opsPerCall: number, fn: () => void, durationMs = 1_000): MicroResult {
  const roundMs = 100;
  let callsPerRound = 64;
  // Calibrate a round to ~roundMs (also the warm-up).
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < callsPerRound; i++) fn();
    const elapsed = performance.now() - t0;
    if (elapsed >= roundMs / 4) {
      callsPerRound = Math.max(1, Math.round((callsPerRound * roundMs) / elapsed));
      break;
    }
    callsPerRound *= 4;
  }
  let best = Number.POSITIVE_INFINITY;
  let iterations = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    for (let i = 0; i < callsPerRound; i++) fn();
    const perCallMs = (performance.now() - t0) / callsPerRound;
    if (perCallMs < best) best = perCallMs;
    iterations += callsPerRound * opsPerCall;
  }
  const elapsedMs = performance.now() - start;
  const nsPerOp = (best * 1e6) / opsPerCall;
  return {
    name,
    opsPerSecond: 1e9 / nsPerOp,
    nsPerOp,
    sustainedOpsPerSecond: (iterations * 1e3) / elapsedMs,
    iterations,
  };
}

export function formatTable(results: readonly MicroResult[]): string {
  const rows = results.map((r) => [
    r.name,
    Math.round(r.opsPerSecond).toLocaleString('en-US'),
    r.nsPerOp.toFixed(0),
    Math.round(r.sustainedOpsPerSecond).toLocaleString('en-US'),
  ]);
  const header = ['scenario', 'best round ops/s', 'ns/op', 'sustained ops/s (GC included)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}
