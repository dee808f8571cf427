import { describe, expect, it } from 'vitest';
import { parseYaml } from '../helpers/yaml-subset.js';

/** The YAML subset reader the grafana/ tests use: what it reads, and that it refuses what it does not. */

describe('parseYaml', () => {
  it('reads mappings, sequences of mappings, quoted and plain scalars, comments', () => {
    const text = [
      '# a comment',
      'apiVersion: 1',
      'groups:',
      '  - name: g   # trailing comment',
      '    rules:',
      "      - alert: 'It''s'",
      '        labels:',
      '          severity: page',
      '        url: https://example.com/a.md#anchor',
      '  - name: "two \\"quoted\\""',
      'empty: []',
      'none:',
      'list:',
      '- a',
      '- b: c',
      '  d: [x, "y"]',
    ].join('\n');
    expect(parseYaml(text)).toEqual({
      apiVersion: '1',
      groups: [
        {
          name: 'g',
          rules: [{ alert: "It's", labels: { severity: 'page' }, url: 'https://example.com/a.md#anchor' }],
        },
        { name: 'two "quoted"' },
      ],
      empty: [],
      none: null,
      list: ['a', { b: 'c', d: ['x', 'y'] }],
    });
  });

  it('reads literal and folded block scalars, with their chomping', () => {
    const text = [
      'literal: |',
      '  sum(rate(x[5m]))',
      '    > 0  # kept: not a comment here',
      '',
      'stripped: |-',
      '  a',
      'folded: >',
      '  one',
      '  two',
      '',
      '  three',
      'next: v',
    ].join('\n');
    expect(parseYaml(text)).toEqual({
      literal: 'sum(rate(x[5m]))\n  > 0  # kept: not a comment here\n',
      stripped: 'a',
      folded: 'one two\nthree\n',
      next: 'v',
    });
  });

  it('refuses what it does not read, rather than misreading it', () => {
    expect(() => parseYaml('a: &anchor x')).toThrow(/outside the subset/);
    expect(() => parseYaml('a: 1\na: 2')).toThrow(/given twice/);
    expect(() => parseYaml('a:\n\t- b')).toThrow(/tab/);
    expect(() => parseYaml('a: "open')).toThrow(/not closed/);
    expect(() => parseYaml('a: 1\n   b: 2')).toThrow(/more indent/);
    expect(() => parseYaml('a: {b: c}')).toThrow(/flow collection/);
  });
});
