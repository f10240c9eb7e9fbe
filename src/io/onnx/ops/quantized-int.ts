// Exact int32 accumulators for the quantized ONNX products (MatMulInteger, QLinearMatMul, ConvInteger,
// QLinearConv) on the int8 path: uint8 operands are shifted to int8 (u - 128), the int8 x int8 sums run in
// linearInt8 / conv2dInt8 (int32 accumulation, scales 1), and zero points enter through correction terms:
//   Σ (a - za)(b - zb) = Σ a·b - zb·Σ a - za·Σ b + K·za·zb      (a, b, za, zb after the shift)
// so asymmetric zero points (per tensor, per row or per column) stay exact. The int8 kernels return float32,
// exact below 2^24, so inner sizes over 1024 are split into chunks summed in int32.
// Legend: M rows, K inner size, N columns; convolution: N images, C channels, O outputs, G groups.
import type { Tensor } from '../../../tensor/tensor.js';
import { numel, shapeStr } from '../../../tensor/shape.js';
import { fromData } from '../../../tensor/creation.js';
import { getBackend } from '../../../tensor/device.js';
import { add, cast, clamp, mul, round, sub } from '../../../ops/elementwise.js';
import { sum } from '../../../ops/reduce.js';
import { concat, pad } from '../../../ops/transform.js';
import { conv2dInt8, linearInt8, paddedK } from '../../../ops/quant.js';

/** Largest inner size whose int8 x int8 sums (|a·b| <= 2^14) stay exact in the kernels' float32 output. */
export const EXACT_K = 1024;

const ones = (shape: number[], device: string) => fromData(new Float32Array(numel(shape)).fill(1), shape, 'float32', getBackend(device));
const int32s = (values: number[], shape: number[], device: string) => fromData(Int32Array.from(values), shape, 'int32', getBackend(device));

/** The shift that maps a quantized type onto int8: 128 for uint8, 0 for int8. */
export const shiftOf = (t: Tensor): number => (t.dtype === 'uint8' ? 128 : 0);

/** uint8 -> int8 (u - 128); int8 stays as is (the same tensor). */
export function toInt8(t: Tensor): Tensor {
  if (t.dtype === 'int8') return t;
  const w = cast(t, 'int32');
  const s = sub(w, 128);
  const q = cast(s, 'int8');
  w.dispose();
  s.dispose();
  return q;
}

/** int8 rows [R, K] -> [R, paddedK(K)] (zero padded), contiguous. */
function padRows(x: Tensor): Tensor {
  const K = x.shape[1]!;
  const Kp = paddedK(K, 0);
  return Kp === K ? x.contiguous() : pad(x, [0, Kp - K]);
}

/** A constant right-hand side of a quantized matmul, prepared once: int8 chunks of Bᵀ and Σ_k b per column. */
export interface MatmulRhs {
  /** [N, Kp] int8 chunks of Bᵀ (after the shift), each over at most EXACT_K of the K values. */
  chunks: Tensor[];
  /** Σ_k b per column, int32 [1, N]. */
  colSum: Tensor;
  K: number;
  N: number;
  shift: number;
  dispose(): void;
}

/** Prepare a 2-D B [K, N] (uint8 or int8) for `matmulAcc`. */
export function prepareRhs(b: Tensor): MatmulRhs {
  const [K, N] = b.shape as [number, number];
  const b8 = toInt8(b);
  const bt = b8.transpose(0, 1);
  const chunks: Tensor[] = [];
  for (let k0 = 0; k0 < K; k0 += EXACT_K) {
    const part = bt.narrow(1, k0, Math.min(EXACT_K, K - k0));
    chunks.push(padRows(part));
    part.dispose();
  }
  const colSum = sum(b8, { axis: 0, keepdim: true });
  bt.dispose();
  if (b8 !== b) b8.dispose();
  return { chunks, colSum, K, N, shift: shiftOf(b), dispose: () => [...chunks, colSum].forEach((t) => t.dispose()) };
}

/** Move a prepared right-hand side to a device. */
export async function rhsTo(r: MatmulRhs, device: string): Promise<MatmulRhs> {
  const chunks = await Promise.all(r.chunks.map((t) => t.to(device)));
  const colSum = await r.colSum.to(device);
  r.dispose();
  return { ...r, chunks, colSum, dispose: () => [...chunks, colSum].forEach((t) => t.dispose()) };
}

/**
 * Exact int32 Σ_k (a[m, k] - za[m]) · (b[k, n] - zb[n]) for a [M, K] (uint8/int8) and a prepared B.
 * za: one value or one per row (M); zb: one value or one per column (N); both in the operands' own types.
 */
export function matmulAcc(a: Tensor, za: number[], rhs: MatmulRhs, zb: number[], device: string): Tensor {
  const [M, K] = a.shape as [number, number];
  if (K !== rhs.K) throw new Error(`forwardpass: onnx: quantized matmul: A ${shapeStr(a.shape)} and B [${rhs.K}, ${rhs.N}] must share the inner size`);
  const temps: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (temps.push(t), t);
  try {
    const a8 = toInt8(a);
    if (a8 !== a) temps.push(a8);
    const xs = keep(ones([M, 1], device));
    const ws = keep(ones([rhs.N, 1], device));
    let out: Tensor | undefined;
    rhs.chunks.forEach((wq, i) => {
      const k0 = i * EXACT_K;
      const part = keep(a8.narrow(1, k0, Math.min(EXACT_K, K - k0)));
      const y = keep(linearInt8(keep(padRows(part)), xs, wq, ws, null, { k: part.shape[1]! }));
      const yi = cast(y, 'int32');
      out = out ? add(keep(out), keep(yi)) : yi;
    });
    out = out!;
    const zaS = za.map((v) => v - shiftOf(a));
    const zbS = zb.map((v) => v - rhs.shift);
    if (zbS.some((v) => v !== 0)) {
      // - zb[n] · Σ_k a[m, k]
      const rowSum = keep(sum(a8, { axis: 1, keepdim: true }));
      const zbT = keep(int32s(zbS, zbS.length === 1 ? [] : [1, zbS.length], device));
      temps.push(out);
      out = sub(out, keep(mul(rowSum, zbT)));
    }
    if (zaS.some((v) => v !== 0)) {
      // - za[m] · Σ_k b[k, n] + K · za[m] · zb[n]
      const zaT = keep(int32s(zaS, zaS.length === 1 ? [] : [zaS.length, 1], device));
      const zbK = keep(int32s(zbS.map((v) => v * K), zbS.length === 1 ? [] : [1, zbS.length], device));
      const t = keep(sub(zbK, rhs.colSum));
      temps.push(out);
      out = add(out, keep(mul(zaT, t)));
    }
    return out;
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

/** Requantize int32 sums: clamp(round(float(acc) · multiplier) + zy) as uint8/int8 (multiplier broadcasts). */
export function requantize(acc: Tensor, multiplier: Tensor, zy: number, dtype: 'uint8' | 'int8'): Tensor {
  const f = cast(acc, 'float32');
  const s = mul(f, multiplier);
  const r = round(s);
  const z = add(r, zy);
  const c = dtype === 'uint8' ? clamp(z, 0, 255) : clamp(z, -128, 127);
  const q = cast(c, dtype);
  [f, s, r, z, c].forEach((t) => t.dispose());
  return q;
}

/** Window attributes of a quantized conv, resolved to explicit 2-D pads [top, left, bottom, right]. */
export interface ConvGeometry {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  padding: [number, number, number, number];
  groups: number;
}

/**
 * A conv weight [O, C/G, kH, kW] prepared for `convAcc`: int8 rows [O, Kp] for one grouped conv2dInt8 when a
 * group's window has at most EXACT_K taps, else rows per (group, input-channel chunk); and Σ w per output channel.
 */
export interface ConvRhs {
  /** [O, Kp] int8 rows (groups in order), or undefined when the window is split. */
  whole?: Tensor;
  /** pieces[g][j]: [O/G, Kp] int8 rows of group g over its input channels j·cc .. j·cc + cc - 1. */
  pieces: Tensor[][];
  /** Input channels per chunk (= C/G when not split). */
  cc: number;
  /** Σ w per output channel, int32 [1, O, 1, 1]. */
  sum: Tensor;
  O: number;
  Cg: number;
  groups: number;
  shift: number;
  dispose(): void;
}

const rowsOf = (w8: Tensor) => {
  const flat = w8.reshape([w8.shape[0]!, numel(w8.shape.slice(1))]);
  const rows = padRows(flat);
  flat.dispose();
  return rows;
};

/** Prepare a conv weight [O, C/G, kH, kW] (uint8/int8) for `convAcc`. */
export function prepareConvRhs(w: Tensor, groups: number): ConvRhs {
  const [O, Cg, kH, kW] = w.shape as [number, number, number, number];
  const khw = kH * kW;
  if (khw > EXACT_K) throw new Error(`forwardpass: onnx: quantized conv: a ${kH}x${kW} kernel has more than ${EXACT_K} taps per channel, which the exact int8 path does not split`);
  const w8 = toInt8(w);
  const cc = Math.min(Cg, Math.floor(EXACT_K / khw));
  const pieces: Tensor[][] = [];
  let whole: Tensor | undefined;
  if (cc === Cg) whole = rowsOf(w8);
  else {
    const per = O / groups;
    for (let g = 0; g < groups; g++) {
      const row: Tensor[] = [];
      const wg = w8.narrow(0, g * per, per);
      for (let c0 = 0; c0 < Cg; c0 += cc) {
        const part = wg.narrow(1, c0, Math.min(cc, Cg - c0));
        row.push(rowsOf(part));
        part.dispose();
      }
      wg.dispose();
      pieces.push(row);
    }
  }
  const s = sum(w8, { axis: [1, 2, 3], keepdim: true });
  const s4 = s.reshape([1, O, 1, 1]);
  s.dispose();
  if (w8 !== w) w8.dispose();
  const all = () => [...(whole ? [whole] : []), ...pieces.flat(), s4];
  return { whole, pieces, cc, sum: s4, O, Cg, groups, shift: shiftOf(w), dispose: () => all().forEach((t) => t.dispose()) };
}

/** Move a prepared conv weight to a device. */
export async function convRhsTo(r: ConvRhs, device: string): Promise<ConvRhs> {
  const whole = r.whole ? await r.whole.to(device) : undefined;
  const pieces = await Promise.all(r.pieces.map((row) => Promise.all(row.map((t) => t.to(device)))));
  const s = await r.sum.to(device);
  r.dispose();
  const all = () => [...(whole ? [whole] : []), ...pieces.flat(), s];
  return { ...r, whole, pieces, sum: s, dispose: () => all().forEach((t) => t.dispose()) };
}

type Pad = ConvGeometry['padding'];

/** int32 Σ x·w: one grouped conv2dInt8 (unit scales), or per (group, channel chunk) pieces summed in int32 and concatenated. */
function convSums(x8: Tensor, rhs: Pick<ConvRhs, 'whole' | 'pieces' | 'cc' | 'Cg' | 'groups'>, geo: ConvGeometry, padding: Pad, device: string): Tensor {
  const N = x8.shape[0]!;
  const temps: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (temps.push(t), t);
  const conv = (x: Tensor, wq: Tensor, groups: number) => {
    const y = keep(conv2dInt8(x, keep(ones([N, 1], device)), wq, keep(ones([wq.shape[0]!, 1], device)), null, { kernel: geo.kernel, stride: geo.stride, dilation: geo.dilation, padding, groups }));
    return cast(y, 'int32');
  };
  try {
    if (rhs.whole) return conv(x8, rhs.whole, rhs.groups);
    const perGroup = rhs.pieces.map((row, g) => {
      let acc: Tensor | undefined;
      row.forEach((wq, j) => {
        const n = Math.min(rhs.cc, rhs.Cg - j * rhs.cc);
        const y = conv(keep(x8.narrow(1, g * rhs.Cg + j * rhs.cc, n)), wq, 1);
        acc = acc ? add(keep(acc), keep(y)) : y;
      });
      return acc!;
    });
    if (perGroup.length === 1) return perGroup[0]!;
    temps.push(...perGroup);
    return concat(perGroup, 1);
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

/** All-ones int8 rows [rows, paddedK(n)] over the first n columns. */
const unitRows = (rows: number, n: number, device: string) => {
  const Kp = paddedK(n, 0);
  const data = new Int8Array(rows * Kp);
  for (let r = 0; r < rows; r++) data.fill(1, r * Kp, r * Kp + n);
  return fromData(data, [rows, Kp], 'int8', getBackend(device));
};

/**
 * Exact int32 convolution Σ (x - zx)(w[o] - zw[o]) for x [N, C, H, W] (uint8/int8) with a prepared weight;
 * padded positions count as x = zx (they add nothing), as ONNX ConvInteger asks.
 */
export function convAcc(x: Tensor, zx: number, rhs: ConvRhs, zw: number[], geo: ConvGeometry, device: string): Tensor {
  const temps: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (temps.push(t), t);
  try {
    let x8 = toInt8(x);
    if (x8 !== x) temps.push(x8);
    const zxS = zx - shiftOf(x);
    const zwS = zw.map((v) => v - rhs.shift);
    let padding = geo.padding;
    if (zxS !== 0 && padding.some((p) => p)) {
      // pad with the zero point itself, so that padded taps vanish after the corrections below
      const [t, l, b, r] = padding;
      x8 = keep(pad(x8, [l, r, t, b], { value: zxS }));
      padding = [0, 0, 0, 0];
    }
    let out = convSums(x8, rhs, geo, padding, device);
    const O = rhs.O, G = rhs.groups;
    const khw = geo.kernel[0] * geo.kernel[1];
    const k = rhs.Cg * khw;
    if (zwS.some((v) => v !== 0)) {
      // - zw[o] · Σ_window x: window sums per group from all-ones weights
      const ones8 = rhs.whole
        ? { whole: keep(unitRows(G, k, device)), pieces: [], cc: rhs.Cg, Cg: rhs.Cg, groups: G }
        : { pieces: rhs.pieces.map((row) => row.map((_, j) => keep(unitRows(1, Math.min(rhs.cc, rhs.Cg - j * rhs.cc) * khw, device)))), cc: rhs.cc, Cg: rhs.Cg, groups: G };
      const sums = keep(convSums(x8, ones8, geo, padding, device));
      const [Nn, , Ho, Wo] = sums.shape as [number, number, number, number];
      const z5 = keep(int32s(zwS.length === 1 ? new Array<number>(O).fill(zwS[0]!) : zwS, [1, G, O / G, 1, 1], device));
      const corr = keep(mul(keep(sums.reshape([Nn, G, 1, Ho, Wo])), z5));
      temps.push(out);
      out = sub(out, keep(corr.reshape([Nn, O, Ho, Wo])));
    }
    if (zxS !== 0) {
      // - zx · Σ w[o] + k · zx · zw[o]
      const zwk = keep(int32s(zwS.length === 1 ? new Array<number>(O).fill(zwS[0]! * k) : zwS.map((v) => v * k), [1, O, 1, 1], device));
      temps.push(out);
      out = add(out, keep(mul(keep(sub(zwk, rhs.sum)), zxS)));
    }
    return out;
  } finally {
    temps.forEach((t) => t.dispose());
  }
}
