// WebGPU layerNorm, rmsNorm, groupNorm and batchNorm against the CPU backend: awkward shapes, every combination
// of the optional weight/bias, offset inputs and parameters, float16, shifted and scaled data (the two-pass
// statistics must hold ~1e-5), hand-checked values, each on the subgroup path and on its portable twin.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { Checks, onPath, PATHS, type Tolerance } from './helpers.js';

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Data of `shape` with mean `mu` and spread `scale`: the statistics must survive an offset. */
const data = (shape: number[], seed: number, mu = 0, scale = 1) => fp.tensor(randomArray(size(shape), seed, mu - scale, mu + scale), { shape });

/** |got - want| <= r * max(1, |want|). */
const within = (r: number): Tolerance => (w) => r * Math.max(1, Math.abs(w));
/** float32: two-pass f32 statistics vs the CPU's float64 ones. float16: one half-precision step (2^-10 relative) with margin. */
const F32 = within(2e-6);
const F16 = within(2 ** -9);

describe.skipIf(!webgpu.gpu)(`webgpu normalizations (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const [path, backend] of PATHS) {
    it(`layerNorm and rmsNorm over the last one and two dims match the CPU (${path})`, async () => {
      const c = new Checks();
      const variants = await onPath(backend, async () => {
        for (const [k, shape] of [[1], [3, 17], [2, 3, 255], [5, 1, 7, 33], [1025], [2, 3000]].entries()) {
          const x = data(shape, 10 + k, 3, 2);
          for (const dims of shape.length > 1 ? [1, 2] : [1]) {
            const ns = shape.slice(shape.length - dims);
            const w = data(ns, 20 + k, 1, 0.5), b = data(ns, 30 + k);
            const tag = `${JSON.stringify(shape)} over ${JSON.stringify(ns)}`;
            await c.add(`layerNorm ${tag}`, (t) => fp.layerNorm(t!, ns), [x], F32);
            await c.add(`layerNorm ${tag} weight`, (t, ww) => fp.layerNorm(t!, ns, ww), [x, w], F32);
            await c.add(`layerNorm ${tag} weight bias`, (t, ww, bb) => fp.layerNorm(t!, ns, ww, bb, 1e-3), [x, w, b], F32);
            await c.add(`layerNorm ${tag} bias`, (t, bb) => fp.layerNorm(t!, ns, null, bb), [x, b], F32);
            await c.add(`rmsNorm ${tag}`, (t) => fp.rmsNorm(t!, ns), [x], F32);
            await c.add(`rmsNorm ${tag} weight`, (t, ww) => fp.rmsNorm(t!, ns, ww, 1e-6), [x, w], F32);
          }
        }
        // float16 x and parameters; a row-offset view of x and offset views of the parameters
        const xh = fp.cast(data([6, 40], 40, 1, 3), 'float16'), wh = fp.cast(data([40], 41, 1, 0.5), 'float16'), bh = fp.cast(data([40], 42), 'float16');
        await c.add('float16 layerNorm', (t, ww, bb) => fp.layerNorm(t!, 40, ww, bb), [xh, wh, bh], F16);
        await c.add('float16 rmsNorm', (t, ww) => fp.rmsNorm(t!, 40, ww), [xh, wh], F16);
        const big = data([7, 40], 43, -2, 5), params = data([3, 40], 44);
        await c.add('offset views', (t, p) => fp.layerNorm(t!.narrow(0, 2, 4), 40, p!.narrow(0, 1, 1).reshape([40]), p!.narrow(0, 2, 1).reshape([40])), [big, params], F32);
        await c.add('transposed view', (t) => fp.rmsNorm(t!.transpose(0, 1), 7), [big], F32);
      });
      expect(await c.failures()).toEqual([]);
      expect(variants.some((v) => v.includes('SUBGROUPS=true'))).toBe(path === 'subgroups' && webgpu.gpu!.setup.features.subgroups);
    });

    it(`groupNorm and batchNorm match the CPU (${path})`, async () => {
      const c = new Checks();
      await onPath(backend, async () => {
        for (const [k, [shape, groups]] of ([[[2, 6, 17], [1, 2, 3, 6]], [[1, 4, 5, 7], [1, 4]], [[3, 8], [2, 8]], [[5, 1, 7, 33], [1]], [[2, 32, 9, 9], [8, 32]], [[1, 2, 1025], [1, 2]]] as const).entries()) {
          const x = data([...shape], 50 + k, -2, 3);
          const C = shape[1]!;
          const w = data([C], 60 + k, 1, 0.5), b = data([C], 70 + k);
          const mean = data([C], 80 + k, -2, 1), vr = data([C], 90 + k, 1.05, 1);
          const tag = JSON.stringify(shape);
          for (const g of groups) {
            await c.add(`groupNorm ${tag} G=${g}`, (t) => fp.groupNorm(t!, g), [x], F32);
            await c.add(`groupNorm ${tag} G=${g} weight bias`, (t, ww, bb) => fp.groupNorm(t!, g, ww, bb, 1e-3), [x, w, b], F32);
          }
          await c.add(`groupNorm ${tag} weight`, (t, ww) => fp.groupNorm(t!, groups[0], ww), [x, w], F32);
          await c.add(`batchNorm ${tag}`, (t, m, v) => fp.batchNorm(t!, m!, v!), [x, mean, vr], F32);
          await c.add(`batchNorm ${tag} weight`, (t, m, v, ww) => fp.batchNorm(t!, m!, v!, ww), [x, mean, vr, w], F32);
          await c.add(`batchNorm ${tag} weight bias`, (t, m, v, ww, bb) => fp.batchNorm(t!, m!, v!, ww, bb, 1e-3), [x, mean, vr, w, b], F32);
          await c.add(`batchNorm ${tag} bias`, (t, m, v, bb) => fp.batchNorm(t!, m!, v!, null, bb), [x, mean, vr, b], F32);
        }
        const xh = fp.cast(data([2, 6, 5, 3], 100, 1, 2), 'float16'), ph = fp.cast(data([6], 101, 1, 0.5), 'float16');
        await c.add('float16 groupNorm', (t, p) => fp.groupNorm(t!, 3, p, p), [xh, ph], F16);
        await c.add('float16 batchNorm', (t, p) => fp.batchNorm(t!, p!, fp.abs(p!), p, p), [xh, ph], F16);
        const big = data([4, 6, 10], 102, 2, 2), params = data([3, 6], 103, 0.5, 0.4);
        const row = (p: fp.Tensor, i: number) => p.narrow(0, i, 1).reshape([6]);
        await c.add('groupNorm offset views', (t, p) => fp.groupNorm(t!.narrow(0, 1, 2), 2, row(p!, 1), row(p!, 2)), [big, params], F32);
        await c.add('batchNorm offset views', (t, p) => fp.batchNorm(t!.narrow(0, 1, 3), row(p!, 0), row(p!, 1), row(p!, 2), row(p!, 0)), [big, params], F32);
        await c.add('batchNorm permuted view', (t, p) => fp.batchNorm(t!.permute(2, 1, 0), row(p!, 0), row(p!, 1)), [big, params], F32);
      });
      expect(await c.failures()).toEqual([]);
    });

    it(`hand-checked values (${path})`, async () => {
      await onPath(backend, async () => {
        const g = (v: number[], shape = [v.length]) => fp.tensor(v, { shape, device: 'webgpu' });
        const close = (v: number[]) => v.map((e) => expect.closeTo(e, 6));
        const s = Math.sqrt(1.25);
        const t = Math.sqrt(3);
        expect(Array.from(await fp.layerNorm(g([1, 2, 3, 4, 2, 2, 2, 6], [2, 4]), 4, null, null, 0).data())).toEqual(close([-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, -1 / t, -1 / t, -1 / t, 3 / t]));
        const r = Math.sqrt(12.5);
        expect(Array.from(await fp.rmsNorm(g([3, 4]), 2, g([1, 2]), 0).data())).toEqual(close([3 / r, 8 / r]));
        // groups of channels {0, 1} and {2, 3}, one position each: (x - mean) / std * weight + bias
        expect(Array.from(await fp.groupNorm(g([1, 3, 10, 30], [1, 4]), 2, g([1, 1, 2, 2]), g([0, 0, 0, 5]), 0).data())).toEqual(close([-1, 1, -2, 7]));
        expect(Array.from(await fp.batchNorm(g([1, 3, 5, 7], [1, 2, 2]), g([2, 6]), g([4, 1]), g([1, 2]), g([0, 10]), 0).data())).toEqual(close([-0.5, 0.5, 8, 12]));
      });
    });
  }
});
