// WebGPU reductions (sum mean max min prod var), argmax/argmin and softmax/logSoftmax against the CPU backend:
// every axis subset of awkward shapes (keepdim too), int32 and float16 inputs, offset and transposed views and
// hand-checked edge cases (NaN, ties, empty dims), each on the subgroup path and on its portable twin.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { Checks, onPath, PATHS } from './helpers.js';

type Op = (t: fp.Tensor) => fp.Tensor;

/** Every non-empty subset of 0..rank-1. */
function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 1; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((d) => m & (1 << d)));
  return out;
}

/** Rows of 1, 2 (shorter than a subgroup), 3, 17, 255 and 1025 (more than a workgroup's lanes); spread and not. */
const SHAPES = [[1], [3, 17], [2, 3, 255], [5, 1, 7, 33], [1025], [70, 3, 2]];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const exact = () => 0;
/**
 * Tolerances (SwiftShader uses 10-25% of each). f32 sums in a different order than the CPU's float64 loop: the
 * error grows with the sum of magnitudes (scale), not with the result. prod of values near 1, var: relative to
 * the result. softmax: WGSL's exp is only a few ULP accurate. float16: one half-precision rounding step.
 */
const sumTol = (_w: number, scale: number) => 5e-7 * scale + 1e-7;
const relTol = (r: number) => (w: number) => r * Math.max(Math.abs(w), 1e-6);

describe.skipIf(!webgpu.gpu)(`webgpu reductions (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const [path, backend] of PATHS) {
    it(`sum, mean, max, min, prod and var over every axis subset match the CPU (${path})`, async () => {
      const c = new Checks({ sameMatches: true });
      const variants = await onPath(backend, async () => {
        for (const [k, shape] of SHAPES.entries()) {
          const x = fp.tensor(randomArray(size(shape), 100 + k, -2, 2), { shape });
          const near1 = fp.tensor(randomArray(size(shape), 200 + k, 0.9, 1.1), { shape });
          for (const [j, axis] of [undefined, ...subsets(shape.length)].entries()) {
            const o = { axis, keepdim: j % 2 === 1 };
            const tag = `${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`;
            const abs = (g: Op): Op => (t) => g(fp.abs(t));
            await c.add(`sum ${tag}`, (t) => fp.sum(t, o), [x], sumTol, abs((t) => fp.sum(t, o)));
            await c.add(`mean ${tag}`, (t) => fp.mean(t, o), [x], sumTol, abs((t) => fp.mean(t, o)));
            await c.add(`max ${tag}`, (t) => fp.max(t, o), [x], exact);
            await c.add(`min ${tag}`, (t) => fp.min(t, o), [x], exact);
            await c.add(`prod ${tag}`, (t) => fp.prod(t, o), [near1], relTol(1e-5));
            await c.add(`var ${tag}`, (t) => fp.variance(t, { ...o, correction: j % 3 === 0 ? 0 : 1 }), [x], relTol(2e-6));
          }
        }
      });
      expect(await c.failures()).toEqual([]);
      expect(variants.some((v) => v.includes('SUBGROUPS=true'))).toBe(path === 'subgroups' && webgpu.gpu!.setup.features.subgroups);
    });

    it(`argmax, argmin, softmax and logSoftmax along every axis match the CPU (${path})`, async () => {
      const c = new Checks({ sameMatches: true });
      await onPath(backend, async () => {
        for (const [k, shape] of SHAPES.entries()) {
          // a coarse grid of values makes ties common
          const x = fp.tensor(Float32Array.from(randomArray(size(shape), 300 + k, -4, 4), (v) => Math.round(v * 4) / 4), { shape });
          const y = fp.tensor(randomArray(size(shape), 400 + k, -6, 6), { shape });
          for (let axis = 0; axis < shape.length; axis++) {
            const tag = `${JSON.stringify(shape)} axis ${axis}`;
            await c.add(`argmax ${tag}`, (t) => fp.argmax(t, { axis, keepdim: axis % 2 === 0 }), [x], exact);
            await c.add(`argmin ${tag}`, (t) => fp.argmin(t, { axis }), [x], exact);
            await c.add(`softmax ${tag}`, (t) => fp.softmax(t, axis), [y], (w) => 4e-6 * Math.max(w, 1e-3));
            await c.add(`logSoftmax ${tag}`, (t) => fp.logSoftmax(t, axis), [y], (w) => 2e-6 * Math.max(Math.abs(w), 1));
          }
          await c.add(`argmax ${JSON.stringify(shape)} flattened`, (t) => fp.argmax(t), [x], exact);
        }
      });
      expect(await c.failures()).toEqual([]);
    });

    it(`int32 and float16 inputs, offset and transposed views (${path})`, async () => {
      const c = new Checks({ sameMatches: true });
      await onPath(backend, async () => {
        for (const shape of [[3, 17], [2, 3, 255], [1025]]) {
          const xi = fp.tensor(Int32Array.from(randomArray(size(shape), 5, -50, 50), Math.round), { shape });
          const signs = fp.tensor(Int32Array.from(randomArray(size(shape), 6, -1, 1), (v) => (v < 0 ? -1 : 1)), { shape });
          const xh = fp.cast(fp.tensor(randomArray(size(shape), 7, -3, 3), { shape }), 'float16');
          const h16 = (w: number, scale: number) => 2 ** -10 * Math.max(Math.abs(w), scale * 1e-3, 1e-4);
          for (const axis of [...subsets(shape.length), undefined]) {
            const tag = `${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`;
            for (const [name, f] of [['sum', fp.sum], ['max', fp.max], ['min', fp.min]] as const) {
              await c.add(`int32 ${name} ${tag}`, (t) => f(t, { axis }), [xi], exact);
            }
            await c.add(`int32 prod ${tag}`, (t) => fp.prod(t, { axis }), [signs], exact);
            await c.add(`int32 mean ${tag}`, (t) => fp.mean(t, { axis }), [xi], relTol(1e-6));
            await c.add(`float16 sum ${tag}`, (t) => fp.sum(t, { axis }), [xh], h16, (t) => fp.sum(fp.abs(t), { axis }));
            await c.add(`float16 mean ${tag}`, (t) => fp.mean(t, { axis }), [xh], h16, (t) => fp.mean(fp.abs(t), { axis }));
            await c.add(`float16 max ${tag}`, (t) => fp.max(t, { axis }), [xh], exact);
            await c.add(`float16 var ${tag}`, (t) => fp.variance(t, { axis }), [xh], (w) => 2 ** -10 * Math.abs(w));
          }
          const last = shape.length - 1;
          await c.add(`int32 argmax ${JSON.stringify(shape)}`, (t) => fp.argmax(t, { axis: last }), [xi], exact);
          await c.add(`int32 argmin ${JSON.stringify(shape)}`, (t) => fp.argmin(t, { axis: 0 }), [xi], exact);
          await c.add(`float16 argmax ${JSON.stringify(shape)}`, (t) => fp.argmax(t, { axis: last }), [xh], exact);
          await c.add(`float16 softmax ${JSON.stringify(shape)}`, (t) => fp.softmax(t, last), [xh], (w) => 2 ** -10 * Math.max(Math.abs(w), 1e-3));
        }
        // a row-offset view stays a contiguous view with an offset; a transposed one is copied first
        const x = fp.tensor(randomArray(4 * 3 * 40, 8), { shape: [4, 3, 40] });
        for (const [name, view] of [['narrowed', (t: fp.Tensor) => t.narrow(0, 1, 2)], ['transposed', (t: fp.Tensor) => t.transpose(0, 2)]] as const) {
          await c.add(`${name} sum`, (t) => fp.sum(view(t), { axis: [1, 2] }), [x], sumTol, (t) => fp.sum(fp.abs(view(t)), { axis: [1, 2] }));
          await c.add(`${name} max`, (t) => fp.max(view(t), { axis: 0 }), [x], exact);
          await c.add(`${name} argmin`, (t) => fp.argmin(view(t), { axis: 1 }), [x], exact);
          await c.add(`${name} softmax`, (t) => fp.softmax(view(t), 0), [x], relTol(4e-6));
          await c.add(`${name} var`, (t) => fp.variance(view(t), { axis: 2 }), [x], relTol(2e-6));
        }
      });
      expect(await c.failures()).toEqual([]);
    });

    it(`hand-checked values: NaN, ties, infinities and empty dims (${path})`, async () => {
      await onPath(backend, async () => {
        const g = (v: number[], shape = [v.length]) => fp.tensor(v, { shape, device: 'webgpu' });
        const arr = async (t: fp.Tensor) => Array.from(await t.data(), Number);
        expect(await arr(fp.sum(g([1, 2, 3, 4], [2, 2]), { axis: 0 }))).toEqual([4, 6]);
        expect(await arr(fp.mean(g([1, 2, 3, 4], [2, 2]), { axis: 1 }))).toEqual([1.5, 3.5]);
        expect(await arr(fp.prod(g([1, 2, 3, 4, 5, 6], [2, 3]), { axis: 1 }))).toEqual([6, 120]);
        expect(await arr(fp.max(g([1, NaN, 3, -Infinity, -Infinity, -1], [2, 3]), { axis: 1 }))).toEqual([NaN, -1]);
        expect(await arr(fp.min(g([1, NaN, 3, Infinity, 2, 5], [2, 3]), { axis: 1 }))).toEqual([NaN, 2]);
        // ties -> lowest index; the first NaN wins
        expect(await arr(fp.argmax(g([1, 3, 3, 0, 2, NaN, 7, NaN], [2, 4]), { axis: 1 }))).toEqual([1, 1]);
        expect(await arr(fp.argmin(g([1, 0, 0, 5, 0, -Infinity, 2, -Infinity], [2, 4]), { axis: 1 }))).toEqual([1, 1]);
        const long = new Array(700).fill(2);
        long[650] = NaN;
        long[690] = NaN;
        expect(await arr(fp.argmax(g(long)))).toEqual([650]);
        long.fill(1);
        long[300] = 4;
        long[500] = 4;
        expect(await arr(fp.argmax(g(long)))).toEqual([300]);
        expect(await arr(fp.variance(g([1, 2, 3, 4])))).toEqual([Math.fround(5 / 3)]);
        expect(await arr(fp.variance(g([7]), { correction: 1 }))).toEqual([NaN]);
        expect(await arr(fp.variance(g([1, 3]), { correction: 2 }))).toEqual([Infinity]);
        const empty = fp.zeros([2, 0], { device: 'webgpu' });
        expect(await arr(fp.sum(empty, { axis: 1 }))).toEqual([0, 0]);
        expect(await arr(fp.prod(empty, { axis: 1 }))).toEqual([1, 1]);
        expect(await arr(fp.mean(empty, { axis: 1 }))).toEqual([NaN, NaN]);
        expect(await arr(fp.sum(empty, { axis: 0 }))).toEqual([]);
        const deep = fp.zeros(new Array(17).fill(2), { device: 'webgpu' });
        expect(() => fp.sum(deep, { axis: [0, 2, 4, 6, 8, 10, 12, 14, 16] })).toThrow(
          'forwardpass: webgpu: sum: reducing axes [0, 2, 4, 6, 8, 10, 12, 14, 16] of a tensor [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2] leaves more than 8 separate kept or reduced dim groups',
        );
        const sm = await arr(fp.softmax(g([0, Math.log(3), 5, 5], [2, 2]), 1));
        sm.forEach((v, i) => expect(v).toBeCloseTo([0.25, 0.75, 0.5, 0.5][i]!, 6));
        expect(await arr(fp.softmax(g([1, NaN, 2, 3], [2, 2]), 1))).toEqual([NaN, NaN, expect.closeTo(0.268941, 6), expect.closeTo(0.731059, 6)]);
        expect(await arr(fp.logSoftmax(g([0, 0, 0, 0]), 0))).toEqual([-Math.log(4), -Math.log(4), -Math.log(4), -Math.log(4)].map((v) => expect.closeTo(v, 6)));
      });
    });
  }
});
