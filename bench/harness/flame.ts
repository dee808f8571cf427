import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Flame graphs from V8 .cpuprofile files (`node --cpu-prof --cpu-prof-dir DIR`, one file per
 * thread), without dependencies: per profile an SVG flame graph, a folded-stacks file
 * (Brendan Gregg's `a;b;c weight`, weights in microseconds) and a text summary on stdout.
 *
 *   node dist/bench/harness/flame.js <dir-with-cpuprofiles | file.cpuprofile> [--out DIR] [--label NAME]
 */

/** The parts of the DevTools `Profiler.Profile` format this tool reads. */
export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** 0-based, -1 when unknown. */
  readonly lineNumber: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** Microseconds, like timeDeltas. */
  readonly startTime: number;
  readonly endTime: number;
  /** Node id of the leaf of each sample. */
  readonly samples: readonly number[];
  /** timeDeltas[i] is the gap between sample i-1 (or startTime) and sample i. */
  readonly timeDeltas: readonly number[];
}

export type Kind = 'ours' | 'npm' | 'node' | 'native' | 'gc' | 'program' | 'other';

export interface Frame {
  /** functionName + url + line: frames with equal keys merge (columns differ per call site). */
  readonly key: string;
  readonly name: string;
  /** Short `file:line`, '' for native frames. */
  readonly location: string;
  readonly kind: Kind;
  /** What the "by category" line sums by: 'our code', the npm package name, 'node internals', ... */
  readonly group: string;
}

export interface Stack {
  /** Outermost first; never empty. */
  readonly frames: readonly Frame[];
  readonly us: number;
}

export interface Folded {
  /** Distinct stacks (idle dropped), sorted by their folded text. */
  readonly stacks: readonly Stack[];
  readonly totalUs: number;
  readonly idleUs: number;
  readonly samples: number;
}

export interface Row {
  readonly frame: Frame;
  readonly us: number;
  /** Percent of the non-idle time. */
  readonly pct: number;
}

export interface Summary {
  readonly totalUs: number;
  readonly idleUs: number;
  readonly busyUs: number;
  readonly samples: number;
  /** All frames by self time, largest first. */
  readonly self: readonly Row[];
  /** All frames by inclusive time (a recursive frame counted once per sample), largest first. */
  readonly inclusive: readonly Row[];
  readonly groups: readonly { readonly group: string; readonly us: number; readonly pct: number }[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function parse(text: string): CpuProfile {
  const raw: unknown = JSON.parse(text);
  if (
    !isRecord(raw) ||
    !Array.isArray(raw['nodes']) ||
    !Array.isArray(raw['samples']) ||
    !Array.isArray(raw['timeDeltas']) ||
    typeof raw['startTime'] !== 'number' ||
    typeof raw['endTime'] !== 'number'
  ) {
    throw new Error('not a V8 .cpuprofile (needs nodes, samples, timeDeltas, startTime, endTime)');
  }
  if (raw['samples'].length !== raw['timeDeltas'].length) {
    throw new Error('malformed .cpuprofile: samples and timeDeltas differ in length');
  }
  for (const node of raw['nodes'] as unknown[]) {
    if (!isRecord(node) || typeof node['id'] !== 'number' || !isRecord(node['callFrame'])) {
      throw new Error('malformed .cpuprofile: a node without id or callFrame');
    }
  }
  return raw as unknown as CpuProfile;
}

const GROUP_OURS = 'our code';
const GROUP_NODE = 'node internals';

export function frameOf(callFrame: CallFrame): Frame {
  const { functionName, url, lineNumber } = callFrame;
  const key = `${functionName}\u0000${url}\u0000${lineNumber}`;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') {
    if (functionName === '(garbage collector)') return { key, name, location: '', kind: 'gc', group: 'GC' };
    // '(root)' only shows up as a leaf if V8 attributed a sample to no frame at all.
    if (functionName === '(program)' || functionName === '(root)') {
      return { key, name, location: '', kind: 'program', group: 'program' };
    }
    return { key, name, location: '', kind: 'native', group: 'native' };
  }
  const line = lineNumber >= 0 ? `:${lineNumber + 1}` : '';
  if (url.startsWith('node:'))
    return { key, name, location: `${url}${line}`, kind: 'node', group: GROUP_NODE };
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  // The last node_modules segment owns the file (nested installs); scoped names take two parts.
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length);
    const parts = rest.split('/');
    const pkg = rest.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? rest);
    return { key, name, location: `${rest}${line}`, kind: 'npm', group: pkg };
  }
  const dist = path.lastIndexOf('/dist/');
  // '/src/' only counts outside dist/ (ts run directly), so dist/bench in a checkout under ~/src is not "ours".
  const ours = path.includes('/dist/src/') || (dist < 0 && path.includes('/src/'));
  const short = dist >= 0 ? path.slice(dist + 1) : ours ? path.slice(path.lastIndexOf('/src/') + 1) : path;
  return ours
    ? { key, name, location: `${short}${line}`, kind: 'ours', group: GROUP_OURS }
    : { key, name, location: `${short}${line}`, kind: 'other', group: 'other JS' };
}

/** One frame as folded-stack text: ';' separates frames, so it must not appear inside one. */
export function frameLabel(frame: Frame): string {
  const label = frame.location === '' ? frame.name : `${frame.name} ${frame.location}`;
  return label.replace(/;/g, ',');
}

function stackLabel(frames: readonly Frame[]): string {
  return frames.map(frameLabel).join(';');
}

/** Per-sample weights to stacks: merges identical frame paths and drops '(idle)'. */
export function fold(profile: CpuProfile): Folded {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  // A sample stands for the time until the next sample (as DevTools counts it), the last one until
  // endTime. V8 occasionally records a sample out of order; a negative gap counts as nothing.
  const { samples, timeDeltas } = profile;
  let lastAt = profile.startTime;
  for (const delta of timeDeltas) lastAt += delta;
  const selfUs = new Map<number, number>();
  samples.forEach((id, i) => {
    const gap = i + 1 < samples.length ? (timeDeltas[i + 1] ?? 0) : profile.endTime - lastAt;
    if (gap > 0) selfUs.set(id, (selfUs.get(id) ?? 0) + gap);
  });

  // Frame paths from the root, memoised per node so shared prefixes are built once.
  const paths = new Map<number, readonly Frame[]>();
  const pathOf = (id: number): readonly Frame[] => {
    const chain: ProfileNode[] = [];
    let base: readonly Frame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const known = paths.get(cur);
      if (known !== undefined) {
        base = known;
        break;
      }
      const node = byId.get(cur);
      if (node === undefined) throw new Error(`malformed .cpuprofile: unknown node id ${cur}`);
      chain.push(node);
    }
    let path = base;
    for (let k = chain.length - 1; k >= 0; k--) {
      const node = chain[k]!;
      if (node.callFrame.functionName !== '(root)') path = [...path, frameOf(node.callFrame)];
      paths.set(node.id, path);
    }
    return path;
  };

  const merged = new Map<string, { label: string; frames: readonly Frame[]; us: number }>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) throw new Error(`malformed .cpuprofile: sample of unknown node id ${id}`);
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const path = pathOf(id);
    const frames = path.length > 0 ? path : [frameOf(node.callFrame)];
    const key = frames.map((f) => f.key).join('\u0001');
    const entry = merged.get(key);
    if (entry === undefined) merged.set(key, { label: stackLabel(frames), frames, us });
    else entry.us += us;
  }
  // Plain code-unit order (not locale) so the output is the same on every machine.
  const stacks = [...merged.values()]
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
    .map(({ frames, us }) => ({ frames, us }));
  return { stacks, totalUs: busyUs + idleUs, idleUs, samples: samples.length };
}

export function foldedText(folded: Folded): string {
  return folded.stacks.map((s) => `${stackLabel(s.frames)} ${Math.round(s.us)}\n`).join('');
}

function ranked(byKey: Map<string, { frame: Frame; us: number }>, busyUs: number): Row[] {
  return [...byKey.values()]
    .map(({ frame, us }) => ({ frame, us, pct: busyUs > 0 ? (us / busyUs) * 100 : 0 }))
    .sort((a, b) => b.us - a.us || (frameLabel(a.frame) < frameLabel(b.frame) ? -1 : 1));
}

export function summarise(folded: Folded): Summary {
  const self = new Map<string, { frame: Frame; us: number }>();
  const inclusive = new Map<string, { frame: Frame; us: number }>();
  const groups = new Map<string, number>();
  let busyUs = 0;
  const add = (into: Map<string, { frame: Frame; us: number }>, frame: Frame, us: number): void => {
    const entry = into.get(frame.key);
    if (entry === undefined) into.set(frame.key, { frame, us });
    else entry.us += us;
  };
  for (const { frames, us } of folded.stacks) {
    busyUs += us;
    const leaf = frames[frames.length - 1]!;
    add(self, leaf, us);
    groups.set(leaf.group, (groups.get(leaf.group) ?? 0) + us);
    // A recursive frame appears several times in one stack but its time happened once.
    const seen = new Set<string>();
    for (const frame of frames) {
      if (seen.has(frame.key)) continue;
      seen.add(frame.key);
      add(inclusive, frame, us);
    }
  }
  const pct = (us: number): number => (busyUs > 0 ? (us / busyUs) * 100 : 0);
  return {
    totalUs: folded.totalUs,
    idleUs: folded.idleUs,
    busyUs,
    samples: folded.samples,
    self: ranked(self, busyUs),
    inclusive: ranked(inclusive, busyUs),
    groups: [...groups]
      .map(([group, us]) => ({ group, us, pct: pct(us) }))
      .sort((a, b) => b.us - a.us || (a.group < b.group ? -1 : 1)),
  };
}

function ms(us: number): string {
  return (us / 1000).toFixed(us < 10_000 ? 2 : 1);
}

function percent(value: number): string {
  return value.toFixed(1);
}

function idleShare(s: { totalUs: number; idleUs: number }): string {
  return percent(s.totalUs > 0 ? (s.idleUs / s.totalUs) * 100 : 0);
}

export function formatSummary(heading: string, summary: Summary, selfTop = 20, totalTop = 15): string {
  const table = (rows: readonly Row[], n: number): string[] =>
    rows
      .slice(0, n)
      .map((r) => `  ${ms(r.us).padStart(9)} ${percent(r.pct).padStart(5)} %  ${frameLabel(r.frame)}`);
  return [
    heading,
    `  total ${ms(summary.totalUs)} ms, idle ${idleShare(summary)} %, ${summary.samples} samples; ` +
      `percentages are of the ${ms(summary.busyUs)} ms not idle`,
    `  by category: ${summary.groups.map((g) => `${g.group} ${percent(g.pct)} %`).join(', ')}`,
    `  top ${selfTop} self time:       ms     %`,
    ...table(summary.self, selfTop),
    `  top ${totalTop} total (inclusive) time:`,
    ...table(summary.inclusive, totalTop),
    '',
  ].join('\n');
}

// ---- SVG ----

const WIDTH = 1200;
const PAD = 10;
const ROW = 16;
const TOP = 70;
const FONT = 11;
/** Average glyph width of the sans-serif font, as flamegraph.pl estimates it. */
const CHAR_W = FONT * 0.59;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}

function hsl(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number): string => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/** Hue by category (a package gets its own hue in the blue-violet band); lightness varies by name so neighbours differ. */
function colourOf(frame: Frame | undefined, vary = true): string {
  const jitter = frame !== undefined && vary ? hash(frame.name) - 0.5 : 0;
  switch (frame?.kind) {
    case 'ours':
      return hsl(28 + jitter * 24, 0.85, 0.6 + jitter * 0.08);
    case 'npm':
      return hsl(195 + hash(frame.group) * 90, 0.55, 0.7 + jitter * 0.08);
    case 'node':
      return hsl(110 + jitter * 30, 0.4, 0.62 + jitter * 0.08);
    case 'native':
      return hsl(52, 0.45, 0.62 + jitter * 0.08);
    case 'gc':
      return hsl(350, 0.7, 0.62);
    case 'other':
      return hsl(175, 0.4, 0.6 + jitter * 0.08);
    default:
      return hsl(0, 0, 0.75);
  }
}

interface Cell {
  readonly frame: Frame | undefined;
  us: number;
  readonly children: Map<string, Cell>;
}

function buildTree(stacks: readonly Stack[]): { root: Cell; depth: number } {
  const root: Cell = { frame: undefined, us: 0, children: new Map() };
  let depth = 0;
  for (const { frames, us } of stacks) {
    root.us += us;
    let cell = root;
    for (const frame of frames) {
      let child = cell.children.get(frame.key);
      if (child === undefined) {
        child = { frame, us: 0, children: new Map() };
        cell.children.set(frame.key, child);
      }
      child.us += us;
      cell = child;
    }
    depth = Math.max(depth, frames.length);
  }
  return { root, depth };
}

function fitText(label: string, width: number): string {
  const chars = Math.floor((width - 4) / CHAR_W);
  if (chars < 3) return '';
  return label.length <= chars ? label : `${label.slice(0, chars - 2)}..`;
}

/** Classic flame graph: x = share of non-idle time, y = stack depth, an 'all' bar at the bottom. */
export function renderSvg(folded: Folded, title: string): string {
  const { root, depth } = buildTree(folded.stacks);
  const height = TOP + (depth + 1) * ROW + PAD;
  const scale = root.us > 0 ? (WIDTH - 2 * PAD) / root.us : 0;
  const summary = summarise(folded);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}">`,
    `<title>${escapeXml(`Flame graph: ${title}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${PAD}" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${PAD}" y="38" fill="#555">${escapeXml(
      `total ${ms(folded.totalUs)} ms, ${folded.samples} samples; idle ${idleShare(folded)} % not drawn; ` +
        `widths are shares of the ${ms(root.us)} ms not idle (hover for details)`,
    )}</text>`,
  ];
  // Legend: the largest categories, one swatch each, with their self-time share.
  let lx = PAD;
  for (const g of summary.groups.slice(0, 10)) {
    const sample = folded.stacks.find((s) => s.frames[s.frames.length - 1]!.group === g.group);
    const text = `${g.group} ${percent(g.pct)} %`;
    out.push(
      `<rect x="${lx}" y="48" width="10" height="10" fill="${colourOf(sample?.frames.at(-1), false)}"/>`,
      `<text x="${lx + 14}" y="57" fill="#333">${escapeXml(text)}</text>`,
    );
    lx += Math.round(14 + text.length * CHAR_W + 14);
  }
  const draw = (cell: Cell, x: number, level: number): void => {
    const width = cell.us * scale;
    // Sub-pixel frames are invisible anyway and would only bloat the file.
    if (width < 0.1) return;
    const y = TOP + (depth - level) * ROW;
    const label = cell.frame === undefined ? 'all' : frameLabel(cell.frame);
    const pct = root.us > 0 ? (cell.us / root.us) * 100 : 0;
    const text = fitText(cell.frame === undefined ? 'all' : cell.frame.name, width);
    out.push(
      `<g><title>${escapeXml(`${label} — ${ms(cell.us)} ms (${percent(pct)}%)`)}</title>` +
        `<rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 1}" rx="2" fill="${colourOf(cell.frame)}"/>` +
        (text === '' ? '' : `<text x="${(x + 3).toFixed(1)}" y="${y + ROW - 4}">${escapeXml(text)}</text>`) +
        '</g>',
    );
    // Alphabetical, as flamegraph.pl does, so the same code sits in the same place across graphs.
    const children = [...cell.children.values()].sort((a, b) => {
      const la = frameLabel(a.frame!);
      const lb = frameLabel(b.frame!);
      return la < lb ? -1 : la > lb ? 1 : 0;
    });
    let cx = x;
    for (const child of children) {
      draw(child, cx, level + 1);
      cx += child.us * scale;
    }
  };
  draw(root, PAD, 0);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---- CLI ----

/** `CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile`; threadId 0 is the main thread. */
export function describeFile(fileName: string): string {
  const match = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(fileName);
  if (match === null) return fileName;
  const thread = match[2] === '0' ? 'main thread' : `worker thread ${match[2]}`;
  return `${thread}, pid ${match[1]}`;
}

function main(argv: readonly string[]): void {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string' }, label: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  const input = positionals[0];
  if (values.help === true || input === undefined || positionals.length > 1) {
    process.stderr.write(
      'usage: node dist/bench/harness/flame.js <dir-with-cpuprofiles | file.cpuprofile> [--out DIR] [--label NAME]\n',
    );
    process.exit(values.help === true ? 0 : 2);
  }
  renderProfiles(input, values.out, values.label ?? 'flame');
}

/**
 * For a directory of .cpuprofile files (or one file): an SVG flame graph and
 * folded stacks per profile under `out` (default: next to the input), named
 * `<label>-<index>`, and the summary of each on stdout.
 */
export function renderProfiles(input: string, out: string | undefined, label: string): void {
  const isDir = statSync(input).isDirectory();
  const dir = isDir ? input : dirname(input);
  // File-name order is start order within one process (the names carry date, time, pid, thread, seq).
  const files = isDir
    ? readdirSync(input)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()
    : [basename(input)];
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${input}`);
  const outDir = out ?? dir;
  mkdirSync(outDir, { recursive: true });
  files.forEach((file, index) => {
    const folded = fold(parse(readFileSync(join(dir, file), 'utf8')));
    const base = join(outDir, `${label}-${index}`);
    const title = `${label}-${index}: ${describeFile(file)}`;
    writeFileSync(`${base}.svg`, renderSvg(folded, title));
    writeFileSync(`${base}.folded`, foldedText(folded));
    const heading = `== ${title}  (${file} -> ${base}.svg, .folded)`;
    process.stdout.write(`${formatSummary(heading, summarise(folded))}\n`);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    main(process.argv.slice(2));
  } catch (error: unknown) {
    process.stderr.write(`flame: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
