import { describe, expect, it } from 'vitest';
import { parsePromText, sampleValue } from '../helpers/prom-text.js';

describe('parsePromText (the tests’ strict reader of /metrics)', () => {
  const good = [
    '# HELP a_total Things, with a \\\\ and a \\n.',
    '# TYPE a_total counter',
    'a_total{x="1",y="q\\"uote"} 3',
    'a_total{x="2",y=""} 0',
    '# TYPE h histogram',
    'h_bucket{le="0.5"} 1',
    'h_bucket{le="+Inf"} 2',
    'h_sum 7.5',
    'h_count 2',
    '# TYPE g gauge',
    'g Nan',
    'g{a="b"} -1.5e3 1700000000000',
    '',
  ].join('\n');

  it('reads families, help (unescaped), labels (unescaped) and values', () => {
    const page = parsePromText(good);
    expect([...page.keys()]).toEqual(['a_total', 'h', 'g']);
    expect(page.get('a_total')).toMatchObject({ type: 'counter', help: 'Things, with a \\ and a \n.' });
    expect(sampleValue(page, 'a_total', { x: '1', y: 'q"uote' })).toBe(3);
    expect(sampleValue(page, 'h_bucket', { le: '+Inf' })).toBe(2);
    expect(sampleValue(page, 'h_count')).toBe(2);
    expect(sampleValue(page, 'g', { a: 'b' })).toBe(-1500);
    expect(Number.isNaN(sampleValue(page, 'g'))).toBe(true);
    expect(() => sampleValue(page, 'a_total', { x: '1' })).toThrow(/no sample/);
  });

  it.each([
    ['a sample before its TYPE', 'x 1\n# TYPE x gauge\n'],
    ['a sample of no declared family', '# TYPE x gauge\ny 1\n'],
    ['a histogram sample named as the family', '# TYPE h histogram\nh 1\n'],
    ['the same series twice', '# TYPE x gauge\nx{a="1",b="2"} 1\nx{b="2",a="1"} 2\n'],
    ['a label twice', '# TYPE x gauge\nx{a="1",a="2"} 1\n'],
    ['an unquoted label value', '# TYPE x gauge\nx{a=1} 1\n'],
    ['a bad escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['an unterminated label set', '# TYPE x gauge\nx{a="1" 1\n'],
    ['a value that is not a number', '# TYPE x gauge\nx one\n'],
    ['no value', '# TYPE x gauge\nx\n'],
    ['an unknown type', '# TYPE x meter\n'],
    ['TYPE twice', '# TYPE x gauge\n# TYPE x gauge\n'],
    ['HELP without TYPE', '# HELP x words\n'],
    ['a bad metric name', '# TYPE 1x gauge\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePromText(text)).toThrow();
  });
});
