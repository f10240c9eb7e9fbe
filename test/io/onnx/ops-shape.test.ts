// ONNX data-movement ops through the runtime, against naive index loops written here: Reshape, Transpose, Flatten,
// Squeeze/Unsqueeze (attribute and input forms), Concat, Split (attribute, input, num_outputs, equal), Slice (attribute
// form, negative steps, INT64_MAX sentinels), Gather, Shape, Expand, Tile, Pad (wrap too), Range, Trilu, CumSum.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { randomArray } from '../../helpers.js';
import { i64, makeModel, prod, ravel, runNode, unravel } from './session-helpers.js';

/** out[i0, i1, ...] = x[idx[0][i0], idx[1][i1], ...]: slicing/tiling/flipping by explicit index lists per axis. */
function takeRef(x: ArrayLike<number>, shape: number[], idx: number[][]): number[] {
  const outShape = idx.map((l) => l.length);
  return Array.from({ length: prod(outShape) }, (_, i) => x[ravel(unravel(i, outShape).map((v, d) => idx[d]![v]!), shape)]!);
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const arr = async (t: fp.Tensor) => Array.from(await t.data());

describe('ONNX shape ops', () => {
  const d = randomArray(2 * 3 * 4, 1);
  const x = () => fp.tensor(d, { shape: [2, 3, 4] });

  it('Reshape copies 0 dims, infers -1, and allowzero keeps a 0', async () => {
    const [a] = await runNode(14, 'Reshape', [x(), i64([0, -1])]);
    expect(a!.shape).toEqual([2, 12]);
    expect(await arr(a!)).toEqual(Array.from(d));
    const [b] = await runNode(14, 'Reshape', [fp.zeros([0, 3]), i64([3, 0])], { allowzero: 1 });
    expect(b!.shape).toEqual([3, 0]);
    await expect(runNode(14, 'Reshape', [x(), i64([5, -1])])).rejects.toThrow(/forwardpass: onnx: node 'n0' \(Reshape\): reshape: cannot reshape \[2, 3, 4\]/);
  });

  it('Reshape copying a dim that load-time inference does not know (after Slice), and one the input lacks', async () => {
    // Slice with starts from a graph input: its output length is unknown at load; Reshape [0, 1] copies it at run time
    const model = makeModel(17, [
      { op: 'Slice', inputs: ['x', 'st', 'en'], outputs: ['s'] },
      { op: 'Reshape', inputs: ['s', 'shape'], outputs: ['y'] },
    ], { x: ['float', [6]], st: ['int64', [1]] }, ['y'], { en: i64([6]), shape: i64([0, 1]) });
    const s = await fp.OnnxSession.fromModel(model, { backend: 'cpu' });
    try {
      for (const start of [1, 4]) {
        const { y } = await s.run({ x: fp.tensor([0, 1, 2, 3, 4, 5], { shape: [6] }), st: fp.tensor([start], { dtype: 'int32' }) });
        expect(y!.shape).toEqual([6 - start, 1]);
        expect(await arr(y!)).toEqual(range(6 - start).map((i) => i + start));
      }
    } finally {
      s.dispose();
    }
    const bad = makeModel(17, [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }], { x: ['float', [null]] }, ['y'], { shape: i64([2, 0]) });
    await expect(fp.OnnxSession.fromModel(bad, { backend: 'cpu' })).rejects.toThrow(/node 'n0' \(Reshape\): shape \[2,0\] copies dim 1 \(a 0\) that the input \[null\] lacks/);
  });

  it('Transpose (default: reversed dims) and Flatten (axis 0, 2, -1)', async () => {
    const [t] = await runNode(17, 'Transpose', [x()]);
    expect(t!.shape).toEqual([4, 3, 2]);
    expect(await arr(t!)).toEqual(takeRef(d, [2, 3, 4], [range(2), range(3), range(4)]).length === 24 ? Array.from({ length: 24 }, (_, i) => { const [k, j, b] = unravel(i, [4, 3, 2]); return d[ravel([b!, j!, k!], [2, 3, 4])]!; }) : []);
    const [p] = await runNode(17, 'Transpose', [x()], { perm: [1, 0, 2] });
    expect(await arr(p!)).toEqual(Array.from({ length: 24 }, (_, i) => { const [j, b, k] = unravel(i, [3, 2, 4]); return d[ravel([b!, j!, k!], [2, 3, 4])]!; }));
    for (const [axis, shape] of [[0, [1, 24]], [2, [6, 4]], [-1, [6, 4]], [3, [24, 1]]] as const) {
      const [f] = await runNode(13, 'Flatten', [x()], { axis });
      expect(f!.shape, `axis ${axis}`).toEqual(shape);
    }
  });

  it('Squeeze and Unsqueeze: axes attribute before opset 13, input after; negative axes', async () => {
    const y = fp.tensor(d, { shape: [2, 1, 12, 1] });
    expect((await runNode(11, 'Squeeze', [y], { axes: [1] }))[0]!.shape).toEqual([2, 12, 1]);
    expect((await runNode(13, 'Squeeze', [y, i64([-1, 1])]))[0]!.shape).toEqual([2, 12]);
    expect((await runNode(13, 'Squeeze', [y]))[0]!.shape).toEqual([2, 12]);
    await expect(runNode(13, 'Squeeze', [y, i64([0])])).rejects.toThrow(/cannot squeeze dim 0 of size 2/);
    expect((await runNode(11, 'Unsqueeze', [x()], { axes: [0, 4] }))[0]!.shape).toEqual([1, 2, 3, 4, 1]);
    expect((await runNode(13, 'Unsqueeze', [x(), i64([-1, 1])]))[0]!.shape).toEqual([2, 1, 3, 4, 1]);
  });

  it('Concat and Split in all their forms', async () => {
    const [c] = await runNode(13, 'Concat', [x(), fp.tensor(d.subarray(0, 8), { shape: [2, 1, 4] })], { axis: 1 });
    expect(c!.shape).toEqual([2, 4, 4]);
    expect(await arr(c!)).toEqual(Array.from({ length: 32 }, (_, i) => { const [b, j, k] = unravel(i, [2, 4, 4]); return j! < 3 ? d[ravel([b!, j!, k!], [2, 3, 4])]! : d[b! * 4 + k!]!; }));
    const pieces = async (t: fp.Tensor[]) => Promise.all(t.map(async (p) => [p.shape, await arr(p)]));
    const want = [[[2, 3, 1], takeRef(d, [2, 3, 4], [range(2), range(3), [0]])], [[2, 3, 3], takeRef(d, [2, 3, 4], [range(2), range(3), [1, 2, 3]])]];
    expect(await pieces(await runNode(11, 'Split', [x()], { axis: 2, split: [1, 3] }, { outputs: 2 }))).toEqual(want);
    expect(await pieces(await runNode(13, 'Split', [x(), i64([1, 3])], { axis: -1 }, { outputs: 2 }))).toEqual(want);
    const eq = await runNode(13, 'Split', [x()], { axis: 2 }, { outputs: 2 });
    expect(eq.map((p) => p.shape)).toEqual([[2, 3, 2], [2, 3, 2]]);
    const n3 = await runNode(18, 'Split', [x()], { axis: 2, num_outputs: 3 }, { outputs: 3 });
    expect(n3.map((p) => p.shape)).toEqual([[2, 3, 2], [2, 3, 2], [2, 3, 0]]);
    expect(await arr(n3[1]!)).toEqual(takeRef(d, [2, 3, 4], [range(2), range(3), [2, 3]]));
  });

  it('Slice: attribute form (opset 9), inputs with negative steps and INT64 sentinels (opset 13)', async () => {
    const [a] = await runNode(9, 'Slice', [x()], { starts: [1, -2], ends: [1000, 3], axes: [1, 2] });
    expect(await arr(a!)).toEqual(takeRef(d, [2, 3, 4], [range(2), [1, 2], [2]]));
    const MAX = 2n ** 63n - 1n, MIN = -(2n ** 63n);
    const [b] = await runNode(13, 'Slice', [x(), i64([MAX, 1]), i64([MIN, MAX]), i64([2, 0]), i64([-1, 1])]);
    expect(b!.shape).toEqual([1, 3, 4]);
    expect(await arr(b!)).toEqual(takeRef(d, [2, 3, 4], [[1], range(3), [3, 2, 1, 0]]));
    const [c] = await runNode(13, 'Slice', [x(), i64([-1]), i64([-4]), i64([1]), i64([-2])]);
    expect(await arr(c!)).toEqual(takeRef(d, [2, 3, 4], [range(2), [2, 0], range(4)]));
    const [e] = await runNode(13, 'Slice', [x(), i64([3]), i64([1]), i64([2])]);
    expect(e!.shape).toEqual([2, 3, 0]);
    await expect(runNode(13, 'Slice', [x(), i64([0]), i64([1]), i64([0]), i64([0])])).rejects.toThrow(/steps must not be 0/);
  });

  it('Gather (negative indices, axis 1), Shape (start/end), Expand (bidirectional), Tile', async () => {
    const [g] = await runNode(13, 'Gather', [x(), i64([[2, -3], [0, 0]].flat(), [2, 2])], { axis: 1 });
    expect(g!.shape).toEqual([2, 2, 2, 4]);
    expect(await arr(g!)).toEqual(Array.from({ length: 32 }, (_, i) => { const [b, r, s, k] = unravel(i, [2, 2, 2, 4]); return d[ravel([b!, [[2, 0], [0, 0]][r!]![s!]!, k!], [2, 3, 4])]!; }));
    expect(await arr((await runNode(13, 'Shape', [x()]))[0]!)).toEqual([2, 3, 4]);
    expect(await arr((await runNode(15, 'Shape', [x()], { start: -2 }))[0]!)).toEqual([3, 4]);
    expect(await arr((await runNode(15, 'Shape', [x()], { start: 1, end: -1 }))[0]!)).toEqual([3]);
    const [e] = await runNode(13, 'Expand', [fp.tensor([1, 2, 3], { shape: [3, 1] }), i64([2, 1, 2])]);
    expect(e!.shape).toEqual([2, 3, 2]);
    expect(await arr(e!)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    const [t] = await runNode(13, 'Tile', [x(), i64([1, 2, 3])]);
    expect(t!.shape).toEqual([2, 6, 12]);
    expect(await arr(t!)).toEqual(takeRef(d, [2, 3, 4], [range(2), range(6).map((i) => i % 3), range(12).map((i) => i % 4)]));
  });

  it('Pad: attribute form (opset 2), inputs with axes (opset 18), reflect and edge', async () => {
    const y = fp.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    const [a] = await runNode(2, 'Pad', [y], { pads: [0, 1, 1, 0], value: { float: 9 } });
    expect(await arr(a!)).toEqual([9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9]);
    const [b] = await runNode(13, 'Pad', [y, i64([0, 2, 0, 1])], { mode: 'reflect' });
    expect(await arr(b!)).toEqual([3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5]);
    const [c] = await runNode(13, 'Pad', [y, i64([1, 0, 0, 0])], { mode: 'edge' });
    expect(await arr(c!)).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6]);
    const [e] = await runNode(18, 'Pad', [y, i64([1, 1]), fp.tensor(0.5, { shape: [] }), i64([-1])]);
    expect(await arr(e!)).toEqual([0.5, 1, 2, 3, 0.5, 0.5, 4, 5, 6, 0.5]);
  });

  it('Pad mode wrap (opset 19): cyclic repeats, pads longer than the axis, negative pads crop first', async () => {
    // by hand (and as onnxruntime 1.30)
    const v = fp.tensor([0, 1, 2, 3, 4, 5], { shape: [6] });
    const wrap = async (t: fp.Tensor, pads: number[], axes?: number[]) => arr((await runNode(19, 'Pad', axes ? [t, i64(pads), null, i64(axes)] : [t, i64(pads)], { mode: 'wrap' }))[0]!);
    expect(await wrap(v, [2, 3])).toEqual([4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2]);
    expect(await wrap(v, [-1, 3])).toEqual([1, 2, 3, 4, 5, 1, 2, 3]);
    expect(await wrap(v, [3, -2])).toEqual([1, 2, 3, 0, 1, 2, 3]);
    expect(await wrap(v, [-2, -1])).toEqual([2, 3, 4]);
    expect(await wrap(fp.tensor([0, 1, 2], { shape: [3] }), [-1, 5])).toEqual([1, 2, 1, 2, 1, 2, 1]);
    expect(await wrap(fp.tensor([0, 1, 2], { shape: [3] }), [7, 4])).toEqual([2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    // random pads on [2, 3, 4] against index lists: crop, then out[i] = x[start + (i - before) mod n]
    let seed = 3;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 1) % 7) - 2; // -2 ..= 4
    let ran = 0;
    for (let trial = 0; trial < 16; trial++) {
      const per = [0, 1, 2].map(() => [rnd(), rnd()]);
      if (per.some(([b, e], ax) => [2, 3, 4][ax]! - Math.max(-b!, 0) - Math.max(-e!, 0) <= 0)) continue;
      ran++;
      const onnxPads = [...per.map((p) => p[0]!), ...per.map((p) => p[1]!)];
      const idx = per.map(([b, e], ax) => {
        const start = Math.max(-b!, 0), n = [2, 3, 4][ax]! - start - Math.max(-e!, 0);
        return range(n + Math.max(b!, 0) + Math.max(e!, 0)).map((i) => start + ((((i - Math.max(b!, 0)) % n) + n) % n));
      });
      const [got] = await runNode(19, 'Pad', [x(), i64(onnxPads)], { mode: 'wrap' });
      expect(got!.shape, JSON.stringify(onnxPads)).toEqual(idx.map((l) => l.length));
      expect(await arr(got!), JSON.stringify(onnxPads)).toEqual(takeRef(d, [2, 3, 4], idx));
    }
    expect(ran).toBeGreaterThan(8);
    // axes input: only the last axis
    expect(await wrap(fp.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] }), [1, 2], [-1])).toEqual([3, 1, 2, 3, 1, 2, 6, 4, 5, 6, 4, 5]);
    await expect(runNode(19, 'Pad', [v, i64([-4, -3])], { mode: 'wrap' })).rejects.toThrow(/node 'n0' \(Pad\): pads \[-4, -3\] crop axis 0 of the input \[6\] below zero/);
    await expect(runNode(19, 'Pad', [fp.zeros([2, 0]), i64([0, 1, 0, 1])], { mode: 'wrap' })).rejects.toThrow(/mode 'wrap' cannot pad the empty axis 1 of the input \[2, 0\]/);
  });

  it('Range, Trilu (upper/lower, k), CumSum (exclusive, reverse, integer input)', async () => {
    const [r] = await runNode(13, 'Range', [i64([3], []), i64([-4], []), i64([-2], [])]);
    expect(r!.dtype).toBe('int32');
    expect(await arr(r!)).toEqual([3, 1, -1, -3]);
    const [rf] = await runNode(13, 'Range', [fp.tensor(0.5, { shape: [] }), fp.tensor(2, { shape: [] }), fp.tensor(0.5, { shape: [] })]);
    expect(await arr(rf!)).toEqual([0.5, 1, 1.5]);
    const m = fp.tensor(d.subarray(0, 12), { shape: [3, 4] });
    for (const [upper, k] of [[1, 0], [0, 0], [1, 1], [0, -1]] as const) {
      const [t] = await runNode(14, 'Trilu', [m, i64([k], [])], { upper });
      expect(await arr(t!), `upper ${upper} k ${k}`).toEqual(Array.from(d.subarray(0, 12), (v, i) => { const [a, b] = [Math.floor(i / 4), i % 4]; return (upper ? b - a >= k : b - a <= k) ? v : 0; }));
    }
    const v = [1, 2, 3, 4, 5, 6];
    const cs = async (axis: number, exclusive: number, reverse: number, t = fp.tensor(v, { shape: [2, 3] })) => arr((await runNode(14, 'CumSum', [t, i64([axis], [])], { exclusive, reverse }))[0]!);
    expect(await cs(1, 0, 0)).toEqual([1, 3, 6, 4, 9, 15]);
    expect(await cs(1, 1, 0)).toEqual([0, 1, 3, 0, 4, 9]);
    expect(await cs(1, 0, 1)).toEqual([6, 5, 3, 15, 11, 6]);
    expect(await cs(0, 1, 1)).toEqual([4, 5, 6, 0, 0, 0]);
    expect(await cs(-2, 0, 0, fp.tensor(v, { shape: [2, 3], dtype: 'int32' }))).toEqual([1, 2, 3, 5, 7, 9]);
  });
});
