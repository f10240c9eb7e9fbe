// Typed-array reference kernels of the ONNX spatial ops that forwardpass has no tensor op for (N-D pooling with
// dilations and indices, N-D convolution by im2col, transposed convolution and Col2Im as one scatter, grid sampling,
// deformable convolution).
// Plain loops over flat row-major arrays, float32 arithmetic, no backend: the op files (conv.ts, spatial.ts) read
// their inputs with dataSync and wrap what these return. NaN propagates (a max over a window holding NaN is NaN).

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

const prodOf = (v: readonly number[]) => v.reduce((a, b) => a * b, 1);

/** Calls f with every multi-index of `shape` in row-major order (the array is reused between calls). */
export function eachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const n = prodOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
}

/** A sliding window over the spatial axes: per axis kernel size, stride, dilation and [begin, end] padding. */
export interface SpatialWindow {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: [number, number][];
}

/** Output length of one pooled axis (ceil mode drops a last window that would start in the end padding). */
export function pooledLen(n: number, k: number, s: number, d: number, before: number, after: number, ceil: boolean): number {
  const span = n + before + after - ((k - 1) * d + 1);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + before) out--;
  return Math.max(out, 0);
}

export type PoolKind = 'max' | 'avg' | 'lp';

export interface PoolOptions {
  ceil: boolean;
  /** AveragePool: divide by the window's size inside the padded input rather than by its in-bounds count. */
  countIncludePad: boolean;
  /** LpPool's exponent. */
  p: number;
  /** MaxPool's Indices in column-major order over the spatial axes (storage_order 1). */
  columnMajor: boolean;
  /** Value of a max window that lies wholly in the padding (onnxruntime: the lowest finite value). */
  emptyMax: number;
}

/**
 * Max/average/Lp pooling of x [N, C, ...spatial] over any number of spatial axes. Returns y, its shape and, for
 * max, the flat index (over the whole input, as ONNX MaxPool's Indices) of each maximum (the first one).
 */
export function poolNd(x: ArrayLike<number>, shape: readonly number[], w: SpatialWindow, kind: PoolKind, o: PoolOptions): { y: Float32Array; shape: number[]; indices: Int32Array } {
  const sp = shape.slice(2);
  const outSp = sp.map((n, a) => pooledLen(n, w.kernel[a]!, w.strides[a]!, w.dilations[a]!, w.pads[a]![0], w.pads[a]![1], o.ceil));
  // per axis and output position: the in-bounds input coordinates of the window and its size within the padding
  const taps = sp.map((n, a) => Array.from({ length: outSp[a]! }, (_, q) => {
    const inside: number[] = [];
    let padded = 0;
    for (let k = 0; k < w.kernel[a]!; k++) {
      const at = q * w.strides[a]! - w.pads[a]![0] + k * w.dilations[a]!;
      if (at >= -w.pads[a]![0] && at < n + w.pads[a]![1]) padded++;
      if (at >= 0 && at < n) inside.push(at);
    }
    return { inside, padded };
  }));
  const inStr = stridesOf(sp);
  const colStr = sp.map((_, a) => prodOf(sp.slice(0, a)));
  const planeIn = prodOf(sp), planeOut = prodOf(outSp), planes = shape[0]! * shape[1]!;
  const y = new Float32Array(planes * planeOut);
  const indices = new Int32Array(kind === 'max' ? planes * planeOut : 0);
  eachIndex(outSp, (q, flat) => {
    // the window's flat offsets in a plane (row-major, and column-major for Indices)
    let offs = [0], cols = [0], count = 1, padded = 1;
    q.forEach((qa, a) => {
      const t = taps[a]![qa]!;
      offs = offs.flatMap((b) => t.inside.map((v) => b + v * inStr[a]!));
      if (o.columnMajor) cols = cols.flatMap((b) => t.inside.map((v) => b + v * colStr[a]!));
      count *= t.inside.length;
      padded *= t.padded;
    });
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * planeIn;
      let acc = kind === 'max' ? -Infinity : 0, arg = -1;
      for (let j = 0; j < offs.length; j++) {
        const v = x[base + offs[j]!]!;
        if (kind === 'max') {
          if (v > acc || (Number.isNaN(v) && !Number.isNaN(acc))) { acc = v; arg = j; }
        } else acc += kind === 'lp' ? Math.abs(v) ** o.p : v;
      }
      const at = pl * planeOut + flat;
      if (kind === 'max') {
        y[at] = arg < 0 ? o.emptyMax : acc;
        indices[at] = arg < 0 ? 0 : base + (o.columnMajor ? cols[arg]! : offs[arg]!);
      } else if (kind === 'lp') y[at] = acc ** (1 / o.p);
      else y[at] = acc / (o.countIncludePad ? padded : count);
    }
  });
  return { y, shape: [shape[0]!, shape[1]!, ...outSp], indices };
}

/**
 * For every (input position, kernel position) pair of a transposed sliding window, the flat output offset it adds
 * to, or -1 when it falls outside the output: output coordinate = in·stride + k·dilation - padBefore per axis.
 * Shared by ConvTranspose and Col2Im (both scatter-add input columns into an image) and, with input and output
 * swapped, by im2colIndex (the input offset an output position's tap gathers).
 */
export function scatterMap(inSp: readonly number[], kernel: readonly number[], outSp: readonly number[], strides: readonly number[], dilations: readonly number[], padBefore: readonly number[]): Int32Array {
  const K = prodOf(kernel);
  const map = new Int32Array(prodOf(inSp) * K);
  const outStr = stridesOf(outSp);
  eachIndex(inSp, (i, iFlat) => {
    eachIndex(kernel, (k, kFlat) => {
      let off = 0;
      for (let a = 0; a < i.length; a++) {
        const at = i[a]! * strides[a]! + k[a]! * dilations[a]! - padBefore[a]!;
        if (at < 0 || at >= outSp[a]!) { off = -1; break; }
        off += at * outStr[a]!;
      }
      map[iFlat * K + kFlat] = off;
    });
  });
  return map;
}

/**
 * Transposed convolution: x [N, C, ...in], w [C, M/group, ...kernel], optional bias [M] -> y [N, M, ...out].
 * Each input value is scattered through the kernel into the output (the adjoint of a convolution's gather).
 */
export function convTransposeNd(x: ArrayLike<number>, xShape: readonly number[], w: ArrayLike<number>, wShape: readonly number[], bias: ArrayLike<number> | undefined, group: number, outSp: readonly number[], strides: readonly number[], dilations: readonly number[], padBefore: readonly number[]): Float32Array {
  const [N, C] = xShape as [number, number];
  const inSp = xShape.slice(2), kernel = wShape.slice(2);
  const Mg = wShape[1]!, M = Mg * group, Cg = C / group;
  const K = prodOf(kernel), inN = prodOf(inSp), outN = prodOf(outSp);
  const map = scatterMap(inSp, kernel, outSp, strides, dilations, padBefore);
  const y = new Float32Array(N * M * outN);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) y.fill(bias ? bias[m]! : 0, (n * M + m) * outN, (n * M + m + 1) * outN);
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let m = 0; m < Mg; m++) {
        const wBase = (c * Mg + m) * K, yBase = (n * M + g * Mg + m) * outN, xBase = (n * C + c) * inN;
        for (let i = 0; i < inN; i++) {
          const xv = x[xBase + i]!;
          for (let k = 0; k < K; k++) {
            const o = map[i * K + k]!;
            if (o >= 0) y[yBase + o] += xv * w[wBase + k]!;
          }
        }
      }
    }
  }
  return y;
}

/** The cubic convolution kernel (Keys, coefficient a) at distance d. */
export function cubicWeight(d: number, a: number): number {
  const x = Math.abs(d);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/** Cubic convolution weights of the 4 taps around a point at fraction `t` past the second tap (coefficient a). */
export function cubicCoeffs(t: number, a: number): [number, number, number, number] {
  return [cubicWeight(t + 1, a), cubicWeight(t, a), cubicWeight(1 - t, a), cubicWeight(2 - t, a)];
}

export type GridMode = 'nearest' | 'linear' | 'cubic';
export type GridPadding = 'zeros' | 'border' | 'reflection';

/** Reflect x back into [lo, hi] by its nearer border, as many times as it takes. */
function reflect(x: number, lo: number, hi: number): number {
  const range = hi - lo;
  if (range <= 0) return lo;
  if (x >= lo && x <= hi) return x;
  const dx = x < lo ? lo - x : x - hi;
  const n = Math.floor(dx / range), r = dx - n * range;
  if (x < lo) return n % 2 === 0 ? lo + r : hi - r;
  return n % 2 === 0 ? hi - r : lo + r;
}

/** Round half to even (numpy rint, C nearbyint). */
function rint(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * GridSample over any number of spatial axes: x [N, C, ...in], grid [N, ...out, S] with S = number of spatial axes
 * in ONNX order (grid[..., 0] is the innermost axis: x for width), values in [-1, 1] -> y [N, C, ...out].
 */
export function gridSampleNd(x: ArrayLike<number>, xShape: readonly number[], grid: ArrayLike<number>, gShape: readonly number[], mode: GridMode, padding: GridPadding, alignCorners: boolean): { y: Float32Array; shape: number[] } {
  const [N, C] = xShape as [number, number];
  const inSp = xShape.slice(2), S = inSp.length;
  const outSp = gShape.slice(1, -1), outN = prodOf(outSp), inN = prodOf(inSp);
  const inStr = stridesOf(inSp);
  const y = new Float32Array(N * C * outN);
  const lo = inSp.map(() => (alignCorners ? 0 : -0.5));
  const hi = inSp.map((n) => (alignCorners ? n - 1 : n - 0.5));
  // one axis: the pixel coordinate an integer tap reads (-1: a zero), per padding mode
  const pixel = (a: number, i: number): number => {
    const n = inSp[a]!;
    if (padding === 'zeros') return i >= 0 && i < n ? i : -1;
    if (padding === 'border') return Math.min(Math.max(i, 0), n - 1);
    return Math.min(Math.max(Math.trunc(reflect(i, lo[a]!, hi[a]!)), 0), n - 1);
  };
  for (let n = 0; n < N; n++) {
    for (let q = 0; q < outN; q++) {
      // per axis: taps (pixel coordinate, weight)
      const taps: { at: number; w: number }[][] = [];
      for (let a = 0; a < S; a++) {
        const g = grid[(n * outN + q) * S + (S - 1 - a)]!;
        const len = inSp[a]!;
        let v = alignCorners ? ((g + 1) / 2) * (len - 1) : ((g + 1) * len - 1) / 2;
        if (mode === 'nearest') v = rint(v);
        // linear and nearest move an outside coordinate back in; cubic keeps it and pads the pixels it reads
        if (mode !== 'cubic' && (v < lo[a]! || v > hi[a]!)) {
          if (padding === 'border') v = Math.min(Math.max(v, 0), len - 1);
          else if (padding === 'reflection') v = reflect(v, lo[a]!, hi[a]!);
        }
        if (mode === 'nearest') taps.push([{ at: pixel(a, v), w: 1 }]);
        else if (mode === 'linear') {
          const f = Math.floor(v), t = v - f;
          taps.push([{ at: pixel(a, f), w: 1 - t }, { at: pixel(a, f + 1), w: t }]);
        } else {
          const f = Math.floor(v);
          taps.push(cubicCoeffs(v - f, -0.75).map((w, k) => ({ at: pixel(a, f - 1 + k), w })));
        }
        if (Number.isNaN(v)) taps[a] = [{ at: -2, w: NaN }];
      }
      // the cartesian product of the taps: flat offsets and weights (a tap reading a zero drops out)
      let offs = [0], ws = [1];
      taps.forEach((t, a) => {
        const no: number[] = [], nw: number[] = [];
        offs.forEach((b, j) => t.forEach((tp) => { no.push(tp.at < 0 ? -1 : b < 0 ? -1 : b + tp.at * inStr[a]!); nw.push(ws[j]! * tp.w); }));
        offs = no;
        ws = nw;
      });
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * inN;
        let acc = 0;
        for (let j = 0; j < offs.length; j++) acc += offs[j]! < 0 ? (Number.isNaN(ws[j]!) ? NaN : 0) : x[base + offs[j]!]! * ws[j]!;
        y[(n * C + c) * outN + q] = acc;
      }
    }
  }
  return { y, shape: [N, C, ...outSp] };
}

/** Bilinear sample of one plane at (h, w); zero outside (as torchvision's deform_conv2d). */
function bilinearZero(x: ArrayLike<number>, base: number, H: number, W: number, h: number, w: number): number {
  if (!(h > -1 && w > -1 && h < H && w < W)) return Number.isNaN(h) || Number.isNaN(w) ? NaN : 0;
  const h0 = Math.floor(h), w0 = Math.floor(w);
  const th = h - h0, tw = w - w0;
  const at = (r: number, c: number) => (r >= 0 && r < H && c >= 0 && c < W ? x[base + r * W + c]! : 0);
  return (1 - th) * ((1 - tw) * at(h0, w0) + tw * at(h0, w0 + 1)) + th * ((1 - tw) * at(h0 + 1, w0) + tw * at(h0 + 1, w0 + 1));
}

/**
 * 2-D deformable convolution: x [N, C, H, W], w [M, C/group, kH, kW], offset [N, offsetGroups·kH·kW·2, Ho, Wo]
 * (per tap: dy then dx), optional mask [N, offsetGroups·kH·kW, Ho, Wo] and bias [M] -> y [N, M, Ho, Wo].
 */
export function deformConv2d(x: ArrayLike<number>, xShape: readonly number[], w: ArrayLike<number>, wShape: readonly number[], offset: ArrayLike<number>, mask: ArrayLike<number> | undefined, bias: ArrayLike<number> | undefined, win: SpatialWindow, group: number, offsetGroups: number, outSp: readonly [number, number]): Float32Array {
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [M, Cg, kH, kW] = wShape as [number, number, number, number];
  const [Ho, Wo] = outSp;
  const K = kH * kW, Mg = M / group, Co = C / offsetGroups, P = Ho * Wo;
  const y = new Float32Array(N * M * P);
  const cols = new Float32Array(Cg * K * P); // the sampled input columns of one group
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      for (let cg = 0; cg < Cg; cg++) {
        const c = g * Cg + cg, og = Math.floor(c / Co), base = (n * C + c) * H * W;
        for (let k = 0; k < K; k++) {
          const kh = Math.floor(k / kW), kw = k % kW;
          const offBase = ((n * offsetGroups + og) * K + k) * 2 * P, maskBase = ((n * offsetGroups + og) * K + k) * P;
          for (let p = 0; p < P; p++) {
            const oh = Math.floor(p / Wo), ow = p % Wo;
            const h = oh * win.strides[0]! - win.pads[0]![0] + kh * win.dilations[0]! + offset[offBase + p]!;
            const wv = ow * win.strides[1]! - win.pads[1]![0] + kw * win.dilations[1]! + offset[offBase + P + p]!;
            cols[(cg * K + k) * P + p] = bilinearZero(x, base, H, W, h, wv) * (mask ? mask[maskBase + p]! : 1);
          }
        }
      }
      groupProduct(y, w, cols, bias, n, g, M, Mg, Cg * K, P);
    }
  }
  return y;
}

/**
 * One group's share of a convolution from its im2col columns: y[n, g·Mg + m, p] = bias + Σ_j w[g·Mg + m, j]·cols[j, p]
 * for m < Mg, with w [M, J] (J = C/group·prod(kernel)) and cols [J, P] (P output positions).
 */
function groupProduct(y: Float32Array, w: ArrayLike<number>, cols: Float32Array, bias: ArrayLike<number> | undefined, n: number, g: number, M: number, Mg: number, J: number, P: number): void {
  for (let m = 0; m < Mg; m++) {
    const oc = g * Mg + m, yBase = (n * M + oc) * P;
    y.fill(bias ? bias[oc]! : 0, yBase, yBase + P);
    for (let j = 0; j < J; j++) {
      const wv = w[oc * J + j]!;
      for (let p = 0; p < P; p++) y[yBase + p] += wv * cols[j * P + p]!;
    }
  }
}

/**
 * The im2col gather of a convolution over `inSp`: the output spatial sizes and, for kernel tap k and output
 * position p, index[k·P + p] = the flat input offset the tap reads, or prod(inSp) (one past the plane: a zero)
 * where it falls in the padding. Shared by convNd and the composed Conv path (conv.ts), which gathers with it.
 */
export function im2colIndex(inSp: readonly number[], kernel: readonly number[], win: SpatialWindow): { index: Int32Array; outSp: number[] } {
  const outSp = inSp.map((n, a) => pooledLen(n, kernel[a]!, win.strides[a]!, win.dilations[a]!, win.pads[a]![0], win.pads[a]![1], false));
  const K = prodOf(kernel), P = prodOf(outSp), inN = prodOf(inSp);
  // the scatter map with input and output swapped: the input offset each (output position, kernel tap) reads
  const map = scatterMap(outSp, kernel, inSp, win.strides, win.dilations, win.pads.map((p) => p[0]));
  const index = new Int32Array(K * P);
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < K; k++) {
      const o = map[p * K + k]!;
      index[k * P + p] = o < 0 ? inN : o;
    }
  }
  return { index, outSp };
}

/**
 * Convolution over any number of spatial axes: x [N, C, ...in], w [M, C/group, ...kernel], optional bias [M] ->
 * y [N, M, ...out]. Per image and group the input is gathered into im2col columns [C/group·prod(kernel), P] (a tap
 * in the padding reads 0) and multiplied by the group's weight rows. NaN in x reaches every output whose window
 * reads it. The reference of the composed Conv path (gather + matmul, conv.ts).
 */
export function convNd(x: ArrayLike<number>, xShape: readonly number[], w: ArrayLike<number>, wShape: readonly number[], bias: ArrayLike<number> | undefined, group: number, win: SpatialWindow): { y: Float32Array; shape: number[] } {
  const [N, C] = xShape as [number, number];
  const [M, Cg] = wShape as [number, number];
  const inSp = xShape.slice(2), kernel = wShape.slice(2);
  const { index, outSp } = im2colIndex(inSp, kernel, win);
  const K = prodOf(kernel), P = prodOf(outSp), inN = prodOf(inSp), Mg = M / group;
  const y = new Float32Array(N * M * P);
  const cols = new Float32Array(Cg * K * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      for (let cg = 0; cg < Cg; cg++) {
        const xBase = (n * C + g * Cg + cg) * inN;
        for (let k = 0; k < K; k++) {
          const row = (cg * K + k) * P;
          for (let p = 0; p < P; p++) {
            const o = index[k * P + p]!;
            cols[row + p] = o === inN ? 0 : x[xBase + o]!;
          }
        }
      }
      groupProduct(y, w, cols, bias, n, g, M, Mg, Cg * K, P);
    }
  }
  return { y, shape: [N, M, ...outSp] };
}
