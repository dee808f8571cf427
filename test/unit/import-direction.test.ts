/**
 * The architecture as a test: imports between src/ folders point one way
 * (transport -> session/engine -> rules -> actor runtime -> store, with the
 * shared vocabulary below them all), and no file imports itself through a
 * chain of others. Type-only imports count too: a cycle of types is still a
 * knot a reader has to untie.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/**
 * The server's layers, lowest first: a folder may import its own files and
 * those of any folder before it, never one after it. `(root)` is
 * src/switch.ts and src/index.ts, the composition root.
 */
const LAYERS = [
  'util',
  'protocol',
  'codec',
  'errors',
  'config',
  'observability',
  'store',
  'security',
  'runtime',
  'rules',
  'jobs',
  'clearing',
  'engine',
  'session',
  'transport',
  'admin',
  '(root)',
  'cli',
] as const;

/**
 * The host side (the SDK and the simulator built on it) stands apart: it
 * speaks the wire through the shared vocabulary and never reaches into the
 * server, and no server layer imports it. The CLI, at the top, runs both.
 */
const HOST_SIDE: Readonly<Record<string, readonly string[]>> = {
  client: ['util', 'protocol', 'codec', 'errors'],
  sim: ['util', 'protocol', 'codec', 'errors', 'client'],
};

function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  const hostSide = HOST_SIDE[from];
  if (hostSide !== undefined) return hostSide.includes(to);
  if (HOST_SIDE[to] !== undefined) return from === 'cli' || from === '(root)';
  const fromRank = LAYERS.indexOf(from as (typeof LAYERS)[number]);
  const toRank = LAYERS.indexOf(to as (typeof LAYERS)[number]);
  if (fromRank < 0 || toRank < 0) return false;
  return toRank < fromRank;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** src-relative path -> the src-relative paths it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      targets.push(path.relative(SRC, target));
    }
    graph.set(path.relative(SRC, file), targets);
  }
  return graph;
}

function folderOf(rel: string): string {
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0]! : '(root)';
}

/** Every cycle's files, one list per strongly connected component of more than one file (or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import direction', () => {
  const graph = importGraph();

  it('reads the whole tree (the parser finds the imports it should)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(path.join('transport', 'connection.ts'))).toContain(path.join('session', 'session.ts'));
  });

  it('every src folder has a place in the layering', () => {
    const folders = new Set([...graph.keys()].map(folderOf));
    const placed = new Set<string>([...LAYERS, ...Object.keys(HOST_SIDE)]);
    expect([...folders].filter((f) => !placed.has(f))).toEqual([]);
  });

  it('no import points against the layering', () => {
    const against: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (!allowed(folderOf(file), folderOf(target))) against.push(`${file} -> ${target}`);
      }
    }
    expect(against).toEqual([]);
  });

  it('the rule itself refuses what it should (runtime -> rules, store -> runtime, server -> client)', () => {
    expect(allowed('runtime', 'rules')).toBe(false);
    expect(allowed('store', 'runtime')).toBe(false);
    expect(allowed('engine', 'transport')).toBe(false);
    expect(allowed('transport', 'client')).toBe(false);
    expect(allowed('client', 'runtime')).toBe(false);
    expect(allowed('rules', 'runtime')).toBe(true);
    expect(allowed('transport', 'session')).toBe(true);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the cycle finder finds a planted cycle', () => {
    const planted = new Map(graph);
    planted.set('a.ts', ['b.ts']);
    planted.set('b.ts', ['c.ts']);
    planted.set('c.ts', ['a.ts']);
    expect(cycles(planted)).toContainEqual(['a.ts', 'b.ts', 'c.ts']);
  });
});
