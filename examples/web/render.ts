// Canvas pictures of the step-through page: activations as heatmaps (2-D slices of 3-D/4-D tensors, channels or
// heads as a grid of tiles), histograms of an op's output, and attention maps with the tokens along both axes.

type RGB = [number, number, number];

const SEQ: RGB[] = [[255, 255, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107], [0, 0, 0]];

function lerp(stops: RGB[], t: number): RGB {
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!, b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Colour of `v`: blue (negative) - white (0) - red (positive) when the range holds negatives, else white -> blue -> black. */
export function colorOf(v: number, lo: number, hi: number): RGB {
  if (!Number.isFinite(v)) return [255, 0, 255];
  if (lo < 0) {
    const m = Math.max(-lo, hi, 1e-12);
    const t = v / m;
    return t < 0 ? [255 + 222 * t, 255 + 155 * t, 255 + 30 * t] : [255 - 30 * t, 255 - 190 * t, 255 - 200 * t];
  }
  return lerp(SEQ, hi > lo ? (v - lo) / (hi - lo) : 0);
}

/** How a tensor is cut into 2-D tiles: `shown` tiles of rows x cols, the first values in row-major order. */
export interface TileLayout {
  rows: number;
  cols: number;
  /** Tiles drawn (at most 64). */
  shown: number;
  note: string;
  /** The finite range the colours span (set by drawHeatmap). */
  lo?: number;
  hi?: number;
}

/**
 * Tiles for a shape: rank >= 4 takes batch 0 and shows the next dims as tiles (channels, heads); [A, R, C] gives A
 * tiles; [R, C] one; leading 1s are dropped; a vector (or [1, N]) wraps into a near-square block.
 */
export function layoutOf(shape: readonly number[]): TileLayout {
  const s = [...shape];
  let batch = '';
  if (s.length >= 4) { if (s[0]! > 1) batch = `, batch 0 of ${s[0]}`; s.shift(); }
  while (s.length > 1 && s[0] === 1) s.shift();
  if (s.length <= 1) {
    const len = s[0] ?? 1;
    const cols = len <= 32 ? len : Math.ceil(Math.sqrt(len));
    return { rows: Math.ceil(len / cols), cols, shown: 1, note: len > 32 ? `${len} values in rows of ${cols}` : `${len} values` };
  }
  const rows = s[s.length - 2]!, cols = s[s.length - 1]!;
  const per = s.slice(0, -2).reduce((a, b) => a * b, 1);
  const shown = Math.min(64, per);
  const what = per === 1 ? `${rows} x ${cols}` : `${per} tiles of ${rows} x ${cols}${shown < per ? ` (first ${shown})` : ''}`;
  return { rows, cols, shown, note: what + batch };
}

/** Draw `values` of `shape` as heatmap tiles on `canvas`; returns what was drawn. */
export function drawHeatmap(canvas: HTMLCanvasElement, values: Float32Array, shape: readonly number[], maxWidth = 640): TileLayout {
  const L = layoutOf(shape);
  const gridCols = Math.ceil(Math.sqrt(L.shown));
  const gridRows = Math.ceil(L.shown / gridCols);
  const gap = L.shown > 1 ? 2 : 0;
  const cell = Math.max(1, Math.min(24, Math.floor((maxWidth - gap * gridCols) / (gridCols * L.cols)), Math.floor(420 / (gridRows * L.rows))));
  const tw = L.cols * cell, th = L.rows * cell;
  canvas.width = Math.max(1, gridCols * (tw + gap) - gap);
  canvas.height = Math.max(1, gridRows * (th + gap) - gap);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#ddd';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  let lo = Infinity, hi = -Infinity;
  const used = L.shown * L.rows * L.cols;
  for (let i = 0; i < Math.min(used, values.length); i++) { const v = values[i]!; if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
  const img = ctx.createImageData(canvas.width, canvas.height);
  img.data.fill(221);
  for (let t = 0; t < L.shown; t++) {
    const ox = (t % gridCols) * (tw + gap), oy = Math.floor(t / gridCols) * (th + gap);
    for (let r = 0; r < L.rows; r++) for (let c = 0; c < L.cols; c++) {
      const k = t * L.rows * L.cols + r * L.cols + c;
      if (k >= values.length) continue;
      const [R, G, B] = colorOf(values[k]!, lo, hi);
      for (let y = 0; y < cell; y++) for (let x = 0; x < cell; x++) {
        const p = ((oy + r * cell + y) * canvas.width + ox + c * cell + x) * 4;
        img.data[p] = R; img.data[p + 1] = G; img.data[p + 2] = B; img.data[p + 3] = 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  return { ...L, lo, hi };
}

/**
 * The colour scale of a heatmap drawn over [lo, hi] as a horizontal bar on `canvas`, with the values of its ends
 * (and of 0 where the range crosses it) written under it; returns the labels written.
 */
export function drawLegend(canvas: HTMLCanvasElement, lo: number, hi: number): string[] {
  const ctx = canvas.getContext('2d')!;
  const w = canvas.width, bar = 12;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, canvas.height);
  const ok = Number.isFinite(lo) && Number.isFinite(hi);
  for (let x = 0; x < w; x++) {
    const [R, G, B] = ok ? colorOf(lo + ((hi - lo) * x) / Math.max(1, w - 1), lo, hi) : [221, 221, 221];
    ctx.fillStyle = `rgb(${R | 0},${G | 0},${B | 0})`;
    ctx.fillRect(x, 0, 1, bar);
  }
  ctx.strokeStyle = '#999';
  ctx.strokeRect(0.5, 0.5, w - 1, bar - 1);
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  ctx.textBaseline = 'top';
  const labels = ok ? [fmt(lo), fmt(hi)] : ['no finite values'];
  ctx.textAlign = 'left';
  ctx.fillText(labels[0]!, 0, bar + 2);
  if (ok) {
    ctx.textAlign = 'right';
    ctx.fillText(labels[1]!, w, bar + 2);
    if (lo < 0 && hi > 0) {
      const x0 = ((0 - lo) / (hi - lo)) * (w - 1);
      ctx.fillRect(x0, bar, 1, 3);
      ctx.textAlign = 'center';
      if (x0 > 30 && x0 < w - 30) { ctx.fillText('0', x0, bar + 2); labels.splice(1, 0, '0'); }
    }
  }
  return labels;
}

/** The smallest step performance.now() takes here (ms): browsers coarsen it, to 0.1 ms unless cross-origin isolated. */
export function timerResolution(): number {
  let best = Infinity;
  let last = performance.now();
  for (let i = 0; i < 20000 && best > 0.001; i++) {
    const t = performance.now();
    if (t > last) { best = Math.min(best, t - last); last = t; }
  }
  return Number.isFinite(best) ? best : 0.1;
}

/**
 * A time in ms with 2 or 3 significant digits ('0.045', '2.40', '13.0'; the third only where the timer resolution
 * `res` allows it); a time below the resolution reads '<' and the resolution ('<0.0050').
 */
export function fmtMs(ms: number, res = 0): string {
  if (!(ms > 0) || ms < res) return `<${Math.max(res, 0.001).toPrecision(2)}`;
  if (ms >= 1000) return ms.toFixed(0);
  // 2 significant digits, a third where the timer resolves it
  return ms.toPrecision(res > 0 && ms / res < 100 ? 2 : 3);
}

/** A histogram from trace statistics (counts over [lo, hi]) with its range written below. */
export function drawHistogram(canvas: HTMLCanvasElement, hist: { lo: number; hi: number; counts: number[] }): void {
  const ctx = canvas.getContext('2d')!;
  const w = canvas.width, h = canvas.height, base = h - 16;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const max = Math.max(1, ...hist.counts);
  const bw = w / Math.max(1, hist.counts.length);
  ctx.fillStyle = '#2171b5';
  hist.counts.forEach((c, i) => {
    const bh = (c / max) * (base - 4);
    ctx.fillRect(i * bw + 1, base - bh, Math.max(1, bw - 2), bh);
  });
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  ctx.textBaseline = 'bottom';
  ctx.textAlign = 'left';
  ctx.fillText(fmt(hist.lo), 2, h);
  ctx.textAlign = 'right';
  ctx.fillText(fmt(hist.hi), w - 2, h);
}

/** Attention probabilities [B, H, T, S] (batch 0): one map per head, queries down, keys across, tokens as labels. */
export function drawAttention(canvas: HTMLCanvasElement, values: Float32Array, shape: readonly number[], tokens: readonly string[]): void {
  const [, heads = 1, t = 1, s = 1] = shape.length === 4 ? shape : [1, 1, ...shape.slice(-2)];
  const cell = Math.max(4, Math.min(22, Math.floor(300 / Math.max(t, s))));
  const label = tokens.length === s && cell >= 9 ? 14 : 0;
  const tw = s * cell + label, th = t * cell + label, gap = 14;
  const cols = Math.min(heads, 4);
  canvas.width = cols * (tw + gap);
  canvas.height = Math.ceil(heads / cols) * (th + gap + 14);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${Math.min(12, cell)}px monospace`;
  for (let hd = 0; hd < heads; hd++) {
    const ox = (hd % cols) * (tw + gap), oy = Math.floor(hd / cols) * (th + gap + 14) + 14;
    ctx.fillStyle = '#333';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`head ${hd}`, ox, oy - 2);
    for (let i = 0; i < t; i++) for (let j = 0; j < s; j++) {
      const [R, G, B] = colorOf(values[(hd * t + i) * s + j] ?? 0, 0, 1);
      ctx.fillStyle = `rgb(${R | 0},${G | 0},${B | 0})`;
      ctx.fillRect(ox + label + j * cell, oy + label + i * cell, cell - 1, cell - 1);
    }
    if (label) {
      ctx.fillStyle = '#333';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      tokens.forEach((tk, j) => {
        ctx.fillText(tk, ox + label + j * cell + cell / 2, oy + label / 2);
        if (j < t) ctx.fillText(tk, ox + label / 2, oy + label + j * cell + cell / 2);
      });
    }
  }
}

/** A short number: 4 significant digits, exponent outside [1e-3, 1e5). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** A character as a visible label ('␣' for space, '⏎' for a newline). */
export function showChar(ch: string): string {
  return ch === ' ' ? '␣' : ch === '\n' ? '⏎' : ch === '\f' ? '␌' : ch;
}
