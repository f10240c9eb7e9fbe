// Conv + Relu / Clip(0, 6) fusion (src/io/onnx/fuse.ts) and conv2d's fused activation (attrs.clamp): the fused
// session gives the same bits as `optimize: false` (conv, then the activation as its own op: both are exact, so any
// difference is a bug), NaN kept; on the 1x1, im2col, depthwise and threaded paths; the patterns that must not fuse
// keep their ops.
import { afterAll, describe, expect, it } from 'vitest';
import * as fp from '../../../src/node.js';
import { setGemmThreadsMinFlops } from '../../../src/backends/cpu/wasm/gemm.js';
import { whenThreadsReady } from '../../../src/backends/cpu/wasm/threads.js';
import { randomArray } from '../../helpers.js';
import { f32c, makeModel, type Attr, type Const, type NodeSpec } from './session-helpers.js';

type Inputs = Record<string, [string, (number | string | null)[]]>;

/** Run a model with and without fusion: outputs (as float32 bits), kernel ops executed, and the fused plan's steps. */
async function both(opset: number, nodes: NodeSpec[], inputs: Inputs, outputs: string[], inits: Record<string, Const>, feeds: Record<string, fp.Tensor>, precision: 'f32' | 'int8' = 'f32') {
  const res = [];
  for (const optimize of [false, true]) {
    const s = await fp.OnnxSession.fromModel(makeModel(opset, nodes, inputs, outputs, inits), { backend: 'cpu', optimize, precision });
    const ops: string[] = [];
    const off = fp.addOpHook((e) => ops.push(e.op));
    const out = await s.run(feeds);
    off();
    const steps: string[] = [];
    for await (const st of s.stepwise(feeds)) steps.push(st.opType);
    const values: Record<string, Uint32Array> = {};
    for (const [k, t] of Object.entries(out)) { values[k] = new Uint32Array(Float32Array.from(await t.data() as Float32Array).buffer); t.dispose(); }
    res.push({ ops, values, steps });
    s.dispose();
  }
  return { plain: res[0]!, fused: res[1]! };
}

const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;

/** x [N, C, H, W] with values in [-8, 8] (beyond both of ReLU6's bounds), NaN at a few places, -0 at one. */
function input(shape: number[], seed: number): fp.Tensor {
  const n = shape.reduce((a, b) => a * b, 1), d = randomArray(n, seed).map((v) => v * 8);
  for (let i = 3; i < n; i += 97) d[i] = NaN;
  d[0] = -0;
  return fp.tensor(d, { shape });
}

interface Case { name: string; x: number[]; w: number[]; attrs: Record<string, Attr>; bias: boolean }
const CASES: Case[] = [
  { name: '3x3 stride 2 pad 1 (im2col)', x: [2, 3, 7, 5], w: [5, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, bias: true },
  { name: '1x1 (pointwise: the input read in place)', x: [1, 17, 9, 9], w: [3, 17, 1, 1], attrs: {}, bias: true },
  { name: '1x1 batch 3, no bias', x: [3, 16, 5, 3], w: [255, 16, 1, 1], attrs: {}, bias: false },
  { name: 'depthwise 3x3 stride 1', x: [1, 6, 11, 13], w: [6, 1, 3, 3], attrs: { group: 6, pads: [1, 1, 1, 1] }, bias: true },
  { name: 'depthwise 3x3 stride 2, batch 2', x: [2, 4, 9, 10], w: [4, 1, 3, 3], attrs: { group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }, bias: true },
  { name: 'grouped 3x3, groups 2', x: [1, 4, 6, 6], w: [8, 2, 3, 3], attrs: { group: 2, pads: [1, 1, 1, 1] }, bias: true },
];

/** Conv -> activation node(s) (Relu, or Clip from opset 11 with constant bounds lo/hi as inputs). */
function convAct(c: Case, act: 'Relu' | 'Clip'): { nodes: NodeSpec[]; inits: Record<string, Const> } {
  const inits: Record<string, Const> = { w: f32c(randomArray(c.w.reduce((a, b) => a * b, 1), 5), c.w) };
  if (c.bias) inits['b'] = f32c(randomArray(c.w[0]!, 6).map((v) => v * 4), [c.w[0]!]);
  const conv: NodeSpec = { op: 'Conv', inputs: ['x', 'w', ...(c.bias ? ['b'] : [])], outputs: ['c'], attrs: c.attrs };
  if (act === 'Relu') return { nodes: [conv, { op: 'Relu', inputs: ['c'], outputs: ['y'] }], inits };
  inits['lo'] = f32c([0], []);
  inits['hi'] = f32c([6], []);
  return { nodes: [conv, { op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] }], inits };
}

describe('Conv + Relu / Clip(0, 6) fusion', () => {
  for (const c of CASES) {
    for (const act of ['Relu', 'Clip'] as const) {
      it(`${c.name}, ${act}: one conv op, the same bits as conv then ${act}`, async () => {
        const { nodes, inits } = convAct(c, act);
        const x = input(c.x, 11);
        const { plain, fused } = await both(17, nodes, { x: ['float', c.x] }, ['y'], inits, { x });
        x.dispose();
        const actOp = act === 'Relu' ? 'relu' : 'clamp';
        expect(count(plain.ops, actOp)).toBe(1);
        expect(count(fused.ops, actOp)).toBe(0);
        expect(count(fused.ops, 'conv2d')).toBe(1);
        expect(fused.steps).toEqual([`Conv+${act}`]);
        expect(fused.values['y']).toEqual(plain.values['y']);
        // the activation did something: NaN kept, negatives (and for Clip, values over 6) clamped
        const y = new Float32Array(fused.values['y']!.buffer);
        expect(y.some((v) => Number.isNaN(v))).toBe(true);
        expect(y.every((v) => Number.isNaN(v) || (v >= 0 && (act === 'Relu' || v <= 6)))).toBe(true);
        expect(y.some((v) => v === 0)).toBe(true);
        if (act === 'Clip') expect(y.some((v) => v === 6)).toBe(true);
      });
    }
  }

  it('int8: the quantized conv, then the activation as its own op (the same bits as unfused)', async () => {
    for (const act of ['Relu', 'Clip'] as const) {
      const c = CASES[0]!;
      const { nodes, inits } = convAct(c, act);
      const x = input(c.x, 16);
      const { plain, fused } = await both(17, nodes, { x: ['float', c.x] }, ['y'], inits, { x }, 'int8');
      x.dispose();
      expect(fused.steps).toEqual([`Conv+${act}`]);
      expect(count(fused.ops, act === 'Relu' ? 'relu' : 'clamp')).toBe(1);
      expect(fused.values['y']).toEqual(plain.values['y']);
    }
  });

  it('Clip before opset 11 (min and max attributes) fuses too', async () => {
    const c = CASES[1]!;
    const { nodes, inits } = convAct(c, 'Relu');
    nodes[1] = { op: 'Clip', inputs: ['c'], outputs: ['y'], attrs: { min: { float: 0 }, max: { float: 6 } } };
    const x = input(c.x, 12);
    const { plain, fused } = await both(6, nodes, { x: ['float', c.x] }, ['y'], inits, { x });
    x.dispose();
    expect(fused.steps).toEqual(['Conv+Clip']);
    expect(count(plain.ops, 'clamp')).toBe(1);
    expect(fused.values['y']).toEqual(plain.values['y']);
  });

  it('threaded: the GEMM split across 2 threads, each block clamped before it is copied out', async () => {
    fp.setNumThreads(2);
    await whenThreadsReady();
    setGemmThreadsMinFlops(0);
    try {
      for (const c of [CASES[1]!, CASES[0]!, { name: 'big 1x1', x: [1, 24, 20, 20], w: [40, 24, 1, 1], attrs: {}, bias: true }, CASES[3]!]) {
        const { nodes, inits } = convAct(c, 'Clip');
        const x = input(c.x, 13);
        const { plain, fused } = await both(17, nodes, { x: ['float', c.x] }, ['y'], inits, { x });
        x.dispose();
        expect(fused.steps, c.name).toEqual(['Conv+Clip']);
        expect(fused.values['y'], c.name).toEqual(plain.values['y']);
      }
      // products too small to split (2·4·40·18 = 5760 flops each) but not their batch: one (image, group) per task,
      // each clamped as its task finishes
      setGemmThreadsMinFlops(6000);
      for (const c of [CASES[5]!, { name: 'grouped, batch 3', x: [3, 4, 6, 6], w: [8, 2, 3, 3], attrs: { group: 2, pads: [1, 1, 1, 1] }, bias: true }]) {
        const { nodes, inits } = convAct(c, 'Clip');
        const x = input(c.x, 15);
        const { plain, fused } = await both(17, nodes, { x: ['float', c.x] }, ['y'], inits, { x });
        x.dispose();
        expect(fused.steps, c.name).toEqual(['Conv+Clip']);
        expect(fused.values['y'], c.name).toEqual(plain.values['y']);
      }
    } finally {
      setGemmThreadsMinFlops();
      fp.setNumThreads(1);
    }
  });
  afterAll(() => fp.setNumThreads(1));

  it('does not fuse when the conv output has a second reader, is a graph output, or Clip is not (0, 6) constants', async () => {
    const c = CASES[0]!;
    const x = input(c.x, 14);
    const run = async (nodes: NodeSpec[], outputs: string[], inits: Record<string, Const>, inputs: Inputs = { x: ['float', c.x] }, feeds: Record<string, fp.Tensor> = { x }) => {
      const r = await both(17, nodes, inputs, outputs, inits, feeds);
      for (const o of outputs) expect(r.fused.values[o]).toEqual(r.plain.values[o]);
      expect(r.fused.steps).not.toContain('Conv+Relu');
      expect(r.fused.steps).not.toContain('Conv+Clip');
      return r;
    };
    const relu = convAct(c, 'Relu'), clip = convAct(c, 'Clip');
    // two readers: Relu and an Add
    await run([...relu.nodes, { op: 'Add', inputs: ['c', 'y'], outputs: ['z'] }], ['z'], relu.inits);
    // the conv output is a graph output
    await run(relu.nodes, ['y', 'c'], relu.inits);
    // Clip(0, 5), Clip(-1, 6), Clip(0, no max)
    for (const [lo, hi] of [[0, 5], [-1, 6]]) await run(clip.nodes, ['y'], { ...clip.inits, lo: f32c([lo!], []), hi: f32c([hi!], []) });
    await run([clip.nodes[0]!, { op: 'Clip', inputs: ['c', 'lo'], outputs: ['y'] }], ['y'], clip.inits);
    // the max bound is a graph input, not a constant
    const hi = fp.tensor([6], { shape: [] });
    const inits = { ...clip.inits };
    delete inits['hi'];
    await run(clip.nodes, ['y'], inits, { x: ['float', c.x], hi: ['float', []] }, { x, hi });
    hi.dispose();
    x.dispose();
  });
});

describe('conv2d activation option', () => {
  it("'relu' and 'relu6' equal conv2d then relu / relu6 bit for bit; a bad name is one clear error", () => {
    const x = input([2, 5, 8, 7], 21), w = fp.tensor(randomArray(5 * 5 * 9, 22), { shape: [5, 5, 3, 3] }), b = fp.tensor(randomArray(5, 23), { shape: [5] });
    const y = fp.conv2d(x, w, b, { padding: 1 });
    for (const [activation, ref] of [['relu', fp.relu(y)], ['relu6', fp.relu6(y)]] as const) {
      const f = fp.conv2d(x, w, b, { padding: 1, activation });
      expect(new Uint32Array(Float32Array.from(f.dataSync() as Float32Array).buffer)).toEqual(new Uint32Array(Float32Array.from(ref.dataSync() as Float32Array).buffer));
      f.dispose();
      ref.dispose();
    }
    expect(() => fp.conv2d(x, w, b, { activation: 'gelu' as never })).toThrow(/activation must be 'none', 'relu' or 'relu6', got "gelu"/);
    for (const t of [x, w, b, y]) t.dispose();
  });
});
