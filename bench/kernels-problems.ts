// Problems of the kernel benchmark: matmul, matrix-vector (linear at M = 1), conv2d and attention, each with a
// float64 reference written here (plain loops), its FLOP and byte counts, and the tasks that compute it: every
// forwardpass CPU variant, the WebGPU paths the backend lets a caller force, and tfjs-cpu / tfjs-webgpu.
// Legend: M, N, K = product sizes; N, C, H, W, O, k = conv batch, channels, size, out channels, kernel;
// B, Hh, T, D = attention batch, heads, sequence, head size.
import * as fp from '../src/node.js';
import { MATMUL_VARIANTS } from '../src/backends/cpu/kernels/matmul.js';
import { linearWith } from '../src/backends/cpu/kernels/linear.js';
import { conv2dLowering } from '../src/backends/cpu/kernels/conv.js';
import type { CpuTensor } from '../src/backends/cpu/types.js';
import { withMatmulPath, type MatmulOverride } from '../src/backends/webgpu/programs/matmul.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type TfTensor = import('@tensorflow/tfjs-core').Tensor;

export interface KernelTask {
  variant: string;
  /** 'reference': the benchmark's own naive loops (a baseline, not part of forwardpass). */
  engine: 'forwardpass' | 'reference' | 'tfjs-cpu' | 'tfjs-webgpu';
  /** Runs the work once and returns the result on the host (GPU tasks: readback included). */
  call: () => ArrayLike<number> | Promise<ArrayLike<number>>;
  /** The reference in this task's output layout, when it differs from the problem's (tfjs conv: NHWC). */
  want?: Float64Array;
}

export interface TaskSet {
  tasks: KernelTask[];
  dispose(): void;
}

export interface Problem {
  op: 'matmul' | 'matvec' | 'conv2d' | 'attention';
  group: string;
  /** The x value of charts: n for matmul / matvec, output positions·channels for conv, T for attention. */
  size: number;
  flops: number;
  /** Bytes of the inputs and the output, each counted once (float32). */
  bytes: number;
  want: Float64Array;
  /** Accepted max |difference| from the float64 reference. */
  tol: number;
  cpu(tf: Tf | null): TaskSet;
  gpu(tf: Tf | null): TaskSet;
}

function randomF32(n: number, seed: number): Float32Array {
  const rng = fp.makeRng(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

const cpuT = (data: Float32Array, shape: number[]): CpuTensor => ({ data, dtype: 'float32', shape, strides: fp.contiguousStrides(shape), offset: 0 });

/** A forwardpass task on tensors: runs `f`, reads the result (sync on CPU), disposes it. */
function fpTask(variant: string, device: 'cpu' | 'webgpu', f: () => fp.Tensor): KernelTask {
  return device === 'cpu'
    ? { variant, engine: 'forwardpass', call: () => { const t = f(); const d = t.dataSync(); t.dispose(); return d; } }
    : { variant, engine: 'forwardpass', call: async () => { const t = f(); const d = await t.data(); t.dispose(); return d; } };
}

function tfTask(variant: string, engine: 'tfjs-cpu' | 'tfjs-webgpu', tf: Tf, f: () => TfTensor): KernelTask {
  return { variant, engine, call: async () => { const t = tf.tidy(f); const d = await t.data(); t.dispose(); return d; } };
}

const WEBGPU_MATMUL: [string, MatmulOverride | null][] = [
  ['webgpu gemm-vec4', { path: 'gemm' }],
  ['webgpu gemm-scalar', { path: 'gemm', vec4: false }],
  ['webgpu naive', { path: 'naive' }],
  ['webgpu auto', null],
];
const WEBGPU_MATVEC: [string, MatmulOverride | null][] = [
  ['webgpu matvec', { path: 'matvec' }],
  ['webgpu matvec no-subgroups', { path: 'matvec', subgroups: false }],
  ['webgpu splitk', { path: 'splitk' }],
  ['webgpu gemm-vec4', { path: 'gemm' }],
  ['webgpu naive', { path: 'naive' }],
  ['webgpu auto', null],
];

/** Square C = A·B. */
export function matmulProblem(n: number): Problem {
  const a = randomF32(n * n, n), b = randomF32(n * n, n + 1);
  const want = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
    want[i * n + j] = s;
  }
  return {
    op: 'matmul', group: `matmul ${n}x${n}x${n}`, size: n, flops: 2 * n ** 3, bytes: 12 * n * n, want, tol: 1e-4 * Math.sqrt(n),
    cpu(tf) {
      const c = new Float32Array(n * n);
      const tasks: KernelTask[] = Object.entries(MATMUL_VARIANTS).map(([name, { fn }]) => ({ variant: `cpu ${name}`, engine: 'forwardpass' as const, call: () => { fn(n, n, n, a, 0, b, 0, false, c, 0); return c; } }));
      const ta = fp.tensor(a, { shape: [n, n] }), tb = fp.tensor(b, { shape: [n, n] });
      tasks.push(fpTask('fp.matmul cpu', 'cpu', () => fp.matmul(ta, tb)));
      const xa = tf?.tensor2d(a, [n, n]), xb = tf?.tensor2d(b, [n, n]);
      if (tf) tasks.push(tfTask('tfjs-cpu matMul', 'tfjs-cpu', tf, () => tf.matMul(xa!, xb!)));
      return { tasks, dispose: () => { ta.dispose(); tb.dispose(); xa?.dispose(); xb?.dispose(); } };
    },
    gpu(tf) {
      const ga = fp.tensor(a, { shape: [n, n], device: 'webgpu' }), gb = fp.tensor(b, { shape: [n, n], device: 'webgpu' });
      const tasks = WEBGPU_MATMUL.map(([v, o]) => fpTask(v, 'webgpu', () => withMatmulPath(o ?? {}, () => fp.matmul(ga, gb))));
      const xa = tf?.tensor2d(a, [n, n]), xb = tf?.tensor2d(b, [n, n]);
      if (tf) tasks.push(tfTask('tfjs-webgpu matMul', 'tfjs-webgpu', tf, () => tf.matMul(xa!, xb!)));
      return { tasks, dispose: () => { ga.dispose(); gb.dispose(); xa?.dispose(); xb?.dispose(); } };
    },
  };
}

/** Matrix-vector: linear at M = 1, y = x·Wᵀ + b with W [n, n] (the batch-1 layer of every model). */
export function matvecProblem(n: number): Problem {
  const x = randomF32(n, 3 * n), w = randomF32(n * n, 3 * n + 1), bias = randomF32(n, 3 * n + 2);
  const want = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = bias[j]!;
    for (let k = 0; k < n; k++) s += x[k]! * w[j * n + k]!;
    want[j] = s;
  }
  return {
    op: 'matvec', group: `matvec 1x${n}x${n}`, size: n, flops: 2 * n * n, bytes: 4 * (n * n + 3 * n), want, tol: 1e-4 * Math.sqrt(n),
    cpu(tf) {
      const ins = [cpuT(x, [1, n]), cpuT(w, [n, n]), cpuT(bias, [n])];
      const out = cpuT(new Float32Array(n), [1, n]);
      const tasks: KernelTask[] = ['naive', 'ikj', 'tiled', 'packed', 'auto'].map((name) => {
        const k = linearWith(MATMUL_VARIANTS[name]!.fn);
        return { variant: `cpu ${name}`, engine: 'forwardpass' as const, call: () => { k([out], ins, { activation: 'none' }); return out.data; } };
      });
      const tx = fp.tensor(x, { shape: [1, n] }), tw = fp.tensor(w, { shape: [n, n] }), tb = fp.tensor(bias, { shape: [n] });
      tasks.push(fpTask('fp.linear cpu', 'cpu', () => fp.linear(tx, tw, tb)));
      const xs = tf ? [tf.tensor2d(x, [1, n]), tf.tensor2d(w, [n, n]), tf.tensor1d(bias)] : [];
      if (tf) tasks.push(tfTask('tfjs-cpu matMul+add', 'tfjs-cpu', tf, () => tf.add(tf.matMul(xs[0]!, xs[1]!, false, true), xs[2]!)));
      return { tasks, dispose: () => { for (const t of [tx, tw, tb]) t.dispose(); for (const t of xs) t.dispose(); } };
    },
    gpu(tf) {
      const tx = fp.tensor(x, { shape: [1, n], device: 'webgpu' }), tw = fp.tensor(w, { shape: [n, n], device: 'webgpu' }), tb = fp.tensor(bias, { shape: [n], device: 'webgpu' });
      const tasks = WEBGPU_MATVEC.map(([v, o]) => fpTask(v, 'webgpu', () => withMatmulPath(o ?? {}, () => fp.linear(tx, tw, tb))));
      const xs = tf ? [tf.tensor2d(x, [1, n]), tf.tensor2d(w, [n, n]), tf.tensor1d(bias)] : [];
      if (tf) tasks.push(tfTask('tfjs-webgpu matMul+add', 'tfjs-webgpu', tf, () => tf.add(tf.matMul(xs[0]!, xs[1]!, false, true), xs[2]!)));
      return { tasks, dispose: () => { for (const t of [tx, tw, tb]) t.dispose(); for (const t of xs) t.dispose(); } };
    },
  };
}

export interface ConvShape { N: number; C: number; H: number; O: number; k: number; stride: number; groups: number }

/** Naive conv2d (padding k/2, NCHW), float64 sums: the timed 'naive' CPU variant and the reference. */
function convNaive(s: ConvShape, x: Float32Array, w: Float32Array, b: Float32Array, out: Float64Array | Float32Array): void {
  const { N, C, H, O, k, stride, groups } = s;
  const p = k >> 1, Ho = Math.floor((H + 2 * p - k) / stride) + 1, Cg = C / groups, Og = O / groups;
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Ho; ow++) {
    let acc = b[o]!;
    const g = Math.floor(o / Og);
    for (let ci = 0; ci < Cg; ci++) for (let kh = 0; kh < k; kh++) {
      const ih = oh * stride + kh - p;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < k; kw++) {
        const iw = ow * stride + kw - p;
        if (iw < 0 || iw >= H) continue;
        acc += x[((n * C + g * Cg + ci) * H + ih) * H + iw]! * w[((o * Cg + ci) * k + kh) * k + kw]!;
      }
    }
    out[((n * O + o) * Ho + oh) * Ho + ow] = acc;
  }
}

/** conv2d with square input and kernel, padding k/2. */
export function convProblem(s: ConvShape): Problem {
  const { N, C, H, O, k, stride, groups } = s;
  const Cg = C / groups, Ho = Math.floor((H + 2 * (k >> 1) - k) / stride) + 1;
  const x = randomF32(N * C * H * H, 7 + C), w = randomF32(O * Cg * k * k, 8 + O), b = randomF32(O, 9);
  const want = new Float64Array(N * O * Ho * Ho);
  convNaive(s, x, w, b, want);
  const opts = { stride, padding: k >> 1, groups };
  const depthwise = groups === C && groups === O;
  // tfjs takes NHWC input and HWIO (depthwise: H W C 1) filters: inputs are laid out once outside the timing, and
  // its NHWC output is checked against the reference transposed to NHWC
  const wantNhwc = new Float64Array(want.length);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho * Ho; i++) wantNhwc[(n * Ho * Ho + i) * O + o] = want[(n * O + o) * Ho * Ho + i]!;
  const tfArgs = (tf: Tf) => tf.tidy(() => ({
    xt: tf.transpose(tf.tensor4d(x, [N, C, H, H]), [0, 2, 3, 1]),
    wt: depthwise ? tf.transpose(tf.tensor4d(w, [O, 1, k, k]), [2, 3, 0, 1]) : tf.transpose(tf.tensor4d(w, [O, Cg, k, k]), [2, 3, 1, 0]),
    bt: tf.tensor1d(b),
  }));
  const tfConv = (tf: Tf, a: ReturnType<typeof tfArgs>) => () => {
    const y = depthwise ? tf.depthwiseConv2d(a.xt as never, a.wt as never, stride, 'same') : tf.conv2d(a.xt as never, a.wt as never, stride, 'same');
    return tf.add(y, a.bt);
  };
  const label = depthwise ? 'depthwise' : 'conv';
  return {
    op: 'conv2d', group: `conv2d ${label} N${N} C${C} ${H}x${H} O${O} k${k}${stride > 1 ? ` s${stride}` : ''}`, size: N * O * Ho * Ho, flops: 2 * N * O * Ho * Ho * Cg * k * k,
    bytes: 4 * (x.length + w.length + b.length + want.length), want, tol: 1e-4 * Math.sqrt(Cg * k * k),
    cpu(tf) {
      const out = new Float32Array(want.length);
      const tx = fp.tensor(x, { shape: [N, C, H, H] }), tw = fp.tensor(w, { shape: [O, Cg, k, k] }), tb = fp.tensor(b, { shape: [O] });
      const tasks: KernelTask[] = [
        { variant: 'naive loops (reference)', engine: 'reference', call: () => { convNaive(s, x, w, b, out); return out; } },
        fpTask(`fp.conv2d cpu (${conv2dLowering(tw.shape, { stride: [stride, stride], dilation: [1, 1], groups: C / Cg })})`, 'cpu', () => fp.conv2d(tx, tw, tb, opts)),
      ];
      const a = tf ? tfArgs(tf) : null;
      if (tf && a) tasks.push({ ...tfTask(`tfjs-cpu ${depthwise ? 'depthwiseConv2d' : 'conv2d'} (NHWC)`, 'tfjs-cpu', tf, tfConv(tf, a)), want: wantNhwc });
      return { tasks, dispose: () => { for (const t of [tx, tw, tb]) t.dispose(); if (a) for (const t of Object.values(a)) t.dispose(); } };
    },
    gpu(tf) {
      const tx = fp.tensor(x, { shape: [N, C, H, H], device: 'webgpu' }), tw = fp.tensor(w, { shape: [O, Cg, k, k], device: 'webgpu' }), tb = fp.tensor(b, { shape: [O], device: 'webgpu' });
      const tasks: KernelTask[] = [fpTask(`webgpu ${depthwise ? 'conv2d-depthwise' : 'conv2d (implicit gemm)'}`, 'webgpu', () => fp.conv2d(tx, tw, tb, opts))];
      const a = tf ? tfArgs(tf) : null;
      if (tf && a) tasks.push({ ...tfTask(`tfjs-webgpu ${depthwise ? 'depthwiseConv2d' : 'conv2d'} (NHWC)`, 'tfjs-webgpu', tf, tfConv(tf, a)), want: wantNhwc });
      return { tasks, dispose: () => { for (const t of [tx, tw, tb]) t.dispose(); if (a) for (const t of Object.values(a)) t.dispose(); } };
    },
  };
}

export interface AttnShape { B: number; Hh: number; T: number; D: number }

/** Naive attention (no mask), float64: softmax(q·kᵀ/√D)·v per (batch, head, query). */
function attnNaive(s: AttnShape, q: Float32Array, k: Float32Array, v: Float32Array, out: Float64Array | Float32Array): void {
  const { B, Hh, T, D } = s;
  const scale = 1 / Math.sqrt(D), p = new Float64Array(T);
  for (let bh = 0; bh < B * Hh; bh++) for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let j = 0; j < T; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[(bh * T + t) * D + d]! * k[(bh * T + j) * D + d]!;
      p[j] = dot * scale;
      if (p[j]! > max) max = p[j]!;
    }
    let sum = 0;
    for (let j = 0; j < T; j++) sum += p[j] = Math.exp(p[j]! - max);
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let j = 0; j < T; j++) acc += p[j]! * v[(bh * T + j) * D + d]!;
      out[(bh * T + t) * D + d] = acc / sum;
    }
  }
}

/** Self-attention q, k, v [B, Hh, T, D], no mask. */
export function attentionProblem(s: AttnShape): Problem {
  const { B, Hh, T, D } = s;
  const n = B * Hh * T * D;
  const q = randomF32(n, 21 + T), k = randomF32(n, 22 + T), v = randomF32(n, 23 + T);
  const want = new Float64Array(n);
  attnNaive(s, q, k, v, want);
  const shape = [B, Hh, T, D];
  const tfAttn = (tf: Tf, xs: TfTensor[]) => () => tf.matMul(tf.softmax(tf.mul(tf.matMul(xs[0]!, xs[1]!, false, true), 1 / Math.sqrt(D))), xs[2]!);
  const tfInputs = (tf: Tf) => [q, k, v].map((a) => tf.tensor3d(a, [B * Hh, T, D]));
  return {
    op: 'attention', group: `attention B${B} H${Hh} T${T} D${D}`, size: T, flops: 4 * B * Hh * T * T * D, bytes: 16 * n, want, tol: 1e-4,
    cpu(tf) {
      const out = new Float32Array(n);
      const [tq, tk, tv] = [q, k, v].map((a) => fp.tensor(a, { shape }));
      const tasks: KernelTask[] = [
        { variant: 'naive loops (reference)', engine: 'reference', call: () => { attnNaive(s, q, k, v, out); return out; } },
        fpTask('fp.scaledDotProductAttention cpu', 'cpu', () => fp.scaledDotProductAttention(tq!, tk!, tv!)),
      ];
      const xs = tf ? tfInputs(tf) : [];
      if (tf) tasks.push(tfTask('tfjs-cpu matMul+softmax+matMul', 'tfjs-cpu', tf, tfAttn(tf, xs)));
      return { tasks, dispose: () => { for (const t of [tq, tk, tv]) t!.dispose(); for (const t of xs) t.dispose(); } };
    },
    gpu(tf) {
      const [tq, tk, tv] = [q, k, v].map((a) => fp.tensor(a, { shape, device: 'webgpu' }));
      const tasks: KernelTask[] = [fpTask('webgpu sdpa (fused)', 'webgpu', () => fp.scaledDotProductAttention(tq!, tk!, tv!))];
      const xs = tf ? tfInputs(tf) : [];
      if (tf) tasks.push(tfTask('tfjs-webgpu matMul+softmax+matMul', 'tfjs-webgpu', tf, tfAttn(tf, xs)));
      return { tasks, dispose: () => { for (const t of [tq, tk, tv]) t!.dispose(); for (const t of xs) t.dispose(); } };
    },
  };
}
