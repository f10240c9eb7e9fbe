// WebGPU gather / embedding (including the deferred out-of-range error), concat and pad against naive
// implementations written here and against the CPU backend, over every axis, offset and strided inputs, and the
// packed dtypes (float16, int8, bool).
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';

const strides = (shape: readonly number[]) => shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
function unravel(i: number, shape: readonly number[]): number[] {
  const s = strides(shape);
  return shape.map((n, d) => Math.floor(i / s[d]!) % n);
}
const ravel = (pos: readonly number[], shape: readonly number[]) => pos.reduce((a, p, d) => a + p * strides(shape)[d]!, 0);

/** Naive gather: out[pre, idx..., post] = x[pre, index, post]. */
function naiveGather(x: ArrayLike<number>, xs: number[], idx: ArrayLike<number>, is: number[], axis: number): number[] {
  const os = [...xs.slice(0, axis), ...is, ...xs.slice(axis + 1)];
  return Array.from({ length: count(os) }, (_, i) => {
    const p = unravel(i, os);
    let r = idx[ravel(p.slice(axis, axis + is.length), is)]!;
    if (r < 0) r += xs[axis]!;
    return x[ravel([...p.slice(0, axis), r, ...p.slice(axis + is.length)], xs)]!;
  });
}

/** Naive concat along `axis`. */
function naiveConcat(parts: { data: ArrayLike<number>; shape: number[] }[], axis: number): number[] {
  const os = [...parts[0]!.shape];
  os[axis] = parts.reduce((a, p) => a + p.shape[axis]!, 0);
  return Array.from({ length: count(os) }, (_, i) => {
    const p = unravel(i, os);
    let a = p[axis]!, k = 0;
    while (a >= parts[k]!.shape[axis]!) a -= parts[k++]!.shape[axis]!;
    const q = [...p];
    q[axis] = a;
    return parts[k]!.data[ravel(q, parts[k]!.shape)]!;
  });
}

/** Naive pad with per-dim [before, after] pairs (torch order reversed to dim order by the caller). */
function naivePad(x: ArrayLike<number>, xs: number[], perDim: [number, number][], mode: string, value: number): number[] {
  const os = xs.map((n, d) => n + perDim[d]![0] + perDim[d]![1]);
  return Array.from({ length: count(os) }, (_, i) => {
    const q: number[] = [];
    for (const [d, j] of unravel(i, os).entries()) {
      const n = xs[d]!;
      let s = j - perDim[d]![0];
      if (s < 0 || s >= n) {
        if (mode === 'constant') return value;
        s = mode === 'replicate' ? Math.min(Math.max(s, 0), n - 1) : s < 0 ? -s : 2 * (n - 1) - s;
      }
      q.push(s);
    }
    return x[ravel(q, xs)]!;
  });
}

const gpuOf = (t: fp.Tensor) => t.to('webgpu');
type View = (t: fp.Tensor) => fp.Tensor;
/** The same view of a CPU tensor and of its copy on the GPU (so the GPU one keeps the offset / strides). */
async function both(base: fp.Tensor, view: View): Promise<[fp.Tensor, fp.Tensor]> {
  return [view(base), view(await gpuOf(base))];
}
const ints = (n: number, seed: number, lo: number, hi: number) => Int32Array.from(randomArray(n, seed, lo, hi), Math.floor);

/** Values of `dtype` (bool: 0/1; int8: -100..100) as a CPU tensor. */
function sample(shape: number[], dtype: fp.DType, seed: number): fp.Tensor {
  const n = count(shape);
  if (dtype === 'bool') return fp.tensor(ints(n, seed, 0, 2), { shape, dtype });
  if (dtype === 'int32' || dtype === 'int8') return fp.tensor(ints(n, seed, -100, 100), { shape, dtype });
  return fp.tensor(randomArray(n, seed, -8, 8), { shape, dtype });
}

describe.skipIf(!webgpu.gpu)('webgpu gather', () => {
  it('hand-checked rows with negative indices, and embedding', async () => {
    const x = fp.tensor([[1, 2], [3, 4], [5, 6]], { device: 'webgpu' });
    const i = fp.tensor([2, -1, 0], { dtype: 'int32', device: 'webgpu' });
    expect(Array.from(await fp.gather(x, i).data())).toEqual([5, 6, 5, 6, 1, 2]);
    expect(Array.from(await fp.gather(x, fp.tensor([[1], [-2]], { dtype: 'int32', device: 'webgpu' }), 1).data())).toEqual([2, 1, 4, 3, 6, 5]);
    expect(Array.from(await fp.embedding(fp.tensor([[1, 1, 0]], { dtype: 'int32', device: 'webgpu' }), x).data())).toEqual([3, 4, 3, 4, 1, 2]);
  });

  it('every axis, 0-d to 2-d indices with negatives, every dtype, x at an offset and as a strided view', async () => {
    let seed = 10;
    for (const dtype of ['float32', 'int32', 'float16', 'int8', 'bool'] as fp.DType[]) {
      const base = sample([5, 4, 3, 7], dtype, seed++);
      for (const view of [(t) => t.narrow(0, 1, 3), (t) => t.narrow(0, 1, 3).permute(3, 1, 0, 2)] as View[]) {
        const [x, gx] = await both(base, view);
        for (let axis = 0; axis < 4; axis++) {
          const A = x.shape[axis]!;
          for (const is of [[], [5], [2, 3]]) {
            const idx = fp.tensor(ints(count(is), seed++, -A, A), { shape: is, dtype: 'int32' });
            const want = naiveGather(await x.contiguous().data(), [...x.shape], await idx.data(), is, axis);
            const got = fp.gather(gx, await gpuOf(idx), axis);
            const cpu = fp.gather(x, idx, axis);
            expect(got.shape).toEqual(cpu.shape);
            expect(got.dtype).toBe(dtype);
            expect(Array.from(await got.data())).toEqual(want);
            expect(Array.from(await got.data())).toEqual(Array.from(await cpu.data()));
          }
        }
      }
    }
    // the offset path itself: a narrowed GPU tensor is contiguous with a non-zero offset
    const g = await gpuOf(fp.tensor(randomArray(6 * 5, 3), { shape: [6, 5] }));
    const idx = fp.tensor([4, -1, 0, 2], { dtype: 'int32' });
    const part = g.narrow(0, 2, 3);
    expect(part.offset).toBe(10);
    expect(Array.from(await fp.gather(part, await gpuOf(idx), 1).data())).toEqual(naiveGather(await part.data(), [3, 5], await idx.data(), [4], 1));
  });

  it('embedding lookups of many ids (more than one check workgroup pass) in float16', async () => {
    const wte = fp.tensor(randomArray(50 * 8, 4), { shape: [50, 8], dtype: 'float16' });
    const ids = fp.tensor(ints(600, 5, 0, 50), { shape: [3, 200], dtype: 'int32' });
    const got = fp.embedding(await gpuOf(ids), await gpuOf(wte));
    expect(got.shape).toEqual([3, 200, 8]);
    expect(Array.from(await got.data())).toEqual(naiveGather(await wte.data(), [50, 8], await ids.data(), [3, 200], 0));
  });

  it("an out-of-range index: the next read throws the CPU's error sentence, naming the first bad position", async () => {
    const x = fp.tensor(randomArray(5 * 3, 6), { shape: [5, 3] });
    const raw = ints(1000, 7, -5, 5);
    raw[700] = 9;
    raw[900] = -6;
    const idx = fp.tensor(raw, { shape: [10, 100], dtype: 'int32' });
    let cpuError: Error | undefined;
    try {
      fp.gather(x, idx);
    } catch (e) {
      cpuError = e as Error;
    }
    expect(cpuError?.message).toBe('forwardpass: gather: index 9 at indices[7, 0] is out of range for axis 0 of size 5 (valid: -5..4)');
    const gx = await gpuOf(x), gi = await gpuOf(idx);
    const y = fp.gather(gx, gi); // recorded; the kernel cannot throw
    const later = fp.add(y, 1);
    const gpuError = await later.data().then(() => null, (e: Error) => e);
    expect(gpuError).toBeInstanceOf(RangeError);
    expect(gpuError?.message).toBe(cpuError!.message);
    // reported once: the backend goes on working, and good indices give good rows
    const ok = fp.gather(gx, await gpuOf(fp.tensor([4, -5], { dtype: 'int32' })));
    expect(Array.from(await ok.data())).toEqual(naiveGather(await x.data(), [5, 3], [4, -5], [2], 0));
  });

  it('the error is a RangeError, also raised by sync(), by an unrelated read, and for embedding (no negative ids)', async () => {
    const w = await gpuOf(fp.tensor(randomArray(4 * 2, 8), { shape: [4, 2] }));
    fp.embedding(await gpuOf(fp.tensor([[0, 3], [-1, 1]], { dtype: 'int32' })), w);
    const err = await webgpu.gpu!.sync().then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err?.message).toBe('forwardpass: embedding: index -1 at indices[1, 0] is out of range for axis 0 of size 4 (valid: 0..3)');
    fp.gather(w, await gpuOf(fp.tensor([1, 2, 4], { dtype: 'int32' })), 0);
    const unrelated = await gpuOf(fp.tensor([1, 2, 3]));
    await expect(fp.mul(unrelated, 2).data()).rejects.toThrow('forwardpass: gather: index 4 at indices[2] is out of range for axis 0 of size 4 (valid: -4..3)');
    expect(Array.from(await fp.mul(unrelated, 2).data())).toEqual([2, 4, 6]);
    await webgpu.gpu!.sync();
  });
});

describe.skipIf(!webgpu.gpu)('webgpu concat', () => {
  it('hand-checked: two matrices side by side', async () => {
    const a = fp.tensor([[1, 2], [3, 4]], { device: 'webgpu' });
    const b = fp.tensor([[5], [6]], { device: 'webgpu' });
    expect(Array.from(await fp.concat([a, b], 1).data())).toEqual([1, 2, 5, 3, 4, 6]);
  });

  it('every axis and dtype (bool, int8 and float16 packed), offset and strided inputs, empty parts', async () => {
    let seed = 30;
    for (const dtype of ['float32', 'int32', 'bool', 'int8', 'float16'] as fp.DType[]) {
      for (let axis = 0; axis < 3; axis++) {
        const shapeWith = (len: number) => [3, 5, 7].map((n, d) => (d === axis ? len : n));
        // part 0 sits at an offset in a bigger tensor, part 1 is a transposed view, part 2 is plain, part 3 is empty
        const pairs = await Promise.all([
          both(sample([4, ...shapeWith(2)], dtype, seed++), (t) => t.narrow(0, 1, 1).squeeze(0)),
          both(sample(shapeWith(3).reverse(), dtype, seed++), (t) => t.permute(2, 1, 0)),
          both(sample(shapeWith(1), dtype, seed++), (t) => t),
          both(sample(shapeWith(0), dtype, seed++), (t) => t),
        ]);
        const parts = pairs.map((p) => p[0]), gpuParts = pairs.map((p) => p[1]);
        expect(gpuParts[0]!.offset).toBeGreaterThan(0);
        expect(gpuParts[1]!.isContiguous()).toBe(false);
        const want = naiveConcat(await Promise.all(parts.map(async (p) => ({ data: await p.contiguous().data(), shape: [...p.shape] }))), axis);
        const got = fp.concat(gpuParts, axis);
        expect(got.dtype).toBe(dtype);
        expect(got.shape).toEqual(shapeWith(6));
        expect(Array.from(await got.data())).toEqual(want);
        expect(Array.from(await got.data())).toEqual(Array.from(await fp.concat(parts, axis).data()));
      }
    }
  });

  it('mixed dtypes are promoted, and stack goes through concat', async () => {
    const a = await gpuOf(fp.tensor([1, 2], { dtype: 'int32' }));
    const b = await gpuOf(fp.tensor([0.5]));
    const y = fp.concat([a, b]);
    expect(y.dtype).toBe('float32');
    expect(Array.from(await y.data())).toEqual([1, 2, 0.5]);
    expect(Array.from(await fp.stack([a, a], 1).data())).toEqual([1, 1, 2, 2]);
  });
});

describe.skipIf(!webgpu.gpu)('webgpu pad', () => {
  it('hand-checked constant, reflect and replicate on a row', async () => {
    const x = fp.tensor([1, 2, 3], { device: 'webgpu' });
    expect(Array.from(await fp.pad(x, [2, 1], { value: 9 }).data())).toEqual([9, 9, 1, 2, 3, 9]);
    expect(Array.from(await fp.pad(x, [2, 1], { mode: 'reflect' }).data())).toEqual([3, 2, 1, 2, 3, 2]);
    expect(Array.from(await fp.pad(x, [2, 1], { mode: 'replicate' }).data())).toEqual([1, 1, 1, 2, 3, 3]);
    expect(Array.from(await fp.pad(x, [-1, 2]).data())).toEqual([2, 3, 0, 0]);
  });

  it('all modes over ranks 1-4 with negative pads (crops), every dtype, offset and strided inputs', async () => {
    let seed = 60;
    const cases: [number[], number[]][] = [
      [[7], [3, -2]],
      [[4, 5], [1, 2, -1, 3]],
      [[3, 4, 5], [0, -2, 2, 1, 1, 0]],
      [[2, 3, 4, 5], [-1, 4, 0, 0, 2, -1, 1, 1]],
      [[2, 3, 1, 17], [2, 2]],
    ];
    for (const dtype of ['float32', 'int32', 'float16', 'bool', 'uint8'] as fp.DType[]) {
      for (const [shape, pads] of cases) {
        for (const mode of ['constant', 'reflect', 'replicate'] as const) {
          const perDim: [number, number][] = shape.map((_, d) => {
            const i = shape.length - 1 - d;
            return [pads[2 * i] ?? 0, pads[2 * i + 1] ?? 0];
          });
          if (mode === 'reflect' && perDim.some(([b, a], d) => b >= shape[d]! || a >= shape[d]!)) continue;
          // in turn: at an offset in a bigger tensor, or a view with reversed dim order
          const rev = [...shape.keys()].reverse();
          const [x, gx] = seed % 2
            ? await both(sample([2, ...shape], dtype, seed++), (t) => t.narrow(0, 1, 1).squeeze(0))
            : await both(sample(rev.map((d) => shape[d]!), dtype, seed++), (t) => t.permute(rev));
          // the fill as each dtype stores it: halves round, integers truncate; bool gets 1
          const value = dtype === 'bool' ? 1 : 2.7;
          const fill = dtype === 'float32' || dtype === 'float16' ? (await fp.tensor([value], { dtype }).data())[0]! : Math.trunc(value);
          const want = naivePad(await x.contiguous().data(), shape, perDim, mode, fill);
          const got = fp.pad(gx, pads, { mode, value });
          expect(got.shape).toEqual(fp.pad(x, pads, { mode, value }).shape);
          expect(Array.from(await got.data())).toEqual(want);
          expect(Array.from(await got.data())).toEqual(Array.from(await fp.pad(x, pads, { mode, value }).data()));
        }
      }
    }
  });
});
