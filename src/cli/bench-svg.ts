// Hand-written SVG line charts for benchmark results (no dependencies): axes with ticks and labels, linear or
// log scales, categorical x (e.g. precisions), one coloured polyline with markers per series, and a legend.

export interface Series {
  name: string;
  /** [x, y] points; x is an index into `categories` when the chart has them. Non-finite y values are left out. */
  points: [number, number][];
  /** Draw dashed (e.g. peers). */
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Log scale, base 2 for x (batch sizes) and base 10 for y. */
  xLog?: boolean;
  yLog?: boolean;
  /** Categorical x axis: labels for x = 0, 1, ... */
  categories?: string[];
  /** Fixed y range (e.g. [0, 1] for agreement); default: from the data. */
  yRange?: [number, number];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22', '#393b79', '#ad494a', '#637939', '#de9ed6'];

/** Escape text for XML character data and attribute values. @example xmlEscape('a<b') // 'a&lt;b' */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A short label for a tick value. */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  if (a >= 1000) return `${+(v / 1000).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

/** About `n` round linear ticks covering [lo, hi]. */
function linearTicks(lo: number, hi: number, n = 5): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Powers of `base` covering [lo, hi] (both > 0); thinned to at most ~8 ticks. */
function logTicks(lo: number, hi: number, base: number): number[] {
  const e0 = Math.floor(Math.log(lo) / Math.log(base) + 1e-9), e1 = Math.ceil(Math.log(hi) / Math.log(base) - 1e-9);
  const every = Math.max(1, Math.ceil((e1 - e0 + 1) / 8));
  const out: number[] = [];
  for (let e = e0; e <= e1; e += every) out.push(base ** e);
  return out;
}

/**
 * Render a line chart as a standalone SVG document.
 *
 * @example writeFileSync('latency.svg', lineChart({ title: 'p50', xLabel: 'batch', yLabel: 'ms', xLog: true, series: [{ name: 'f32', points: [[1, 0.1], [8, 0.3]] }] }));
 */
export function lineChart(spec: ChartSpec): string {
  // the legend column grows with the longest series name (about 6.5 px a character at 11 px), the plot keeps its width
  const legend = Math.max(170, 48 + Math.ceil(6.5 * Math.max(0, ...spec.series.map((s) => s.name.length))));
  const W = (spec.width ?? 640) + legend - 170, H = spec.height ?? 400;
  const m = { left: 70, right: legend, top: 40, bottom: 55 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const pts = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0));
  const xs = pts.map(([x]) => x), ys = pts.map(([, y]) => y);
  let [x0, x1] = spec.categories ? [-0.5, spec.categories.length - 0.5] : xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = spec.yRange ?? (ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1]);
  if (!spec.yLog && !spec.yRange) y0 = Math.min(0, y0);
  if (x0 === x1) [x0, x1] = spec.xLog ? [x0 / 2, x1 * 2] : [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = spec.yLog ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];
  const xt = spec.categories ? spec.categories.map((_, i) => i) : spec.xLog ? logTicks(x0, x1, 2) : linearTicks(x0, x1);
  const yt = spec.yLog ? logTicks(y0, y1, 10) : linearTicks(y0, y1);
  if (spec.yLog) [y0, y1] = [Math.min(y0, yt[0]!), Math.max(y1, yt[yt.length - 1]!)];
  const fx = (x: number) => { const t = spec.xLog ? Math.log(x / x0) / Math.log(x1 / x0) : (x - x0) / (x1 - x0); return m.left + t * pw; };
  const fy = (y: number) => { const t = spec.yLog ? Math.log(y / y0) / Math.log(y1 / y0) : (y - y0) / (y1 - y0); return m.top + (1 - t) * ph; };
  const r = (v: number) => v.toFixed(1);
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text class="title" x="${W / 2}" y="20" text-anchor="middle" font-size="14">${xmlEscape(spec.title)}</text>`,
    `<g class="grid" stroke="#e5e5e5">`,
    ...yt.map((v) => `<line x1="${m.left}" y1="${r(fy(v))}" x2="${m.left + pw}" y2="${r(fy(v))}"/>`),
    `</g>`,
    `<g class="axis x-axis">`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="black"/>`,
    ...xt.map((v) => `<line x1="${r(fx(v))}" y1="${m.top + ph}" x2="${r(fx(v))}" y2="${m.top + ph + 5}" stroke="black"/><text x="${r(fx(v))}" y="${m.top + ph + 18}" text-anchor="middle">${xmlEscape(spec.categories ? spec.categories[v]! : tickLabel(v))}</text>`),
    `<text class="label" x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${xmlEscape(spec.xLabel)}</text>`,
    `</g>`,
    `<g class="axis y-axis">`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="black"/>`,
    ...yt.map((v) => `<line x1="${m.left - 5}" y1="${r(fy(v))}" x2="${m.left}" y2="${r(fy(v))}" stroke="black"/><text x="${m.left - 8}" y="${r(fy(v) + 4)}" text-anchor="end">${xmlEscape(tickLabel(v))}</text>`),
    `<text class="label" transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${xmlEscape(spec.yLabel)}</text>`,
    `</g>`,
  ];
  spec.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0)).sort((a, b) => a[0] - b[0]);
    const coords = p.map(([x, y]) => `${r(fx(x))},${r(fy(y))}`);
    out.push(`<g class="series" data-name="${xmlEscape(s.name)}" stroke="${color}" fill="${color}">`);
    if (coords.length > 1) out.push(`<polyline points="${coords.join(' ')}" fill="none" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    for (const c of coords) { const [cx, cy] = c.split(','); out.push(`<circle cx="${cx}" cy="${cy}" r="3"/>`); }
    const ly = m.top + 8 + i * 16;
    out.push(`<line x1="${m.left + pw + 12}" y1="${ly}" x2="${m.left + pw + 32}" y2="${ly}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/><text x="${m.left + pw + 38}" y="${ly + 4}" stroke="none" fill="black">${xmlEscape(s.name)}</text>`);
    out.push(`</g>`);
  });
  out.push(`</svg>`);
  return `${out.join('\n')}\n`;
}
