// ONNX MatMul and Gemm (alpha, beta, transA, transB, bias broadcast). With precision 'int8', a constant 2-D weight
// becomes a QuantizedLinear (per-channel int8 weights, activations quantized per row at run time), built by
// src/quant's own QuantizedLinear.fromLinear.
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { add, mul } from '../../../ops/elementwise.js';
import { linear, matmul } from '../../../ops/linalg.js';
import { Linear } from '../../../nn/linear.js';
import { QuantizedLinear } from '../../../quant/modules.js';
import { registerOnnxOp, type Dim, type PrepareContext, type ValueType } from './registry.js';
import { broadcastDims } from './util.js';

/** A QuantizedLinear for weight [N, K] (a CPU tensor) and an optional bias [N], on `backend`. */
export async function quantizedLinear(w: Tensor, bias: Tensor | undefined, backend: string, name: string): Promise<QuantizedLinear> {
  const [N, K] = w.shape as [number, number];
  const lin = new Linear(K, N, { bias: !!bias });
  try {
    lin._replaceTensor('weight', await w.to(backend)); // to() copies row-major, whatever w's strides
    if (bias) {
      const flat = bias.reshape([N]); // a view holding bias's storage: freed here, or the constant never is
      try {
        lin._replaceTensor('bias', await flat.to(backend));
      } finally {
        flat.dispose();
      }
    }
    return await QuantizedLinear.fromLinear(lin, { weights: 'per-channel', activations: 'dynamic', name });
  } finally {
    lin.dispose();
  }
}

const isFloat2d = (t: Tensor | undefined): t is Tensor => !!t && t.rank === 2 && (t.dtype === 'float32' || t.dtype === 'float16');

registerOnnxOp('MatMul', {
  infer: (c) => {
    const [a, b] = c.inputs;
    if (!a?.shape || !b?.shape || a.shape.length === 0 || b.shape.length === 0) return [{ dtype: a?.dtype ?? 'float32' }];
    const A = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
    const B = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
    const batch = broadcastDims(A.slice(0, -2), B.slice(0, -2));
    const shape: Dim[] = [...batch, ...(a.shape.length === 1 ? [] : [A[A.length - 2]!]), ...(b.shape.length === 1 ? [] : [B[B.length - 1]!])];
    return [{ dtype: a.dtype, shape }];
  },
  prepare: async (c) => {
    const w = c.constant(1);
    if (c.precision !== 'int8' || !isFloat2d(w)) return undefined;
    c.dropInput(1);
    const wt = w.transpose(0, 1);
    try {
      return await quantizedLinear(wt, undefined, c.backend, c.label);
    } finally {
      wt.dispose();
    }
  },
  run: (c) => {
    const a = c.input(0);
    if (c.state instanceof QuantizedLinear) return [c.state.forward(a)];
    return [matmul(a, c.input(1))];
  },
});

interface GemmState {
  q: QuantizedLinear;
  /** The bias went into the quantized layer. */
  biasInside: boolean;
  dispose(): void;
}

function gemmAttrs(c: { attrs: PrepareContext['attrs'] }) {
  return {
    alpha: c.attrs.float('alpha', 1),
    beta: c.attrs.float('beta', 1),
    transA: c.attrs.intOf('transA', [0, 1], 0) === 1,
    transB: c.attrs.intOf('transB', [0, 1], 0) === 1,
  };
}

registerOnnxOp('Gemm', {
  validate: (c) => { gemmAttrs(c); },
  infer: (c) => {
    const [a, b] = c.inputs;
    const { transA, transB } = gemmAttrs(c);
    const M = a?.shape?.length === 2 ? a.shape[transA ? 1 : 0]! : null;
    const N = b?.shape?.length === 2 ? b.shape[transB ? 0 : 1]! : null;
    return [{ dtype: a?.dtype ?? 'float32', shape: [M, N] } satisfies ValueType];
  },
  prepare: async (c) => {
    const { alpha, beta, transB } = gemmAttrs(c);
    const w = c.constant(1);
    if (c.precision !== 'int8' || !isFloat2d(w)) return undefined;
    const C = c.constant(2);
    const N = w.shape[transB ? 0 : 1]!;
    const biasInside = !!C && alpha === 1 && beta === 1 && C.size === N && (C.rank === 1 || (C.rank === 2 && C.shape[0] === 1));
    c.dropInput(1);
    if (biasInside) c.dropInput(2);
    const wt = transB ? w : w.transpose(0, 1);
    try {
      const q = await quantizedLinear(wt, biasInside ? C : undefined, c.backend, c.label);
      return { q, biasInside, dispose: () => q.dispose() } satisfies GemmState;
    } finally {
      if (wt !== w) wt.dispose();
    }
  },
  run: (c) => {
    const { alpha, beta, transA, transB } = gemmAttrs(c);
    const A = c.input(0);
    if (A.rank !== 2) c.fail(`A must be 2-D, found ${shapeStr(A.shape)}`);
    const a = transA ? A.transpose(0, 1) : A;
    const temps: Tensor[] = a !== A ? [a] : [];
    try {
      const C = c.inputs[2];
      const st = c.state as GemmState | undefined;
      let y: Tensor;
      let biasDone = false;
      if (st) {
        y = st.q.forward(a);
        biasDone = st.biasInside;
      } else {
        const B = c.input(1);
        if (B.rank !== 2) c.fail(`B must be 2-D, found ${shapeStr(B.shape)}`);
        const N = B.shape[transB ? 0 : 1]!;
        const plainBias = C && alpha === 1 && beta === 1 && C.size === N && (C.rank === 1 || (C.rank === 2 && C.shape[0] === 1));
        if (transB) {
          const bias = plainBias ? C.reshape([N]) : undefined;
          if (bias) temps.push(bias);
          y = linear(a, B, bias ?? null);
          biasDone = !!bias;
        } else y = matmul(a, B);
      }
      if (alpha !== 1 && !st?.biasInside) {
        temps.push(y);
        y = mul(y, alpha);
      }
      if (C && !biasDone && beta !== 0) {
        const M = y.shape[0]!, N = y.shape[1]!;
        const cs = C.shape;
        const out = broadcastDims([M, N], [...cs]);
        if (out.length !== 2 || out[0] !== M || out[1] !== N) c.fail(`C ${shapeStr(cs)} does not broadcast to the output [${M}, ${N}]`);
        const bc = beta === 1 ? C : mul(C, beta);
        if (bc !== C) temps.push(bc);
        temps.push(y);
        y = add(y, bc);
      }
      return [y];
    } finally {
      temps.forEach((t) => t.dispose());
    }
  },
});
