import { describe, expect, it } from 'vitest';
import {
  type CallFrame,
  type CpuProfile,
  describeFile,
  fold,
  foldedText,
  frameOf,
  parse,
  renderSvg,
  summarise,
} from '../../bench/harness/flame.js';

const APP = 'file:///repo/dist/src/app.js';

function cf(functionName: string, url = '', lineNumber = -1): CallFrame {
  return { functionName, url, lineNumber };
}

/**
 * (root) ─┬ (program)
 *         ├ main app.js:1 ─┬ work app.js:10 ── readFile node:fs:100
 *         │                ├ work app.js:10 (another call site, same frame: must merge)
 *         │                └ encode msgpackr/pack.js:5
 *         ├ (idle)
 *         └ (garbage collector)
 */
const nodes = [
  { id: 1, callFrame: cf('(root)'), children: [2, 3, 6, 7] },
  { id: 2, callFrame: cf('(program)') },
  { id: 3, callFrame: cf('main', APP, 0), children: [4, 9, 5] },
  { id: 4, callFrame: cf('work', APP, 9), children: [8] },
  { id: 5, callFrame: cf('encode', 'file:///repo/node_modules/msgpackr/pack.js', 4) },
  { id: 6, callFrame: cf('(idle)') },
  { id: 7, callFrame: cf('(garbage collector)') },
  { id: 8, callFrame: cf('readFile', 'node:fs', 99) },
  { id: 9, callFrame: cf('work', APP, 9) },
];
const samples = [4, 4, 9, 5, 8, 6, 6, 7, 2, 3];
// Each sample lasts until the next one: weights 1000 1000 2000 1000 3000 4000 4000 500 500,
// and the last sample (3000) runs to endTime. The first delta (100) is before any sample.
const timeDeltas = [100, 1000, 1000, 2000, 1000, 3000, 4000, 4000, 500, 500];
const profile: CpuProfile = { nodes, samples, timeDeltas, startTime: 0, endTime: 17_100 + 3000 };

describe('flame: fold', () => {
  it('weights samples by time, merges identical frames and drops idle', () => {
    const folded = fold(profile);
    expect(folded.totalUs).toBe(20_000);
    expect(folded.idleUs).toBe(8000);
    expect(folded.samples).toBe(10);
    expect(foldedText(folded)).toBe(
      [
        '(garbage collector) 500',
        '(program) 500',
        'main dist/src/app.js:1 3000',
        'main dist/src/app.js:1;encode msgpackr/pack.js:5 1000',
        'main dist/src/app.js:1;work dist/src/app.js:10 4000',
        'main dist/src/app.js:1;work dist/src/app.js:10;readFile node:fs:100 3000',
        '',
      ].join('\n'),
    );
  });

  it('survives a JSON round trip through parse and rejects other JSON', () => {
    expect(foldedText(fold(parse(JSON.stringify(profile))))).toBe(foldedText(fold(profile)));
    expect(() => parse('{"nodes": []}')).toThrow(/not a V8 .cpuprofile/);
  });

  it('counts a negative time delta (out-of-order sample) as no time', () => {
    // Sample 1 now comes 50 us *before* sample 0; endTime keeps the last sample at 3000 us.
    const p: CpuProfile = {
      ...profile,
      timeDeltas: [100, -50, ...timeDeltas.slice(2)],
      endTime: profile.endTime - 1050,
    };
    // Sample 0 loses its 1000 us; nothing else changes.
    expect(fold(p).totalUs).toBe(19_000);
  });
});

describe('flame: summarise', () => {
  const summary = summarise(fold(profile));
  const row = (rows: typeof summary.self, name: string) => rows.find((r) => r.frame.name === name);

  it('gives self and inclusive time as shares of the non-idle time', () => {
    expect(summary.busyUs).toBe(12_000);
    expect(summary.self.map((r) => [r.frame.name, r.us])).toEqual([
      ['work', 4000],
      ['main', 3000],
      ['readFile', 3000],
      ['encode', 1000],
      ['(garbage collector)', 500],
      ['(program)', 500],
    ]);
    expect(row(summary.self, 'work')?.pct).toBeCloseTo(33.333, 2);
    expect(row(summary.self, 'readFile')?.pct).toBeCloseTo(25, 5);
    expect(row(summary.inclusive, 'main')?.pct).toBeCloseTo(91.667, 2);
    expect(row(summary.inclusive, 'work')?.us).toBe(7000);
    expect(row(summary.inclusive, 'work')?.pct).toBeCloseTo(58.333, 2);
  });

  it('sums self time by category, naming the npm package', () => {
    expect(summary.groups.map((g) => [g.group, g.us])).toEqual([
      ['our code', 7000],
      ['node internals', 3000],
      ['msgpackr', 1000],
      ['GC', 500],
      ['program', 500],
    ]);
  });

  it('counts a recursive frame once per sample in inclusive time', () => {
    const rec: CpuProfile = {
      nodes: [
        { id: 1, callFrame: cf('(root)'), children: [2] },
        { id: 2, callFrame: cf('f', APP, 0), children: [3] },
        { id: 3, callFrame: cf('f', APP, 0) },
      ],
      samples: [3, 2],
      timeDeltas: [0, 1000],
      startTime: 0,
      endTime: 2000,
    };
    const s = summarise(fold(rec));
    expect(s.inclusive).toHaveLength(1);
    expect(s.inclusive[0]?.us).toBe(2000);
    expect(s.inclusive[0]?.pct).toBe(100);
    expect(s.self[0]?.us).toBe(2000);
  });
});

describe('flame: renderSvg', () => {
  const svg = renderSvg(fold(profile), 'test-0: main thread');

  it('draws one titled rect per merged frame, widths from time', () => {
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(titles).toEqual([
      // The document's own title first (an SVG is announced by it), then one per frame.
      'Flame graph: test-0: main thread',
      'all — 12.0 ms (100.0%)',
      '(garbage collector) — 0.50 ms (4.2%)',
      '(program) — 0.50 ms (4.2%)',
      'main dist/src/app.js:1 — 11.0 ms (91.7%)',
      'encode msgpackr/pack.js:5 — 1.00 ms (8.3%)',
      'work dist/src/app.js:10 — 7.00 ms (58.3%)',
      'readFile node:fs:100 — 3.00 ms (25.0%)',
    ]);
    const width = (title: string): number => {
      const at = svg.indexOf(`<title>${title}`);
      return Number(/width="([\d.]+)"/.exec(svg.slice(at))?.[1]);
    };
    // 1180 px of plot for 12 ms of non-idle time.
    expect(width('all')).toBeCloseTo(1180, 1);
    expect(width('work')).toBeCloseTo((1180 * 7) / 12, 1);
  });

  it('puts the root at the bottom and reports idle in the header, not as a frame', () => {
    const y = (title: string): number => {
      const at = svg.indexOf(`<title>${title}`);
      return Number(/ y="(\d+)"/.exec(svg.slice(at))?.[1]);
    };
    expect(y('all')).toBeGreaterThan(y('main'));
    expect(y('main')).toBeGreaterThan(y('work'));
    expect(y('work')).toBeGreaterThan(y('readFile'));
    expect(svg).not.toContain('(idle)');
    expect(svg).toContain('idle 40.0 %');
  });
});

describe('flame: classification and file names', () => {
  it('classifies frames by where their code lives', () => {
    const of = (url: string) => frameOf(cf('f', url, 0));
    expect(of('file:///w/node_modules/a/node_modules/@s/pkg/x.js')).toMatchObject({
      kind: 'npm',
      group: '@s/pkg',
      location: '@s/pkg/x.js:1',
    });
    expect(of('node:internal/timers')).toMatchObject({ kind: 'node', group: 'node internals' });
    expect(of('file:///w/src/engine/x.ts')).toMatchObject({ kind: 'ours', location: 'src/engine/x.ts:1' });
    expect(of('file:///home/me/src/repo/dist/bench/run.js')).toMatchObject({
      kind: 'other',
      location: 'dist/bench/run.js:1',
    });
    expect(frameOf(cf('(garbage collector)'))).toMatchObject({ kind: 'gc', group: 'GC' });
    expect(frameOf(cf('writeBuffer'))).toMatchObject({ kind: 'native', location: '' });
  });

  it('names main and worker threads from the --cpu-prof file name', () => {
    expect(describeFile('CPU.20261126.120609.21736.0.001.cpuprofile')).toBe('main thread, pid 21736');
    expect(describeFile('CPU.20261126.120609.21736.3.004.cpuprofile')).toBe('worker thread 3, pid 21736');
    expect(describeFile('other.cpuprofile')).toBe('other.cpuprofile');
  });
});
