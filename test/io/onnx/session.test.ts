// The ONNX session itself: load-time errors (unsupported ops listed once, cycles, missing or doubled producers,
// malformed attributes, int64 values beyond int32), pruning and constant folding, symbolic shape inference through
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape, run-time input checks, and which constants precision 'f16' rounds.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { f32c, i64, makeModel, type NodeSpec } from './session-helpers.js';

const load = (m: fp.OnnxModel) => fp.OnnxSession.fromModel(m, { backend: 'cpu' });
const relu = (i: string, o: string, name?: string): NodeSpec => ({ op: 'Relu', inputs: [i], outputs: [o], ...(name ? { name } : {}) });
const X = { x: ['float', ['batch', 4]] as [string, (number | string)[]] };

/** x [batch, seq, 8] -> reshape to [batch, seq, 2, 4] through shape arithmetic, then Relu. */
function attentionLike(): fp.OnnxModel {
  return makeModel(17, [
    { op: 'Shape', inputs: ['x'], outputs: ['s'] },
    { op: 'Gather', inputs: ['s', 'zero'], outputs: ['b'], attrs: { axis: 0 } },
    { op: 'Gather', inputs: ['s', 'one'], outputs: ['t'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['b', 'ax0'], outputs: ['b1'] },
    { op: 'Unsqueeze', inputs: ['t', 'ax0'], outputs: ['t1'] },
    { op: 'Concat', inputs: ['b1', 't1', 'heads'], outputs: ['shape'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
    relu('r', 'y'),
    relu('x', 'unused'),
  ], { x: ['float', ['batch', 'seq', 8]] }, ['y'], { zero: i64([0], []), one: i64([1], []), ax0: i64([0]), heads: i64([2, 4]) });
}

describe('ONNX session: loading', () => {
  it('lists every unsupported op type once, with its first node, count and the opset', async () => {
    const m = makeModel(17, [relu('x', 'a'), { op: 'FooOp', inputs: ['a'], outputs: ['b'], name: 'n3' }, { op: 'BarOp', inputs: ['b'], outputs: ['c'], name: 'n9' }, { op: 'FooOp', inputs: ['c'], outputs: ['y'] }], X, ['y']);
    await expect(load(m)).rejects.toThrow("forwardpass: onnx: unsupported ops (opset 17): FooOp (node 'n3', 2 nodes), BarOp (node 'n9')");
    expect(fp.onnxOpSupport(m)).toEqual([
      { opType: 'BarOp', domain: '', count: 1, cpu: false, webgpu: false },
      { opType: 'FooOp', domain: '', count: 2, cpu: false, webgpu: false },
      { opType: 'Relu', domain: '', count: 1, cpu: true, webgpu: true },
    ]);
  });

  it('takes the backend as `backend` or `device`, and refuses the two when they disagree', async () => {
    const m = makeModel(17, [relu('x', 'y')], X, ['y']);
    expect((await fp.OnnxSession.fromModel(m, { device: 'cpu' })).backend).toBe('cpu');
    expect((await fp.OnnxSession.fromModel(m, { backend: 'cpu', device: 'cpu' })).backend).toBe('cpu');
    await expect(fp.OnnxSession.fromModel(m, { backend: 'cpu', device: 'webgpu' })).rejects.toThrow("forwardpass: onnx: load: backend 'cpu' and device 'webgpu' disagree; give one of them");
  });

  it('refuses cycles, values nobody produces, and values produced twice', async () => {
    await expect(load(makeModel(17, [relu('b', 'a', 'p'), relu('a', 'b', 'q'), relu('a', 'y')], X, ['y']))).rejects.toThrow(/forwardpass: onnx: the graph has a cycle: 3 nodes wait on each other \('p' \(Relu\), 'q' \(Relu\)/);
    await expect(load(makeModel(17, [relu('nowhere', 'y', 'r')], X, ['y']))).rejects.toThrow("forwardpass: onnx: node 'r' (Relu) reads 'nowhere', which no node, initializer or graph input produces");
    await expect(load(makeModel(17, [relu('x', 'y', 'r1'), relu('x', 'y', 'r2')], X, ['y']))).rejects.toThrow(/value 'y' is produced by node 'r2' \(Relu\) and also by node 'r1'/);
  });

  it('sorts nodes given out of order, drops dead nodes and folds constant subgraphs', async () => {
    const m = makeModel(17, [
      { op: 'Add', inputs: ['h', 'c2'], outputs: ['y'] },
      relu('x', 'h'),
      { op: 'Mul', inputs: ['c', 'c'], outputs: ['c2'] }, // constant: folded at load
      relu('x', 'dead'),
    ], X, ['y'], { c: f32c([1, 2, 3, 4]) });
    const s = await load(m);
    expect(s.planSize).toBe(2);
    const { y } = await s.run({ x: fp.tensor([[-1, 1, -1, 1]]) });
    expect(Array.from(await y!.data())).toEqual([1, 5, 9, 17]);
  });

  it('infers symbolic shapes through Shape -> Gather -> Unsqueeze -> Concat -> Reshape, and folds none of it wrongly', async () => {
    const s = await load(attentionLike());
    expect(s.outputs[0]!.shape).toEqual(['batch', 'seq', 2, 4]);
    expect(s.planSize).toBe(8); // the dead Relu is gone; Shape-chain nodes stay (they depend on the input's dims)
    const x = fp.randn([3, 5, 8], { seed: 2 });
    const { y } = await s.run({ x });
    expect(y!.shape).toEqual([3, 5, 2, 4]);
    expect(Array.from(await y!.data())).toEqual(Array.from(await x.data(), (v) => Math.max(v, 0)));
  });

  it('names node, attribute, expected and found for a malformed attribute', async () => {
    const m = makeModel(17, [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], name: 'g', attrs: { transB: { float: 1.5 } } }], X, ['y'], { w: f32c([1, 2, 3, 4], [4, 1]) });
    // caught at load, by shape inference
    await expect(load(m)).rejects.toThrow("forwardpass: onnx: node 'g' (Gemm): attribute 'transB' must be an int, found a float attribute");
    const c = makeModel(17, [{ op: 'Cast', inputs: ['x'], outputs: ['y'], name: 'c', attrs: {} }], X, ['y']);
    await expect(load(c)).rejects.toThrow("forwardpass: onnx: node 'c' (Cast): attribute 'to' must be an int, found none (it is required)");
    const p = makeModel(17, [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], name: 'p', attrs: { kernel_shape: [2, 2], ceil_mode: 2 } }], { x: ['float', [1, 1, 4, 4]] }, ['y']);
    // caught at load too, by the op's validate hook
    await expect(load(p)).rejects.toThrow("forwardpass: onnx: node 'p' (MaxPool): attribute 'ceil_mode' must be one of 0, 1, found 2");
  });

  it('refuses int64 constants beyond int32 except Slice starts/ends, which are clamped', async () => {
    const big = 2n ** 40n;
    const m = makeModel(17, [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }], { x: ['int64', [1]] }, ['y'], { k: i64([big]) });
    await expect(load(m)).rejects.toThrow("forwardpass: onnx: initializer 'k' holds the int64 value 1099511627776 at index 0, which does not fit int32");
    const sl = makeModel(17, [{ op: 'Slice', inputs: ['x', 'st', 'en'], outputs: ['y'] }], { x: ['float', [4]] }, ['y'], { st: i64([1]), en: i64([big]) });
    const { y } = await (await load(sl)).run({ x: fp.tensor([1, 2, 3, 4]) });
    expect(Array.from(await y!.data())).toEqual([2, 3, 4]);
  });
});

describe('ONNX session: running', () => {
  const model = () => makeModel(17, [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }], { a: ['float', ['batch', 3]], b: ['int64', ['batch', 3]] }, ['y']);

  it('checks input names, dtypes, ranks, fixed dims and symbolic dims across inputs', async () => {
    const s = await load(model());
    const a = fp.ones([2, 3]), b = fp.ones([2, 3], { dtype: 'int32' });
    await expect(s.run({ a, b, c: a })).rejects.toThrow("forwardpass: onnx: run: unknown input 'c'; the model's inputs are a (float32 [batch, 3]), b (int64 as int32 [batch, 3])");
    await expect(s.run({ a })).rejects.toThrow("forwardpass: onnx: run: missing input 'b'; the model's inputs are a (float32 [batch, 3])");
    await expect(s.run({ a, b: fp.ones([2, 3]) })).rejects.toThrow("forwardpass: onnx: run: input 'b' must be int32 (ONNX int64; forwardpass holds int64 as int32), got a float32 tensor");
    await expect(s.run({ a: fp.ones([2, 3, 1]), b })).rejects.toThrow("forwardpass: onnx: run: input 'a' must have rank 2");
    await expect(s.run({ a: fp.ones([2, 4]), b })).rejects.toThrow("forwardpass: onnx: run: input 'a' must have shape [batch, 3], got [2, 4] (dim 1 is 4, expected 3)");
    await expect(s.run({ a: fp.ones([5, 3]), b })).rejects.toThrow("forwardpass: onnx: run: dim 'batch' is 5 in input 'a' but 2 in input 'b'");
    const { y } = await s.run({ a, b });
    expect(Array.from(await y!.data())).toEqual([2, 2, 2, 2, 2, 2]);
    expect(a.disposed || b.disposed).toBe(false); // the caller's tensors are never freed by the session
  });

  it('takes typed arrays (BigInt64Array for int64) shaped from the declaration', async () => {
    const s = await load(model());
    const { y } = await s.run({ a: new Float32Array([1, 2, 3]), b: new BigInt64Array([1n, 2n, 3n]) });
    expect(y!.shape).toEqual([1, 3]);
    expect(Array.from(await y!.data())).toEqual([2, 4, 6]);
    await expect(s.run({ a: new Float32Array([1, 2]), b: new Int32Array(3) })).rejects.toThrow("input 'a': a typed array of 2 values cannot be shaped as [batch, 3]");
    await expect(s.run({ a: new Float32Array(3), b: new BigInt64Array([2n ** 33n, 0n, 0n]) })).rejects.toThrow('does not fit int32');
    await expect(s.run({ a: new Int32Array(3), b: new Int32Array(3) })).rejects.toThrow("input 'a' must be float32, got a Int32Array");
  });

  it('takes a float16 input as float32 values (converted) or raw half bits, never as bytes', async () => {
    const s = await load(makeModel(17, [relu('x', 'y')], { x: ['float16', [1, 3]] }, ['y']));
    const want = [1.5, 0, 65504];
    const a = await s.run({ x: new Float32Array([1.5, -2, 65504]) });
    expect(a.y!.dtype).toBe('float16');
    expect(Array.from(await a.y!.data())).toEqual(want);
    const bits = Uint16Array.from([1.5, -2, 65504], (v) => fp.f32ToF16(v));
    const b = await s.run({ x: bits });
    expect(Array.from(await b.y!.data())).toEqual(want);
    await expect(s.run({ x: new Uint8Array(3) })).rejects.toThrow("forwardpass: onnx: run: input 'x' must be float16 (a Float32Array, or a Uint16Array of raw half bits), got a Uint8Array");
    await expect(load(makeModel(17, [relu('x', 'y')], X, ['y'])).then((f) => f.run({ x: new Uint16Array(4) }))).rejects.toThrow("input 'x' must be float32, got a Uint16Array");
  });

  it('checks the rank of a scalar input; an input declared without a shape takes any shape', async () => {
    const scalar = await load(makeModel(17, [relu('x', 'y')], { x: ['float', []] }, ['y']));
    expect(scalar.inputs[0]!.shape).toEqual([]);
    expect(scalar.inputs[0]!.shapeKnown).toBe(true);
    await expect(scalar.run({ x: fp.ones([2]) })).rejects.toThrow("forwardpass: onnx: run: input 'x' must have rank 0 [], got shape [2]");
    expect(Array.from(await (await scalar.run({ x: fp.tensor(-3) })).y!.data())).toEqual([0]);
    const m = makeModel(17, [relu('x', 'y')], { x: ['float', []] }, ['y']);
    delete m.graph.inputs[0]!.shape;
    const free = await load(m);
    expect(free.inputs[0]!.shapeKnown).toBe(false);
    const { y } = await free.run({ x: fp.tensor([[-1, 2], [3, -4]]) });
    expect(y!.shape).toEqual([2, 2]);
    expect(Array.from(await y!.data())).toEqual([0, 2, 3, 0]);
    await expect(free.run({ x: new Float32Array(4) })).rejects.toThrow("forwardpass: onnx: run: input 'x': the model declares no shape for it, so a typed array cannot be shaped; pass a Tensor");
  });

  it('refuses reading an optional output the op does not produce, and a disposed session', async () => {
    // an op of a test domain that never makes its second output (every built-in op makes the outputs it is wired to)
    if (!fp.registeredOnnxOps('test.forwardpass').includes('FirstOnly')) fp.registerOnnxOp('FirstOnly', { run: (c) => [c.input(0), undefined] }, 'test.forwardpass');
    const m = makeModel(17, [{ op: 'FirstOnly', inputs: ['x'], outputs: ['n', 'extra'], name: 'ln' }, { op: 'Add', inputs: ['n', 'extra'], outputs: ['y'] }], X, ['y']);
    m.graph.nodes[0]!.domain = 'test.forwardpass';
    m.opsetImport.push({ domain: 'test.forwardpass', version: 1 });
    const s = await load(m);
    await expect(s.run({ x: fp.ones([1, 4]) })).rejects.toThrow("node 'ln' (FirstOnly) does not produce its optional output 1 ('extra'), which the graph reads");
    s.dispose();
    await expect(s.run({ x: fp.ones([1, 4]) })).rejects.toThrow('forwardpass: onnx: run: the session was disposed');
  });

  it("precision 'f16' rounds data constants only: comparison thresholds, host inputs (even when shared) and values float16 cannot hold stay exact", async () => {
    const f16 = (v: number) => fp.f16ArrayToF32(fp.f32ArrayToF16([v]))[0]!;
    const thr = [0.1, 0.2, 0.3];
    const m = makeModel(17, [
      { op: 'Less', inputs: ['a', 'thr'], outputs: ['lt'] },
      { op: 'Equal', inputs: ['a', 'thr'], outputs: ['eq'] },
      { op: 'Mul', inputs: ['a', 'w'], outputs: ['scaled'] }, // a weight: rounded to float16
      { op: 'Add', inputs: ['a', 'big'], outputs: ['offset'] }, // overflows float16: kept
      { op: 'Add', inputs: ['a', 'pos'], outputs: ['moved'] }, // integers float16 cannot hold: kept
      { op: 'Resize', inputs: ['img', '', 'scales'], outputs: ['up'], attrs: { mode: 'linear' } }, // scales: host input
      { op: 'Mul', inputs: ['four', 'scales'], outputs: ['scales2'] }, // the same constant read as data
    ], { a: ['float', [3]], img: ['float', [1, 1, 2, 3]], four: ['float', [4]] }, ['lt', 'eq', 'scaled', 'offset', 'moved', 'up', 'scales2'], {
      thr: f32c(thr), w: f32c([0.1, 0.7, 1.3]), big: f32c([1e5, -3.4e38, 0.5]), pos: f32c([3001, 4097, 1]), scales: f32c([1, 1, 1.7, 1.3]),
    });
    const feeds = { a: fp.tensor(thr), img: fp.tensor([1, 5, 2, -3, 0.5, 4], { shape: [1, 1, 2, 3] }), four: fp.tensor([1, 1, 1, 1]) };
    const [ref, half] = [await load(m), await fp.OnnxSession.fromModel(m, { backend: 'cpu', precision: 'f16' })];
    try {
      const [r, h] = [await ref.run(feeds), await half.run(feeds)];
      const data = async (t: fp.Tensor) => Array.from(await t.data(), Number);
      expect(await data(h.lt!)).toEqual([0, 0, 0]);
      expect(await data(h.eq!)).toEqual([1, 1, 1]);
      expect(await data(h.scaled!)).toEqual([0.1, 0.7, 1.3].map((w, i) => Math.fround(Math.fround(thr[i]!) * f16(w))));
      expect(f16(0.7)).not.toBe(Math.fround(0.7));
      expect(await data(h.offset!)).toEqual(await data(r.offset!));
      expect(await data(h.moved!)).toEqual([3001.1, 4097.2, 1.3].map(Math.fround));
      expect(h.up!.shape).toEqual([1, 1, 3, 3]);
      expect(await data(h.up!)).toEqual(await data(r.up!));
      expect(await data(h.scales2!)).toEqual(await data(r.scales2!));
    } finally {
      ref.dispose();
      half.dispose();
    }
  });

  it('refuses registering an op twice', () => {
    expect(() => fp.registerOnnxOp('Relu', { run: () => [] })).toThrow("forwardpass: onnx: op 'Relu' is registered twice");
    expect(fp.registeredOnnxOps()).toEqual(expect.arrayContaining(['Conv', 'CumSum', 'Resize', 'Trilu', 'Gemm', 'LayerNormalization']));
  });
});
