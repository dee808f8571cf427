import type { LatencyKey, ScenarioResult } from '../scenarios/e2e.js';

/**
 * Hand-written SVG line charts (no dependencies, no browser): categorical x,
 * logarithmic y, one polyline per series, optional min-max whiskers.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  /** One value per x label; undefined leaves a gap. */
  readonly values: readonly (number | undefined)[];
  readonly ranges?: readonly (readonly [number, number] | undefined)[];
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly xLabels: readonly string[];
  readonly series: readonly Series[];
  /** Horizontal reference lines (targets). */
  readonly marks?: readonly { readonly value: number; readonly label: string }[];
  readonly formatY: (value: number) => string;
}

const WIDTH = 760;
const HEIGHT = 420;
const LEFT = 78;
const RIGHT = 170;
const TOP = 58;
const BOTTOM = 56;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function lineChart(spec: ChartSpec): string {
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const all = [
    ...spec.series.flatMap((s) => [
      ...s.values,
      ...(s.ranges ?? []).flatMap((r) => (r === undefined ? [] : [...r])),
    ]),
    ...(spec.marks ?? []).map((m) => m.value),
  ].filter((v): v is number => v !== undefined && v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(all.length === 0 ? 1 : Math.min(...all)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(all.length === 0 ? 10 : Math.max(...all))));
  const y = (v: number): number => TOP + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
  const n = spec.xLabels.length;
  const x = (i: number): number => LEFT + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
    `<text x="${LEFT}" y="40" fill="#555">${escapeXml(spec.subtitle)}</text>`,
  );
  // Grid: decades labelled, 2 and 5 faint.
  for (let d = lo; d <= hi; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (Math.log10(v) > hi + 1e-9) continue;
      const yy = y(v).toFixed(1);
      out.push(
        `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${yy}" y2="${yy}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`,
      );
      if (m === 1 || hi - lo <= 2) {
        out.push(
          `<text x="${LEFT - 6}" y="${yy}" dy="4" text-anchor="end" fill="#333">${spec.formatY(v)}</text>`,
        );
      }
    }
  }
  out.push(
    `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + plotH}" stroke="#333"/>`,
    `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${TOP + plotH}" y2="${TOP + plotH}" stroke="#333"/>`,
  );
  spec.xLabels.forEach((label, i) => {
    out.push(
      `<text x="${x(i).toFixed(1)}" y="${TOP + plotH + 18}" text-anchor="middle">${escapeXml(label)}</text>`,
    );
  });
  out.push(
    `<text x="${LEFT + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle" fill="#333">${escapeXml(spec.xTitle)}</text>`,
    `<text transform="translate(18 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(spec.yTitle)}</text>`,
  );
  for (const mark of spec.marks ?? []) {
    const yy = y(mark.value).toFixed(1);
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${yy}" y2="${yy}" stroke="#b00" stroke-dasharray="2 3"/>`,
      `<text x="${LEFT + 6}" y="${yy}" dy="-4" fill="#b00" font-size="11">${escapeXml(mark.label)}</text>`,
    );
  }
  spec.series.forEach((series, k) => {
    const dash = series.dashed === true ? ' stroke-dasharray="6 4"' : '';
    let path = '';
    series.values.forEach((v, i) => {
      if (v === undefined || v <= 0) return;
      path += `${path === '' ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    });
    if (path !== '')
      out.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`);
    series.values.forEach((v, i) => {
      if (v === undefined || v <= 0) return;
      const range = series.ranges?.[i];
      if (range !== undefined && range[0] > 0) {
        const xx = x(i).toFixed(1);
        out.push(
          `<line x1="${xx}" x2="${xx}" y1="${y(range[0]).toFixed(1)}" y2="${y(range[1]).toFixed(1)}" stroke="${series.color}" stroke-width="1.5"/>`,
        );
      }
      out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${series.color}"/>`);
    });
    const ly = TOP + 8 + k * 20;
    const lx = LEFT + plotW + 16;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}" dy="4">${escapeXml(series.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function formatRate(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

function formatMs(v: number): string {
  if (v >= 1000) return `${v / 1000} s`;
  return v >= 1 ? `${v} ms` : `${Number(v.toPrecision(2))} ms`;
}

/** Throughput by messages per frame: the switch (median, min-max) against the echo ceiling. */
export function throughputByBatchChart(
  switchSweep: readonly ScenarioResult[],
  echoSweep: readonly ScenarioResult[],
  subtitle: string,
): string {
  const batches = [...new Set([...switchSweep, ...echoSweep].map((s) => s.load.batch))].sort((a, b) => a - b);
  const pick = (results: readonly ScenarioResult[], batch: number): ScenarioResult | undefined =>
    results.find((r) => r.load.batch === batch);
  const valuesOf = (results: readonly ScenarioResult[]): (number | undefined)[] =>
    batches.map((b) => pick(results, b)?.approvedPerS.median);
  const rangesOf = (results: readonly ScenarioResult[]): (readonly [number, number] | undefined)[] =>
    batches.map((b) => {
      const r = pick(results, b);
      return r === undefined || r.samples.length < 2 ? undefined : [r.approvedPerS.min, r.approvedPerS.max];
    });
  return lineChart({
    title: 'Throughput by messages per frame (TCP, 4 connections, 4,096 in flight)',
    subtitle,
    xTitle: 'messages per frame',
    yTitle: 'messages answered per second (log)',
    xLabels: batches.map(String),
    formatY: formatRate,
    series: [
      {
        name: 'echo ceiling',
        color: '#888',
        dashed: true,
        values: valuesOf(echoSweep),
        ranges: rangesOf(echoSweep),
      },
      {
        name: 'switch, durable',
        color: '#1f6fb4',
        values: valuesOf(switchSweep),
        ranges: rangesOf(switchSweep),
      },
    ],
  });
}

const PERCENTILES: readonly { key: LatencyKey; name: string; color: string }[] = [
  { key: 'p50', name: 'p50', color: '#2a9d8f' },
  { key: 'p99', name: 'p99', color: '#1f6fb4' },
  { key: 'p999', name: 'p99.9', color: '#e76f51' },
  { key: 'max', name: 'max', color: '#6d2e46' },
];

/** The floor server's percentiles drawn: max is one request's luck, too noisy to compare against. */
const FLOOR_KEYS: readonly LatencyKey[] = ['p50', 'p99', 'p999'];

/**
 * Latency percentiles (median over runs) by offered open-loop rate: the
 * switch's, the floor server's beside them (dashed, the same colour per
 * percentile), and the echo's p99 for reference. Where `open` has two rows
 * at a rate, the first is drawn.
 */
export function latencyByLoadChart(
  open: readonly ScenarioResult[],
  echoOpen: readonly ScenarioResult[],
  subtitle: string,
  floorOpen: readonly ScenarioResult[] = [],
): string {
  const rates = [...new Set([...open, ...floorOpen].map((s) => s.load.ratePerS ?? 0))].sort((a, b) => a - b);
  const at = (results: readonly ScenarioResult[], rate: number): ScenarioResult | undefined =>
    results.find((r) => r.load.ratePerS === rate);
  return lineChart({
    title: 'Latency by offered load (open loop, from intended send time)',
    subtitle,
    xTitle: 'offered requests per second',
    yTitle: 'latency (log)',
    xLabels: rates.map((r) => formatRate(r)),
    formatY: formatMs,
    // No absolute target lines: issue 20's targets are ratios to the floor server, drawn beside the switch.
    series: [
      ...PERCENTILES.map((p) => ({
        name: `switch ${p.name}`,
        color: p.color,
        values: rates.map((r) => at(open, r)?.latencyMs[p.key]),
      })),
      ...(floorOpen.length === 0 ? [] : PERCENTILES.filter((p) => FLOOR_KEYS.includes(p.key))).map((p) => ({
        name: `floor ${p.name}`,
        color: p.color,
        dashed: true,
        values: rates.map((r) => at(floorOpen, r)?.latencyMs[p.key]),
      })),
      {
        name: 'echo p99',
        color: '#888',
        dashed: true,
        values: rates.map((r) => at(echoOpen, r)?.latencyMs.p99),
      },
    ],
  });
}
