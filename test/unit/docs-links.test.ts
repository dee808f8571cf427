import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { headingAnchors } from '../helpers/markdown-anchors.js';

/**
 * Every relative link in README.md and docs/*.md must lead somewhere: files
 * move (the layout was reshaped, protocol notes were folded into the
 * contract) and a newcomer's first click should not be a 404. A link to a
 * heading of a Markdown file (`ledger.md#capacity`) must name a heading that
 * exists, slugged as GitHub does.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface BrokenLink {
  readonly file: string;
  readonly target: string;
  readonly reason: string;
}

/** Text outside fenced code blocks and inline code spans, where a `[x](y)` is a real link. */
function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Link and image targets: `[text](target)` and `![alt](target "title")`. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const match of proseOf(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    targets.push(match[1] as string);
  }
  return targets;
}

/** The broken relative links of one Markdown file; `read` and `exists` are injectable so the checker itself can be tested. */
function brokenLinks(
  file: string,
  markdown: string,
  read: (path: string) => string,
  exists: (path: string) => boolean,
): BrokenLink[] {
  const broken: BrokenLink[] = [];
  for (const target of linkTargets(markdown)) {
    // Absolute URLs (http:, https:, mailto:) are not this test's business.
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const hashAt = target.indexOf('#');
    const pathPart = decodeURIComponent(hashAt === -1 ? target : target.slice(0, hashAt));
    const anchor = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
    const path = pathPart === '' ? file : resolve(dirname(file), pathPart);
    if (!exists(path)) {
      broken.push({ file, target, reason: 'no such file or directory' });
      continue;
    }
    if (anchor !== undefined && path.endsWith('.md') && !headingAnchors(read(path)).has(anchor)) {
      broken.push({ file, target, reason: `no heading with anchor #${anchor}` });
    }
  }
  return broken;
}

function docFiles(): string[] {
  const docs = join(REPO, 'docs');
  return [
    join(REPO, 'README.md'),
    ...readdirSync(docs)
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(docs, name)),
  ];
}

describe('relative links in README.md and docs/*.md', () => {
  const files = docFiles();

  it('finds the documents and links in them', () => {
    expect(files.length).toBeGreaterThan(1);
    const total = files.reduce((sum, file) => sum + linkTargets(readFileSync(file, 'utf8')).length, 0);
    expect(total).toBeGreaterThan(0);
  });

  it.each(files.map((file) => [relative(REPO, file), file]))(
    '%s: every relative link resolves',
    (_name, file) => {
      const read = (path: string): string => readFileSync(path, 'utf8');
      const broken = brokenLinks(file, read(file), read, existsSync).map(
        (b) => `${relative(REPO, b.file)}: (${b.target}) ${b.reason}`,
      );
      expect(broken).toEqual([]);
    },
  );
});

describe('the link checker', () => {
  const pages: Record<string, string> = {
    '/r/README.md': '# Top\n\n## What works today\n\n## Setup\n\n## Setup\n',
    '/r/docs/a.md': '# A\n\n## Capacity: records, in memory & in Redis\n\n### What `npm run bench` runs\n',
  };
  const read = (path: string): string => pages[path] ?? '';
  const exists = (path: string): boolean => path in pages || path === '/r/docs';
  const check = (file: string, markdown: string): string[] =>
    brokenLinks(file, markdown, read, exists).map((b) => `${b.target}: ${b.reason}`);

  it('accepts links to files, directories and headings that exist', () => {
    const markdown = [
      '[readme](../README.md) [works](../README.md#what-works-today) [dir](../docs)',
      '[cap](a.md#capacity-records-in-memory--in-redis) [bench](#what-npm-run-bench-runs)',
      '[second setup](../README.md#setup-1) [web](https://example.com/x.md) ![img](a.md)',
    ].join('\n');
    expect(check('/r/docs/a.md', markdown)).toEqual([]);
  });

  it('reports a missing file and a missing heading', () => {
    const markdown = '[gone](protocol-notes.md) [typo](../README.md#what-work-today) [x](a.md#nope)';
    expect(check('/r/docs/a.md', markdown)).toEqual([
      'protocol-notes.md: no such file or directory',
      '../README.md#what-work-today: no heading with anchor #what-work-today',
      'a.md#nope: no heading with anchor #nope',
    ]);
  });

  it('ignores link syntax inside code', () => {
    const markdown = '`[a](missing.md)`\n\n```\n[b](missing.md)\n```\n';
    expect(check('/r/docs/a.md', markdown)).toEqual([]);
  });
});
