// Load-time fusions of the ONNX runtime (src/io/onnx/fuse.ts): each pattern runs fewer kernel ops with the same
// outputs as `optimize: false` and as naive loops; patterns that must not fuse keep their ops; int8 and f16 still work.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { maxAbsDiff, randomArray } from '../../helpers.js';
import { f32c, makeModel, type Const, type NodeSpec } from './session-helpers.js';

type Inputs = Record<string, [string, (number | string | null)[]]>;

/** Run a model with and without fusion: outputs, kernel ops executed, and the fused session's plan steps. */
async function both(nodes: NodeSpec[], inputs: Inputs, outputs: string[], inits: Record<string, Const>, feeds: Record<string, fp.Tensor>, precision: 'f32' | 'f16' | 'int8' = 'f32') {
  const res = [];
  for (const optimize of [false, true]) {
    const s = await fp.OnnxSession.fromModel(makeModel(17, nodes, inputs, outputs, inits), { backend: 'cpu', precision, optimize });
    const ops: string[] = [];
    const off = fp.addOpHook((e) => ops.push(e.op));
    const out = await s.run(feeds);
    off();
    const steps: string[] = [];
    for await (const st of s.stepwise(feeds)) steps.push(`${st.label}:${st.opType}`);
    const values: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(out)) { values[k] = Float32Array.from(await t.data() as Float32Array); t.dispose(); }
    res.push({ ops, values, steps, planSize: s.planSize });
    s.dispose();
  }
  return { plain: res[0]!, fused: res[1]! };
}

/** max |a - b| / max(|b|, 1e-3). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-3));
  return d;
}

const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;

/** Naive x [M, K] · w [K, N] + b [N]. */
function naiveLinear(x: Float32Array, w: Float32Array, b: Float32Array | null, M: number, K: number, N: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = b ? b[n]! : 0;
    for (let k = 0; k < K; k++) s += x[m * K + k]! * w[k * N + n]!;
    y[m * N + n] = s;
  }
  return y;
}

/** Naive erf: its Maclaurin series (60 terms: good to 1e-9 for |x| <= 3). */
function erf(x: number): number {
  let sum = x, term = x;
  for (let n = 1; n < 60; n++) { term *= -x * x / n; sum += term / (2 * n + 1); }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const X_IN: Inputs = { x: ['float', [2, 3, 4]] };
const xs = () => fp.tensor(randomArray(24, 1), { shape: [2, 3, 4] });
const W = f32c(randomArray(20, 2), [4, 5]);
const Bias = f32c(randomArray(5, 3), [5]);
const mm = (out = 'h'): NodeSpec => ({ op: 'MatMul', inputs: ['x', 'w'], outputs: [out], name: 'lin/MatMul' });

describe('ONNX load-time fusions', () => {
  it('MatMul(x, W const) + Add(bias const) runs one linear, bias on either side of the Add', async () => {
    for (const order of [['h', 'b'], ['b', 'h']]) {
      const r = await both([mm(), { op: 'Add', inputs: order, outputs: ['y'], name: 'lin/Add' }], X_IN, ['y'], { w: W, b: Bias }, { x: xs() });
      expect(r.plain.ops).toEqual(['matmul', 'add']);
      expect(r.fused.ops).toEqual(['linear']);
      expect(r.fused.steps).toEqual(['lin/MatMul:MatMul+Add']);
      expect(relDiff(r.fused.values.y!, r.plain.values.y!)).toBeLessThan(1e-6);
      const want = naiveLinear(randomArray(24, 1), W.const as Float32Array, Bias.const as Float32Array, 6, 4, 5);
      expect(relDiff(r.fused.values.y!, want)).toBeLessThan(1e-5);
    }
  });

  it('Gemm with a constant B (transB 0 and 1) and a [1, N] C runs one linear without copies', async () => {
    const x = fp.tensor(randomArray(12, 4), { shape: [3, 4] });
    const wT = f32c(Array.from({ length: 20 }, (_, i) => (W.const as Float32Array)[(i % 4) * 5 + Math.floor(i / 4)]!), [5, 4]);
    for (const [transB, w] of [[0, W], [1, wT]] as const) {
      const r = await both([{ op: 'Gemm', inputs: ['x', 'w', 'c'], outputs: ['y'], attrs: { transB } }], { x: ['float', [3, 4]] }, ['y'], { w, c: f32c(Bias.const as Float32Array, [1, 5]) }, { x });
      expect(r.fused.ops).toEqual(['linear']);
      const want = naiveLinear(randomArray(12, 4), W.const as Float32Array, Bias.const as Float32Array, 3, 4, 5);
      expect(relDiff(r.fused.values.y!, want)).toBeLessThan(1e-5);
      expect(relDiff(r.fused.values.y!, r.plain.values.y!)).toBeLessThan(1e-6);
    }
  });

  it('the exact-erf GELU subgraph (Div, Erf, Add, Mul, Mul) runs one gelu', async () => {
    const nodes: NodeSpec[] = [
      { op: 'Div', inputs: ['x', 'sqrt2'], outputs: ['d'], name: 'g/Div' },
      { op: 'Erf', inputs: ['d'], outputs: ['e'] },
      { op: 'Add', inputs: ['e', 'one'], outputs: ['a'] },
      { op: 'Mul', inputs: ['x', 'a'], outputs: ['m'] },
      { op: 'Mul', inputs: ['m', 'half'], outputs: ['y'] },
    ];
    const inits = { sqrt2: f32c([Math.SQRT2], []), one: f32c([1], []), half: f32c([0.5], []) };
    const x = fp.tensor(randomArray(24, 5, -4, 4), { shape: [2, 3, 4] });
    const r = await both(nodes, X_IN, ['y'], inits, { x });
    expect(r.plain.ops).toEqual(['div', 'erf', 'add', 'mul', 'mul']);
    expect(r.fused.ops).toEqual(['gelu']);
    expect(r.fused.steps).toEqual(['g/Div:Gelu']);
    expect(maxAbsDiff(r.fused.values.y!, r.plain.values.y!)).toBeLessThan(1e-6);
    const want = Array.from(randomArray(24, 5, -4, 4), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    expect(maxAbsDiff(r.fused.values.y!, want)).toBeLessThan(1e-6); // 1 + erf(x) cancels for x << 0: absolute
  });

  it('the tanh GELU subgraph (as tiny-gpt exports it) runs one geluTanh, after a fused linear', async () => {
    const nodes: NodeSpec[] = [
      mm(), { op: 'Add', inputs: ['b', 'h'], outputs: ['x1'] },
      { op: 'Mul', inputs: ['x1', 'x1'], outputs: ['sq'], name: 'g/Mul' },
      { op: 'Mul', inputs: ['x1', 'sq'], outputs: ['cube'] },
      { op: 'Mul', inputs: ['c044', 'cube'], outputs: ['t1'] },
      { op: 'Add', inputs: ['x1', 't1'], outputs: ['t2'] },
      { op: 'Mul', inputs: ['c079', 't2'], outputs: ['t3'] },
      { op: 'Tanh', inputs: ['t3'], outputs: ['t4'] },
      { op: 'Add', inputs: ['one', 't4'], outputs: ['t5'] },
      { op: 'Mul', inputs: ['x1', 't5'], outputs: ['t6'] },
      { op: 'Mul', inputs: ['half', 't6'], outputs: ['y'] },
    ];
    const inits = { w: W, b: Bias, c044: f32c([0.044715], []), c079: f32c([Math.sqrt(2 / Math.PI)], []), one: f32c([1], []), half: f32c([0.5], []) };
    const r = await both(nodes, X_IN, ['y'], inits, { x: xs() });
    expect(r.plain.ops.length).toBe(11);
    expect(r.fused.ops).toEqual(['linear', 'geluTanh']);
    expect(r.fused.steps).toEqual(['lin/MatMul:MatMul+Add', 'g/Mul:Gelu']);
    expect(relDiff(r.fused.values.y!, r.plain.values.y!)).toBeLessThan(1e-5);
    const h = naiveLinear(randomArray(24, 1), W.const as Float32Array, Bias.const as Float32Array, 6, 4, 5);
    const want = Array.from(h, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    expect(relDiff(r.fused.values.y!, want)).toBeLessThan(1e-5);
  });

  it('does not fuse when the intermediate is a graph output, has two consumers, the weight is computed, or the bias broadcasts', async () => {
    const add = (a: string, b: string, out = 'y'): NodeSpec => ({ op: 'Add', inputs: [a, b], outputs: [out] });
    // h is also a graph output: MatMul runs as linear (weight transposed at load), the Add stays
    let r = await both([mm(), add('h', 'b')], X_IN, ['y', 'h'], { w: W, b: Bias }, { x: xs() });
    expect(r.fused.ops).toEqual(['linear', 'add']);
    expect(relDiff(r.fused.values.h!, r.plain.values.h!)).toBeLessThan(1e-6);
    expect(relDiff(r.fused.values.y!, r.plain.values.y!)).toBeLessThan(1e-6);
    // h has a second reader
    r = await both([mm(), add('h', 'b'), add('h', 'y', 'z')], X_IN, ['z'], { w: W, b: Bias }, { x: xs() });
    expect(count(r.fused.ops, 'add')).toBe(2);
    expect(relDiff(r.fused.values.z!, r.plain.values.z!)).toBeLessThan(1e-6);
    // the weight is a graph input
    r = await both([mm(), add('h', 'b')], { ...X_IN, w: ['float', [4, 5]] }, ['y'], { b: Bias }, { x: xs(), w: fp.tensor(W.const as Float32Array, { shape: [4, 5] }) });
    expect(r.fused.ops).toEqual(['matmul', 'add']);
    // a [3, 5] bias broadcasts over rows: not a linear bias
    r = await both([mm(), add('h', 'b')], X_IN, ['y'], { w: W, b: f32c(randomArray(15, 6), [3, 5]) }, { x: xs() });
    expect(r.fused.ops).toEqual(['linear', 'add']);
    expect(relDiff(r.fused.values.y!, r.plain.values.y!)).toBeLessThan(1e-6);
    // a GELU whose Erf output is also a graph output stays as it is
    const gelu: NodeSpec[] = [
      { op: 'Div', inputs: ['x', 'sqrt2'], outputs: ['d'] }, { op: 'Erf', inputs: ['d'], outputs: ['e'] },
      { op: 'Add', inputs: ['e', 'one'], outputs: ['a'] }, { op: 'Mul', inputs: ['x', 'a'], outputs: ['m'] }, { op: 'Mul', inputs: ['m', 'half'], outputs: ['y'] },
    ];
    r = await both(gelu, X_IN, ['y', 'e'], { sqrt2: f32c([Math.SQRT2], []), one: f32c([1], []), half: f32c([0.5], []) }, { x: xs() });
    expect(r.fused.ops).toEqual(r.plain.ops);
    // a wrong constant (0.6 instead of 0.5) is not a GELU
    r = await both(gelu, X_IN, ['y'], { sqrt2: f32c([Math.SQRT2], []), one: f32c([1], []), half: f32c([0.6], []) }, { x: xs() });
    expect(r.fused.ops).toEqual(r.plain.ops);
    expect(relDiff(r.fused.values.y!, r.plain.values.y!)).toBe(0);
  });

  it('a Gemm fused to linear still refuses a 3-D A', async () => {
    const m = makeModel(17, [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], name: 'fc' }], { x: ['float', [null, null, 4]] }, ['y'], { w: W });
    const s = await fp.OnnxSession.fromModel(m, { backend: 'cpu' });
    await expect(s.run({ x: xs() })).rejects.toThrow("forwardpass: onnx: node 'fc' (Gemm->linear): A must be 2-D, found [2, 3, 4]");
    s.dispose();
  });

  it('int8: a fused MatMul + Add is one quantized linear (bias inside); f16: the fused plan stays close to f32', async () => {
    const nodes = [mm(), { op: 'Add', inputs: ['h', 'b'], outputs: ['y'] }];
    const r8 = await both(nodes, X_IN, ['y'], { w: W, b: Bias }, { x: xs() }, 'int8');
    expect(r8.plain.ops).toContain('add');
    expect(r8.fused.ops).not.toContain('add');
    expect(r8.fused.ops).toContain('linearInt8');
    expect(relDiff(r8.fused.values.y!, r8.plain.values.y!)).toBeLessThan(1e-5);
    const want = naiveLinear(randomArray(24, 1), W.const as Float32Array, Bias.const as Float32Array, 6, 4, 5);
    expect(relDiff(r8.fused.values.y!, want)).toBeLessThan(0.05);
    const r16 = await both(nodes, X_IN, ['y'], { w: W, b: Bias }, { x: xs() }, 'f16');
    expect(r16.fused.ops).toContain('linear');
    expect(r16.fused.ops).not.toContain('add');
    expect(relDiff(r16.fused.values.y!, want)).toBeLessThan(2e-2);
  });
});
