// ONNX ops that make or repeat values: Constant, Range (on the host), Pad (constant/reflect/edge/wrap; attribute
// form before opset 11), Tile (reshape -> expand -> reshape), Trilu (a host-built mask + where) and CumSum (a product
// with a host-built triangular matrix of ones; integers go through float32, exact below 2^24).
import { type DType } from '../../../tensor/dtype.js';
import { arange } from '../../../tensor/creation.js';
import { numel, shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { cast, where } from '../../../ops/elementwise.js';
import { matmul } from '../../../ops/linalg.js';
import { concat, pad } from '../../../ops/transform.js';
import { onnxTensorToTensor } from '../values.js';
import { registerOnnxOp, type Dim, type RunContext } from './registry.js';
import { axesOf, axisOf, cumulativeArgs, sameShape, small } from './util.js';
import { numbers } from './shape.js';

/** The value of a Constant node as a CPU tensor (int64 clamped only when `clamp`: see values.ts). */
export function constantValue(c: Pick<RunContext, 'attrs' | 'fail' | 'label'>, clamp = false): Tensor {
  const a = c.attrs;
  if (a.has('value')) return onnxTensorToTensor(a.tensor('value')!, `Constant '${c.label}'`, clamp);
  if (a.has('value_float')) return small([a.float('value_float')], [], 'float32', 'cpu');
  if (a.has('value_floats')) { const v = a.floats('value_floats'); return small(v, [v.length], 'float32', 'cpu'); }
  if (a.has('value_int')) return small([a.int('value_int')], [], 'int32', 'cpu');
  if (a.has('value_ints')) { const v = a.ints('value_ints'); return small(v, [v.length], 'int32', 'cpu'); }
  return c.fail('needs one of the attributes value, value_float, value_floats, value_int, value_ints (sparse and string values are not supported)');
}

registerOnnxOp('Constant', { run: (c) => [constantValue(c)] });

registerOnnxOp('Range', {
  hostInputs: [0, 1, 2],
  infer: (c) => [{ dtype: c.inputs[0]?.dtype ?? 'float32', shape: [null] }],
  run: (c) => {
    const one = (i: number) => {
      const v = c.floats(i);
      if (!v || v.length !== 1) return c.fail(`input ${i} must be a scalar, found ${v ? `${v.length} values` : 'none'}`);
      return v[0]!;
    };
    const [start, limit, delta] = [one(0), one(1), one(2)];
    if (delta === 0) c.fail('delta must not be 0');
    const dtype: DType = c.input(0).dtype;
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    return [n === 0 ? small([], [0], dtype, c.device) : arange(start, start + n * delta - delta / 2, delta, { dtype, device: c.device })];
  },
});

registerOnnxOp('Pad', {
  hostInputs: [1, 2, 3],
  validate: (c) => { c.attrs.stringOf('mode', ['constant', 'reflect', 'edge', 'wrap'] as const, 'constant'); },
  infer: (c) => {
    const x = c.inputs[0];
    const p = c.opset >= 11 ? numbers(c.inputs[1]?.values) : c.attrs.ints('pads');
    if (!x?.shape || !p || c.inputs[3]) return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape ? { shape: x.shape.map((): Dim => null) } : {}) }];
    const r = x.shape.length;
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d + p[i]! + p[i + r]! : p[i] === 0 && p[i + r] === 0 ? d : null)) }];
  },
  run: (c) => {
    const x = c.input(0);
    const mode = c.attrs.stringOf('mode', ['constant', 'reflect', 'edge', 'wrap'] as const, 'constant');
    let pads: number[], value: number;
    let axes = x.shape.map((_, i) => i);
    if (c.opset < 11) {
      pads = c.attrs.ints('pads');
      value = c.attrs.float('value', 0);
    } else {
      pads = c.ints(1) ?? c.fail('input 1 (pads) is required');
      value = c.floats(2)?.[0] ?? 0;
      const ax = c.ints(3);
      if (ax) axes = axesOf(c, ax, x.rank).length === ax.length ? ax.map((a) => axisOf(c, a, x.rank)) : axes;
    }
    if (pads.length !== 2 * axes.length) c.fail(`pads ${JSON.stringify(pads)} must hold 2 values per padded axis (${axes.length} axes of the input ${shapeStr(x.shape)})`);
    // ONNX: [b_0, b_1, ..., e_0, e_1, ...] per axis; pad(): pairs from the last dim backwards
    const per = new Array<number>(2 * x.rank).fill(0);
    axes.forEach((a, i) => { per[2 * a] = pads[i]!; per[2 * a + 1] = pads[i + axes.length]!; });
    if (mode === 'wrap') return [wrapPad(c, x, per)];
    const torch: number[] = [];
    for (let d = x.rank - 1; d >= 0; d--) torch.push(per[2 * d]!, per[2 * d + 1]!);
    return [pad(x, torch, { mode: mode === 'edge' ? 'replicate' : mode === 'reflect' ? 'reflect' : 'constant', value })];
  },
});

/**
 * Pad mode 'wrap', axis by axis (`per`: [before, after] per axis): negative pads crop first (as onnxruntime), then
 * the cropped axis repeats cyclically, out[i] = x[(i - before) mod n], as one concat of narrow views.
 */
function wrapPad(c: RunContext, x: Tensor, per: number[]): Tensor {
  let cur = x;
  const temps: Tensor[] = [];
  try {
    for (let d = 0; d < x.rank; d++) {
      const [b, e] = [per[2 * d]!, per[2 * d + 1]!];
      if (b === 0 && e === 0) continue;
      const start = Math.max(-b, 0);
      const n = cur.shape[d]! - start - Math.max(-e, 0);
      if (n < 0) c.fail(`pads [${b}, ${e}] crop axis ${d} of the input ${shapeStr(x.shape)} below zero`);
      const [before, total] = [Math.max(b, 0), n + Math.max(b, 0) + Math.max(e, 0)];
      if (n === 0 && total > 0) c.fail(`mode 'wrap' cannot pad the empty axis ${d} of the input ${shapeStr(x.shape)} (pads [${b}, ${e}])`);
      const body = cur.narrow(d, start, n);
      temps.push(body);
      const pieces: Tensor[] = [];
      // output index 0 reads body index (-before) mod n, then runs to the end of body, restarting at 0
      for (let i = 0, j = n === 0 ? 0 : (((-before) % n) + n) % n; i < total; i += pieces[pieces.length - 1]!.shape[d]!, j = 0) {
        pieces.push(body.narrow(d, j, Math.min(n - j, total - i)));
      }
      temps.push(...pieces);
      cur = pieces.length === 0 ? body : pieces.length === 1 ? pieces[0]! : concat(pieces, d);
      if (!temps.includes(cur)) temps.push(cur);
    }
    if (cur === x) return x;
    temps.splice(temps.indexOf(cur), 1);
    return cur;
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

registerOnnxOp('Tile', {
  hostInputs: [1],
  infer: (c) => {
    const x = c.inputs[0];
    const r = numbers(c.inputs[1]?.values);
    return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape && r ? { shape: x.shape.map((d, i) => (typeof d === 'number' ? d * r[i]! : r[i] === 1 ? d : null)) } : {}) }];
  },
  run: (c) => {
    const x = c.input(0);
    const reps = c.ints(1) ?? c.fail('input 1 (repeats) is required');
    if (reps.length !== x.rank || reps.some((r) => !Number.isInteger(r) || r < 0)) c.fail(`repeats ${JSON.stringify(reps)} must be ${x.rank} non-negative ints for the input ${shapeStr(x.shape)}`);
    // [d0, d1, ...] -> [1, d0, 1, d1, ...] -> expand to [r0, d0, r1, d1, ...] -> [r0*d0, r1*d1, ...]
    const inter = x.reshape(x.shape.flatMap((d) => [1, d]));
    const big = inter.expand(x.shape.flatMap((d, i) => [reps[i]!, d]));
    const y = big.reshape(x.shape.map((d, i) => d * reps[i]!));
    inter.dispose();
    big.dispose();
    return [y];
  },
});

registerOnnxOp('Trilu', {
  hostInputs: [1],
  validate: (c) => { c.attrs.intOf('upper', [0, 1], 1); },
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    if (x.rank < 2) c.fail(`input must have rank 2 or more, found ${shapeStr(x.shape)}`);
    const k = c.ints(1)?.[0] ?? 0;
    const upper = c.attrs.intOf('upper', [0, 1], 1) === 1;
    const N = x.shape[x.rank - 2]!, M = x.shape[x.rank - 1]!;
    const keep = new Uint8Array(N * M);
    for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) keep[i * M + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
    const mask = small(keep, [N, M], 'bool', x.device);
    try {
      return [where(mask, x, 0)];
    } finally {
      mask.dispose();
    }
  },
});

registerOnnxOp('CumSum', {
  hostInputs: [1],
  validate: (c) => { c.attrs.intOf('exclusive', [0, 1], 0); c.attrs.intOf('reverse', [0, 1], 0); },
  infer: (c) => sameShape(c),
  run: (c) => {
    const { x, axis: a, exclusive, reverse } = cumulativeArgs(c);
    const n = x.shape[a]!;
    // out[.., j] = Σ_i x[.., i] · T[i, j], T[i, j] = 1 where i contributes to j
    const T = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const on = reverse ? (exclusive ? i > j : i >= j) : exclusive ? i < j : i <= j;
        T[i * n + j] = on ? 1 : 0;
      }
    }
    const temps: Tensor[] = [];
    try {
      const xf = x.dtype === 'float32' || x.dtype === 'float16' ? x : (temps.push(cast(x, 'float32')), temps[temps.length - 1]!);
      const moved = a === x.rank - 1 ? xf : (temps.push(xf.transpose(a, -1)), temps[temps.length - 1]!);
      const tri = small(T, [n, n], xf.dtype === 'float16' ? 'float16' : 'float32', x.device);
      temps.push(tri);
      const y = n === 0 || numel(x.shape) === 0 ? moved.reshape(moved.shape) : matmul(moved, tri);
      temps.push(y);
      const back = a === x.rank - 1 ? y.reshape(y.shape) : y.transpose(a, -1);
      if (back.dtype === x.dtype) return [back];
      temps.push(back);
      return [cast(back, x.dtype)];
    } finally {
      temps.forEach((t) => t.dispose());
    }
  },
});
