// sum / mean / prod / max / min over one block of consecutive axes on the Wasm fast path against the typed-array twin:
// the same fold order with the same float64 (sum, mean, prod) or float32 comparison (max, min) steps, so bit for bit,
// NaN (wins), ±Inf, -0 against 0 (the first stays) included; other reductions stay on the twin.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { reduceModuleBytes, reducePlan } from '../../src/backends/cpu/wasm/reduce.js';
import { wasmHeapTop } from '../../src/backends/cpu/wasm/memory.js';
import { onnxModel } from '../io/onnx/writer.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

const OPS = { sum: fp.sum, mean: fp.mean, prod: fp.prod, max: fp.max, min: fp.min } as const;
type Op = keyof typeof OPS;

function both(op: Op, x: fp.Tensor, axis: number | number[], keepdim = false): [number[], number[], string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === op) variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = Array.from(OPS[op](x, { axis, keepdim }).dataSync() as Float32Array);
  off();
  setCpuFastPath(false);
  return [fast, Array.from(OPS[op](x, { axis, keepdim }).dataSync() as Float32Array), variant];
}
const mismatches = (a: number[], b: number[]) => a.flatMap((v, i) => (Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)) ? [] : [[i, v, b[i]]])).slice(0, 5);

/** Values in [-2, 2] (prod stays finite over a few hundred factors only near 1: `near1` for prod) with edges sprinkled. */
function t(shape: number[], seed: number, near1 = false, dtype: 'float32' | 'float16' = 'float32'): fp.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = near1 ? randomArray(n, seed, 0.97, 1.03) : randomArray(n, seed, -2, 2);
  const edges = [NaN, Infinity, -Infinity, -0, 0, 1e-40, -3e38];
  for (let i = 0; i < edges.length && (i * 37 + 5) < n; i++) d[i * 37 + 5] = edges[i]!;
  for (let i = 11; i < n; i += 41) d[i] = 0; // zeros next to -0s for max / min ties
  for (let i = 12; i < n; i += 41) d[i] = -0;
  return fp.tensor(d, { shape, dtype });
}

describe('reductions on the Wasm fast path', () => {
  test('the module validates; the plan folds size-1 dims and needs one block of axes', () => {
    expect(WebAssembly.validate(reduceModuleBytes())).toBe(true);
    expect(reducePlan([2, 512, 7, 7], [2, 3])).toEqual({ outer: 1024, R: 49, inner: 1 });
    expect(reducePlan([8, 1, 16, 64], [1, 2])).toEqual({ outer: 8, R: 16, inner: 64 });
    expect(reducePlan([4, 1, 5], [0, 2])).toEqual({ outer: 1, R: 20, inner: 1 }); // the size-1 dim between does not split the block
    expect(reducePlan([4, 3, 5], [0, 2])).toBeNull();
    expect(reducePlan([4, 3, 5], [1, 1].slice(1))).toEqual({ outer: 4, R: 3, inner: 5 });
    expect(reducePlan([4, 1, 5], [1])).toBeNull();
  });

  test.each([
    [[255, 17], -1], [[3, 1, 33], [1, 2]], [[64, 3], 1], [[2, 16, 7, 7], [2, 3]], [[8, 16, 384], -1], [[5, 255], 1], [[1, 1023], -1], [[7, 1, 65], [1, 2]],
  ] as [number[], number | number[]][])('rows: %j over %j, the twin bit for bit', (shape, axis) => {
    for (const op of Object.keys(OPS) as Op[]) {
      const [fast, ref, variant] = both(op, t(shape, 1, op === 'prod'), axis);
      expect(variant).toBe(`${op}-wasm-rows`);
      expect(mismatches(fast, ref)).toEqual([]);
    }
  });

  test.each([
    [[2, 16, 7, 7], 1], [[17, 3, 5], 0], [[4, 255, 3], 1], [[3, 5, 17, 2], [1, 2]], [[64, 2], 0], [[2, 3, 4, 33], [0, 1]],
  ] as [number[], number | number[]][])('columns: %j over %j, the twin bit for bit (keepdim too)', (shape, axis) => {
    for (const op of Object.keys(OPS) as Op[]) {
      for (const keepdim of [false, true]) {
        const [fast, ref, variant] = both(op, t(shape, 2, op === 'prod'), axis, keepdim);
        expect(variant).toBe(`${op}-wasm-simd-cols`);
        expect(mismatches(fast, ref)).toEqual([]);
      }
    }
  });

  test('all axes, float16, a column of NaN and a row that is all -0 then 0', () => {
    const x = t([9, 13], 3);
    for (const op of ['sum', 'mean', 'max', 'min'] as Op[]) {
      const [fast, ref, variant] = both(op, x, [0, 1]);
      expect(variant).toBe(`${op}-wasm-rows`);
      expect(mismatches(fast, ref)).toEqual([]);
      const [f16, r16, v16] = both(op, t([6, 40], 4, false, 'float16'), 0);
      expect(v16).toBe(`${op}-wasm-simd-cols`);
      expect(f16).toEqual(r16);
    }
    const d = new Float32Array(8 * 16).fill(1);
    for (let r = 0; r < 8; r++) d[r * 16 + 3] = NaN;
    for (let c = 0; c < 16; c++) { d[2 * 16 + c] = c < 8 ? -0 : 0; d[5 * 16 + c] = c < 8 ? 0 : -0; } // rows 2 and 5: no NaN
    const y = fp.tensor(d, { shape: [8, 16] });
    for (const op of Object.keys(OPS) as Op[]) for (const axis of [0, 1]) expect(mismatches(...(both(op, y, axis).slice(0, 2) as [number[], number[]]))).toEqual([]);
    const rowMax = Array.from(fp.max(y, { axis: 1 }).dataSync() as Float32Array);
    expect([Object.is(rowMax[2], -0), Object.is(rowMax[5], 0), Number.isNaN(rowMax[0])]).toEqual([true, true, true]);
  });

  test('small tensors, split axes and integer tensors stay on the twin', () => {
    expect(both('sum', t([3, 5], 5), -1)[2]).toBe('');
    expect(both('sum', t([255, 1], 5), -1)[2]).toBe(''); // only a size-1 dim: nothing to fold
    expect(both('sum', t([4, 8, 5], 6), [0, 2])[2]).toBe('');
    const i = fp.tensor(Int32Array.from({ length: 128 }, (_, k) => k - 60), { shape: [2, 64], dtype: 'int32' });
    expect(both('sum', i, -1)[2]).toBe('');
  });

  test('an exported graph\'s decomposed LayerNorm, Clip, Transpose and ReduceMax: every op on the fast path, named in the trace, the same bits as the twin', async () => {
    const D = 48, f = (name: string, dims: number[], data: number[]) => ({ name, type: 'float' as const, dims, data });
    const bytes = onnxModel({
      nodes: [
        { op: 'ReduceMean', inputs: ['x'], outputs: ['mu'], attrs: { axes: [-1], keepdims: 1 } },
        { op: 'Sub', inputs: ['x', 'mu'], outputs: ['d'] },
        { op: 'Pow', inputs: ['d', 'two'], outputs: ['d2'] },
        { op: 'ReduceMean', inputs: ['d2'], outputs: ['var'], attrs: { axes: [-1], keepdims: 1 } },
        { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
        { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
        { op: 'Div', inputs: ['d', 'sd'], outputs: ['n'] },
        { op: 'Mul', inputs: ['n', 'g'], outputs: ['ng'] },
        { op: 'Add', inputs: ['ng', 'b'], outputs: ['y'] },
        { op: 'Clip', inputs: ['y', 'lo', 'hi'], outputs: ['c'] },
        { op: 'Transpose', inputs: ['c'], outputs: ['t'], attrs: { perm: [0, 2, 1] } },
        { op: 'ReduceMax', inputs: ['t'], outputs: ['out'], attrs: { axes: [1], keepdims: 0 } },
      ],
      initializers: [f('two', [], [2]), f('eps', [], [1e-5]), f('g', [D], Array.from(randomArray(D, 2, 0.5, 1.5))), f('b', [D], Array.from(randomArray(D, 3))),
        f('lo', [], [-1]), f('hi', [], [1])],
      inputs: [{ name: 'x', type: 'float', shape: [4, 40, D] }],
      outputs: [{ name: 'out', type: 'float', shape: [4, 40] }],
    });
    const s = await fp.loadOnnx(bytes, { backend: 'cpu' });
    const x = fp.tensor(randomArray(4 * 40 * D, 1, -3, 3), { shape: [4, 40, D] });
    const run = async (on: boolean): Promise<[string[], number[]]> => {
      setCpuFastPath(on);
      const t = await s.trace({ x });
      const { out } = await s.run({ x });
      return [t.records.map((r) => r.variant ?? ''), Array.from(out!.dataSync() as Float32Array)];
    };
    const [on, fast] = await run(true);
    expect(on).toEqual(['mean-wasm-rows', 'sub-wasm-simd-broadcast', 'pow-wasm-simd-square', 'mean-wasm-rows', 'add-wasm-simd-broadcast', 'sqrt-wasm-simd',
      'div-wasm-simd-broadcast', 'mul-wasm-simd-broadcast', 'add-wasm-simd-broadcast', 'clamp-wasm-simd', 'copy-wasm-transpose-4x4', 'max-wasm-simd-cols']);
    const [off, ref] = await run(false);
    expect(off.filter((v) => v.includes('wasm'))).toEqual([]);
    expect(mismatches(fast, ref)).toEqual([]);
    s.dispose();
  });

  test('runs of changing sizes leave memory() and the Wasm heap flat (the scratch block is reused)', () => {
    const step = (i: number) => fp.scopeSync(() => {
      const n = 5 + (i % 9), x = fp.tensor(randomArray(3 * n * (n + 60), i), { shape: [3, n, n + 60] });
      fp.mean(x, { axis: -1 }); fp.max(x, { axis: 1 }); fp.sum(x, { axis: [0, 1] });
      fp.add(x, fp.tensor(randomArray(n, i + 1), { shape: [1, n, 1] })); fp.mul(x, x);
      fp.pow(x, fp.tensor(new Float32Array([2]), { shape: [] })); fp.sqrt(x); fp.clamp(x, -0.5, 0.5);
      x.transpose(1, 2).contiguous();
    });
    for (let i = 0; i < 30; i++) step(i);
    const m0 = fp.cpuBackend.memory(), top0 = wasmHeapTop();
    for (let i = 30; i < 330; i++) step(i);
    expect(fp.cpuBackend.memory()).toEqual(m0);
    expect(wasmHeapTop()).toBe(top0);
  });
});
