// INT8 layers on a NaN or ±Inf in their input, on the CPU and on WebGPU: with int8 activations (dynamic or static
// scales) the row or image holding it gets the activation scale NaN, so every output it feeds is NaN, never a
// finite "confident" number; weight-only layers keep float semantics. Other rows are untouched.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';

const DEVICES = webgpu.gpu ? ['cpu', 'webgpu'] : ['cpu'];

function net(): fp.nn.Sequential {
  const { Sequential, Conv2d, ReLU, Flatten, Linear } = fp.nn;
  const m = new Sequential([['conv', new Conv2d(2, 4, 3, { padding: 1 })], ['relu0', new ReLU()], ['flat', new Flatten()], ['fc', new Linear(64, 8)], ['relu1', new ReLU()]]);
  const sd: Record<string, fp.Tensor> = {};
  for (const [i, [k, p]] of m.namedParameters().entries()) sd[k] = fp.tensor(randomArray(p.size, 50 + i, -0.5, 0.5), { shape: [...p.shape] });
  m.loadStateDict(sd);
  return m;
}

/** Per row: 'finite', 'nan' (all NaN) or 'other'. */
function kinds(v: ArrayLike<number>, rows: number): string[] {
  const n = v.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    const row = Array.from({ length: n }, (_, j) => v[r * n + j]!);
    return row.every(Number.isFinite) ? 'finite' : row.every(Number.isNaN) ? 'nan' : 'other';
  });
}

describe('int8 layers on NaN and Inf inputs', () => {
  const schemes = [
    { weights: 'per-channel', activations: 'dynamic' }, { weights: 'q8_0', activations: 'dynamic' },
    { weights: 'per-channel', activations: 'static' }, { weights: 'per-channel', activations: 'none' },
  ] as const;
  for (const device of DEVICES) {
    for (const scheme of schemes) {
      it(`${device}: ${scheme.weights} weights, ${scheme.activations} activations`, async () => {
        const calib = fp.tensor(randomArray(2 * 32, 7), { shape: [2, 2, 4, 4] });
        let model = await fp.quantize(net(), { ...scheme, calibration: calib });
        if (device !== 'cpu') model = await model.to(device);
        const xs = randomArray(4 * 32, 9);
        xs[32 + 5] = NaN; // image 1: one NaN
        xs.fill(NaN, 64, 96); // image 2: all NaN
        xs[96 + 17] = Infinity; // image 3: one +Inf
        const x = await fp.tensor(xs, { shape: [4, 2, 4, 4] }).to(device);
        const conv = model.getSubmodule('conv'), fc = model.getSubmodule('fc');
        const yc = await fp.scopeSync(() => conv.forward(x)).data();
        const y = await fp.scopeSync(() => model.forward(x)).data();
        if (scheme.activations === 'none') {
          // float semantics: NaN spreads to the outputs whose window reads it, then through the dense layer to all
          expect(kinds(y, 4).slice(0, 3)).toEqual(['finite', 'nan', 'nan']);
          expect(kinds(yc, 4)[3]).toBe('other');
        } else {
          expect(kinds(yc, 4)).toEqual(['finite', 'nan', 'nan', 'nan']);
          expect(kinds(y, 4)).toEqual(['finite', 'nan', 'nan', 'nan']);
        }
        const r = fp.tensor(randomArray(3 * 64, 11), { shape: [3, 64] });
        const rd = Float32Array.from(await r.data());
        rd[64 + 3] = NaN;
        const yl = await fp.scopeSync(() => fc.forward(fp.tensor(rd, { shape: [3, 64], device }))).data();
        expect(kinds(yl, 3)).toEqual(['finite', 'nan', 'finite']);
      });
    }
  }
});
