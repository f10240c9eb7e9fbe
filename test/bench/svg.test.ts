// The hand-written SVG charts: well-formed XML (checked by a small tag-stack parser written here), both axes
// with tick labels, one group per series with its points, log and categorical axes, and escaped text.
import { describe, expect, it } from 'vitest';
import { lineChart, tickLabel, xmlEscape } from '../../src/cli/bench-svg.js';

/** Throws unless `xml` is well-formed: one root, every tag closed in order, attributes quoted, entities known. */
function checkWellFormed(xml: string): { tags: { name: string; attrs: Record<string, string> }[] } {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tags: { name: string; attrs: Record<string, string> }[] = [];
  let roots = 0;
  const tagRe = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt < 0 ? body.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`bad entity in text '${text}'`);
    if (lt < 0) { if (text.trim()) throw new Error('text after the root'); break; }
    tagRe.lastIndex = lt;
    const m = tagRe.exec(body);
    if (!m) throw new Error(`malformed tag at ${lt}: ${body.slice(lt, lt + 40)}`);
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        if (/&(?!(amp|lt|gt|quot|apos);)/.test(a[2]!)) throw new Error(`bad entity in attribute ${a[1]}`);
        attrs[a[1]!] = a[2]!;
      }
      tags.push({ name: name!, attrs });
      if (!selfClose) stack.push(name!);
    }
    i = tagRe.lastIndex;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return { tags };
}

describe('lineChart', () => {
  const svg = lineChart({
    title: 'latency <p50> & more', xLabel: 'batch', yLabel: 'ms', xLog: true, yLog: true,
    series: [{ name: 'f32', points: [[1, 0.1], [8, 0.4], [64, 3]] }, { name: 'int8 "q"', points: [[1, 0.2], [8, 0.5]], dashed: true }],
  });

  it('is well-formed XML with an svg root and the checker rejects broken documents', () => {
    const { tags } = checkWellFormed(svg);
    expect(tags[0]!.name).toBe('svg');
    expect(tags[0]!.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(() => checkWellFormed('<svg><g></svg>')).toThrow(/closes the wrong element/);
    expect(() => checkWellFormed('<svg>a & b</svg>')).toThrow(/bad entity/);
  });

  it('has both axes with labels and ticks at powers of 2 (x) and 10 (y)', () => {
    expect(svg).toMatch(/<g class="axis x-axis">/);
    expect(svg).toMatch(/<g class="axis y-axis">/);
    expect(svg).toContain('>batch</text>');
    expect(svg).toContain('>ms</text>');
    for (const t of ['1', '2', '4', '8', '16', '32', '64']) expect(svg).toContain(`>${t}</text>`);
    for (const t of ['0.1', '1', '10']) expect(svg).toContain(`>${t}</text>`);
  });

  it('draws one group per series with a point per finite value, dashed where asked, names escaped', () => {
    const groups = [...svg.matchAll(/<g class="series" data-name="([^"]*)"[^>]*>([\s\S]*?)<\/g>/g)];
    expect(groups.map((g) => g[1])).toEqual(['f32', 'int8 &quot;q&quot;']);
    expect(groups[0]![2]!.match(/<circle /g)).toHaveLength(3);
    expect(groups[1]![2]!.match(/<circle /g)).toHaveLength(2);
    expect(groups[1]![2]).toContain('stroke-dasharray');
    expect(groups[0]![2]).not.toContain('stroke-dasharray');
    expect(svg).toContain('latency &lt;p50&gt; &amp; more');
  });

  it('places larger y values higher (smaller SVG y) and larger x further right', () => {
    const pts = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].slice(0, 3).map((m) => [Number(m[1]), Number(m[2])]);
    expect(pts[0]![0]).toBeLessThan(pts[1]![0]!);
    expect(pts[1]![0]).toBeLessThan(pts[2]![0]!);
    expect(pts[0]![1]).toBeGreaterThan(pts[1]![1]!);
    expect(pts[1]![1]).toBeGreaterThan(pts[2]![1]!);
  });

  it('labels a categorical x axis and leaves out non-finite points', () => {
    const c = lineChart({ title: 'acc', xLabel: 'precision', yLabel: '%', categories: ['f32', 'f16', 'int8'], series: [{ name: 'mlp', points: [[0, 100], [1, NaN], [2, 99]] }] });
    checkWellFormed(c);
    for (const t of ['f32', 'f16', 'int8']) expect(c).toContain(`>${t}</text>`);
    expect(c.match(/<circle /g)).toHaveLength(2);
  });

  it('copes with no data at all', () => {
    checkWellFormed(lineChart({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] }));
  });
});

describe('text helpers', () => {
  it('escapes the five XML characters and shortens tick labels', () => {
    expect(xmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    expect(tickLabel(2500)).toBe('2.5k');
    expect(tickLabel(0.25)).toBe('0.25');
    expect(tickLabel(1e-4)).toBe('1e-4');
    expect(tickLabel(0)).toBe('0');
  });

  it('widens the legend column for long series names so no name runs past the edge', () => {
    const name = 'forwardpass-onnx webgpu f32 (with readback)';
    const { tags } = checkWellFormed(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name, points: [[1, 1], [2, 2]] }] }));
    const svg = tags.find((t) => t.name === 'svg')!;
    const label = tags.filter((t) => t.name === 'text').find((t) => Number(t.attrs.x) > 500)!;
    expect(Number(label.attrs.x) + 6.5 * name.length).toBeLessThanOrEqual(Number(svg.attrs.width));
    const short = checkWellFormed(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'f32', points: [[1, 1]] }] })).tags.find((t) => t.name === 'svg')!;
    expect(short.attrs.width).toBe('640');
  });
});
