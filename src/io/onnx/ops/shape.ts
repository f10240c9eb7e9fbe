// ONNX ops that move or reshape data: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split,
// Slice (negative steps through a gather), Gather and Expand. Inference tracks the contents of small integer
// host values, so Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains give symbolic shapes at load.
import { numel, shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { concat, embedding, gather, split } from '../../../ops/transform.js';
import { registerOnnxOp, type Dim, type InferContext, type RunContext, type ValueType } from './registry.js';
import { axesFrom, axesOf, axisOf, broadcastDims, small } from './util.js';

const CAP = 64; // largest host value whose contents inference tracks

registerOnnxOp('Shape', {
  infer: (c) => {
    const s = c.inputs[0]?.shape;
    if (!s) return [{ dtype: 'int32', shape: [null] }];
    const [a, b] = shapeRange(c, s.length);
    return [{ dtype: 'int32', shape: [b - a], values: s.slice(a, b) }];
  },
  run: (c) => {
    const x = c.input(0);
    const [a, b] = shapeRange(c, x.rank);
    return [small(x.shape.slice(a, b), [b - a], 'int32', 'cpu')];
  },
});

/** Shape's start/end attributes (opset 15), clamped as the spec says. */
function shapeRange(c: InferContext | RunContext, rank: number): [number, number] {
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const a = norm(c.attrs.int('start', 0));
  const b = norm(c.attrs.int('end', rank));
  return [a, Math.max(a, b)];
}

registerOnnxOp('Size', {
  infer: (c) => {
    const s = c.inputs[0]?.shape;
    const n = s && s.every((d) => typeof d === 'number') ? numel(s as number[]) : null;
    return [{ dtype: 'int32', shape: [], values: [n] }];
  },
  run: (c) => [small([c.input(0).size], [], 'int32', 'cpu')],
});

/** Reshape's target: 0 copies the input dim (unless allowzero), one -1 is inferred. */
function reshapeTarget(c: InferContext | RunContext, inShape: Dim[], target: Dim[], resolve = true): Dim[] {
  const allowzero = c.opset >= 14 ? c.attrs.intOf('allowzero', [0, 1], 0) : 0;
  // a copied dim may be unknown (null) at load; only a dim past the input's rank is an error
  const out = target.map((d, i) => (d === 0 && !allowzero ? (i < inShape.length ? inShape[i]! : c.fail(`shape ${JSON.stringify(target)} copies dim ${i} (a 0) that the input ${JSON.stringify(inShape)} lacks`)) : d));
  if (out.filter((d) => d === -1).length > 1) c.fail(`shape ${JSON.stringify(target)} has more than one -1`);
  const neg = out.indexOf(-1);
  if (neg >= 0 && resolve) {
    const rest = out.filter((_, i) => i !== neg);
    if (inShape.every((d) => typeof d === 'number') && rest.every((d) => typeof d === 'number')) {
      const r = numel(rest as number[]);
      out[neg] = r === 0 ? 0 : numel(inShape as number[]) / r;
    } else {
      // symbolic: cancel equal symbols and numbers when every remaining factor is known
      out[neg] = null;
    }
  }
  return out;
}

registerOnnxOp('Reshape', {
  hostInputs: [1],
  infer: (c) => {
    const x = c.inputs[0];
    const t = c.inputs[1]?.values;
    return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape && t ? { shape: reshapeTarget(c, x.shape, t) } : {}), ...(x?.values && t ? { values: [...x.values] } : {}) }];
  },
  run: (c) => {
    const x = c.input(0);
    const shape = reshapeTarget(c, x.shape as number[], c.ints(1) ?? c.fail('input 1 (shape) is required'), false) as number[];
    return [x.reshape(shape)];
  },
});

/** Flatten's axis: in [-rank, rank], negative counting from the end. */
function flattenAxis(c: InferContext | RunContext, rank: number): number {
  const a = c.attrs.int('axis', 1);
  if (a < -rank || a > rank) c.attrs.fail('axis', `an int in [${-rank}, ${rank}]`, String(a));
  return a < 0 ? a + rank : a;
}

registerOnnxOp('Flatten', {
  infer: (c) => {
    const x = c.inputs[0];
    if (!x?.shape) return [{ dtype: x?.dtype ?? 'float32', shape: [null, null] }];
    const a = flattenAxis(c, x.shape.length);
    const prod = (ds: Dim[]): Dim => (ds.every((d) => typeof d === 'number') ? numel(ds as number[]) : ds.length === 1 ? ds[0]! : null);
    return [{ dtype: x.dtype, shape: [prod(x.shape.slice(0, a)), prod(x.shape.slice(a))] }];
  },
  run: (c) => {
    const x = c.input(0);
    const a = flattenAxis(c, x.rank);
    return [x.reshape([numel(x.shape.slice(0, a)), numel(x.shape.slice(a))])];
  },
});

registerOnnxOp('Transpose', {
  validate: (c) => {
    const perm = c.attrs.ints('perm', []);
    if ([...perm].sort((a, b) => a - b).some((p, i) => p !== i)) c.attrs.fail('perm', `a permutation of 0..${perm.length - 1}`, JSON.stringify(perm));
  },
  infer: (c) => {
    const x = c.inputs[0];
    if (!x?.shape) return [{ dtype: x?.dtype ?? 'float32' }];
    const perm = c.attrs.ints('perm', x.shape.map((_, i) => x.shape!.length - 1 - i));
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![p] ?? null) }];
  },
  run: (c) => {
    const x = c.input(0);
    const perm = c.attrs.ints('perm', x.shape.map((_, i) => x.rank - 1 - i));
    if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) c.fail(`perm ${JSON.stringify(perm)} is not a permutation of the ${x.rank} dims of the input ${shapeStr(x.shape)}`);
    return [x.permute(perm)];
  },
});

function squeezeAxes(c: InferContext | RunContext, shape: readonly Dim[], axes: number[] | undefined): number[] {
  if (axes === undefined) return shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  return axesOf(c, axes, shape.length);
}
registerOnnxOp('Squeeze', {
  hostInputs: [1],
  infer: (c) => {
    const x = c.inputs[0];
    const axes = c.opset >= 13 ? (c.inputs[1] ? numbers(c.inputs[1].values) : undefined) : c.attrs.has('axes') ? c.attrs.ints('axes') : undefined;
    if (!x?.shape || (c.opset >= 13 && c.inputs[1] && !axes)) return [{ dtype: x?.dtype ?? 'float32' }];
    const drop = squeezeAxes(c, x.shape, axes);
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.includes(i)), ...(x.values ? { values: [...x.values] } : {}) }];
  },
  run: (c) => {
    const x = c.input(0);
    const drop = squeezeAxes(c, x.shape, axesFrom(c, 1, 13));
    for (const a of drop) if (x.shape[a] !== 1) c.fail(`cannot squeeze dim ${a} of size ${x.shape[a]} of the input ${shapeStr(x.shape)}`);
    return [x.reshape(x.shape.filter((_, i) => !drop.includes(i)))];
  },
});

function unsqueezeShape<T>(c: InferContext | RunContext, shape: readonly T[], axes: number[], one: T): T[] {
  const rank = shape.length + axes.length;
  const ax = axesOf(c, axes, rank);
  const out: T[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? one : shape[k++]!);
  return out;
}
registerOnnxOp('Unsqueeze', {
  hostInputs: [1],
  infer: (c) => {
    const x = c.inputs[0];
    const axes = c.opset >= 13 ? numbers(c.inputs[1]?.values) : c.attrs.ints('axes');
    if (!x?.shape || !axes) return [{ dtype: x?.dtype ?? 'float32' }];
    return [{ dtype: x.dtype, shape: unsqueezeShape<Dim>(c, x.shape, axes, 1), ...(x.values ? { values: [...x.values] } : {}) }];
  },
  run: (c) => {
    const x = c.input(0);
    const axes = axesFrom(c, 1, 13) ?? c.fail('axes are required');
    return [x.reshape(unsqueezeShape(c, x.shape, axes, 1))];
  },
});

registerOnnxOp('Concat', {
  validate: (c) => {
    c.attrs.int('axis');
    if (!c.node.inputs.some((x) => x)) c.fail('needs at least one input');
  },
  infer: (c) => {
    const ins = c.inputs.filter((t): t is ValueType => !!t);
    const first = ins[0];
    if (!first?.shape || ins.some((t) => !t.shape || t.shape.length !== first.shape!.length)) return [{ dtype: first?.dtype ?? 'float32' }];
    const a = axisOf(c, c.attrs.int('axis'), first.shape.length);
    const parts = ins.map((t) => t.shape![a]!);
    const shape = [...first.shape];
    shape[a] = parts.every((d) => typeof d === 'number') ? (parts as number[]).reduce((x, y) => x + y, 0) : null;
    const vals = first.shape.length === 1 && ins.every((t) => t.values) ? ins.flatMap((t) => t.values!) : undefined;
    return [{ dtype: first.dtype, shape, ...(vals && vals.length <= CAP ? { values: vals } : {}) }];
  },
  run: (c) => {
    const ins = c.inputs.filter((t): t is Tensor => !!t);
    if (ins.length === 0) c.fail('needs at least one input');
    const a = axisOf(c, c.attrs.int('axis'), ins[0]!.rank);
    const nonEmpty = ins.filter((t) => t.shape[a] !== 0);
    return [nonEmpty.length === 1 ? nonEmpty[0]! : concat(nonEmpty.length ? nonEmpty : ins, a)];
  },
});

registerOnnxOp('Split', {
  hostInputs: [1],
  validate: (c) => {
    if (c.opset >= 18 && c.attrs.has('num_outputs') && c.attrs.int('num_outputs') !== c.node.outputs.length) c.fail(`num_outputs ${c.attrs.int('num_outputs')} differs from the node's ${c.node.outputs.length} outputs`);
  },
  run: (c) => {
    const x = c.input(0);
    const a = axisOf(c, c.attrs.int('axis', 0), x.rank);
    const dim = x.shape[a]!;
    const n = c.node.outputs.length;
    let sizes = c.opset >= 13 ? c.ints(1) : c.attrs.has('split') ? c.attrs.ints('split') : undefined;
    if (!sizes && c.opset >= 18 && c.attrs.has('num_outputs')) {
      const k = c.attrs.int('num_outputs');
      if (k !== n) c.fail(`num_outputs ${k} differs from the node's ${n} outputs`);
      const step = Math.ceil(dim / k);
      sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(step, dim - i * step)));
    }
    if (!sizes) {
      if (dim % n !== 0) c.fail(`cannot split dim ${a} of size ${dim} of the input ${shapeStr(x.shape)} into ${n} equal parts`);
      sizes = new Array<number>(n).fill(dim / n);
    }
    if (sizes.length !== n) c.fail(`split sizes ${JSON.stringify(sizes)} do not match the node's ${n} outputs`);
    return split(x, sizes, a);
  },
});

/** Slice bounds per axis after ONNX's clamping rules. */
function sliceAxes(c: RunContext, shape: readonly number[]): { axis: number; start: number; end: number; step: number }[] {
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (c.opset < 10) {
    starts = c.attrs.ints('starts');
    ends = c.attrs.ints('ends');
    axes = c.attrs.has('axes') ? c.attrs.ints('axes') : undefined;
  } else {
    starts = c.ints(1) ?? c.fail('input 1 (starts) is required');
    ends = c.ints(2) ?? c.fail('input 2 (ends) is required');
    axes = c.ints(3);
    steps = c.ints(4);
  }
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    c.fail(`starts ${JSON.stringify(starts)}, ends ${JSON.stringify(ends)}, axes ${JSON.stringify(axes)} and steps ${JSON.stringify(steps)} must have equal lengths`);
  }
  axesOf(c, axes, shape.length); // validates only: every axis in range and none repeated
  return axes.map((ax, i) => {
    const axis = axisOf(c, ax, shape.length);
    const d = shape[axis]!;
    const step = steps![i]!;
    if (step === 0) c.fail(`steps must not be 0, found ${JSON.stringify(steps)}`);
    let s = starts[i]!, e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) { s = Math.min(Math.max(s, 0), d); e = Math.min(Math.max(e, 0), d); }
    else { s = Math.min(Math.max(s, 0), d - 1); e = Math.min(Math.max(e, -1), d - 1); }
    return { axis, start: s, end: e, step };
  });
}

registerOnnxOp('Slice', {
  hostInputs: [1, 2, 3, 4],
  infer: (c) => {
    const x = c.inputs[0];
    // contents of a sliced 1-D host value with known bounds
    const [st, en, ax, sp] = [1, 2, 3, 4].map((i) => numbers(c.inputs[i]?.values));
    if (c.opset >= 10 && x?.values && x.shape?.length === 1 && st?.length === 1 && en?.length === 1 && (!ax || ax[0] === 0 || ax[0] === -1) && (!sp || sp[0] === 1)) {
      const n = x.values.length;
      const cl = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
      const vals = x.values.slice(cl(st[0]!), Math.max(cl(st[0]!), cl(en[0]!)));
      return [{ dtype: x.dtype, shape: [vals.length], values: vals }];
    }
    return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape ? { shape: x.shape.map(() => null) } : {}) }];
  },
  run: (c) => {
    let t = c.input(0);
    const temps: Tensor[] = [];
    try {
      for (const { axis, start, end, step } of sliceAxes(c, t.shape)) {
        let next: Tensor;
        if (step > 0) next = t.slice(axis, start, end, step);
        else {
          const idx: number[] = [];
          for (let i = start; i > end; i += step) idx.push(i);
          if (idx.length === 0) next = t.narrow(axis, 0, 0);
          else {
            const it = small(idx, [idx.length], 'int32', t.device);
            temps.push(it);
            next = gather(t, it, axis);
          }
        }
        if (t !== c.inputs[0]) temps.push(t);
        t = next;
      }
      return [t === c.inputs[0] ? t.reshape(t.shape) : t];
    } finally {
      temps.forEach((x) => x.dispose());
    }
  },
});

registerOnnxOp('Gather', {
  infer: (c) => {
    const [x, idx] = c.inputs;
    if (!x?.shape || !idx?.shape) return [{ dtype: x?.dtype ?? 'float32' }];
    const a = axisOf(c, c.attrs.int('axis', 0), x.shape.length);
    const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
    const iv = numbers(idx.values);
    const vals = x.values && x.shape.length === 1 && iv ? iv.map((i) => x.values![i < 0 ? i + x.values!.length : i] ?? null) : undefined;
    return [{ dtype: x.dtype, shape, ...(vals ? { values: vals } : {}) }];
  },
  // an embedding lookup (a constant table [V, D], axis 0, indices fed by the caller) refuses negative ids and names
  // the input in its error, as the safetensors models do; other Gathers keep ONNX's negative indices
  prepare: (c) => {
    const table = c.constant(0);
    const input = c.graphInput(1);
    if (!table || table.rank !== 2 || !input || axisOf(c, c.attrs.int('axis', 0), 2) !== 0) return undefined;
    return { name: `input '${input}' (token ids of the embedding '${c.node.inputs[0]}' ${shapeStr(table.shape)})` };
  },
  run: (c) => {
    const x = c.input(0);
    const lookup = c.state as { name: string } | undefined;
    if (lookup) return [embedding(c.input(1), x, lookup)];
    return [gather(x, c.input(1), axisOf(c, c.attrs.int('axis', 0), x.rank))];
  },
});

registerOnnxOp('Expand', {
  hostInputs: [1],
  infer: (c) => {
    const x = c.inputs[0];
    const s = c.inputs[1]?.values;
    return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape && s ? { shape: broadcastDims(x.shape, s) } : {}) }];
  },
  run: (c) => {
    const x = c.input(0);
    const target = c.ints(1) ?? c.fail('input 1 (shape) is required');
    const n = Math.max(x.rank, target.length);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = i < n - x.rank ? 1 : x.shape[i - (n - x.rank)]!;
      const b = i < n - target.length ? 1 : target[i - (n - target.length)]!;
      if (a !== b && a !== 1 && b !== 1) c.fail(`cannot expand the input ${shapeStr(x.shape)} to ${shapeStr(target)} (dim ${i} is ${a} vs ${b})`);
      out.push(a === 1 ? b : a);
    }
    return [x.expand(out)];
  },
});

/** The numbers of a known host value (undefined when any is symbolic or unknown). */
export function numbers(v: Dim[] | undefined): number[] | undefined {
  return v && v.every((d): d is number => typeof d === 'number') ? v : undefined;
}
