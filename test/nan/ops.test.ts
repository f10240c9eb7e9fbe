// NaN and ±Inf through every op, on the CPU and on WebGPU (subgroup and portable paths), against PyTorch's values
// in expected.json (gen.py): relu(NaN) = NaN, max/maximum propagate NaN, argmax picks the first NaN, and so on.
import { describe, expect, it } from 'vitest';
import { webgpu } from '../webgpu.js';
import { PATHS, withBackend } from '../webgpu/helpers.js';
import { CASES, departures, expectedOf, inputsOf, OPS, TORCH_VERSION } from './cases.js';

/**
 * Tolerances on finite values, relative to max(1, |want|): the CPU computes in float32 like PyTorch but sums in
 * another order; WebGPU's exp, tanh and erf are a few ULP (erf 1.5e-7 absolute) and SwiftShader sums in float32.
 */
const CPU_TOL = 2e-6;
const GPU_TOL = 2e-5;
/** WGSL's sin and cos promise 2^-11 absolute error on [-π, π] only (SwiftShader is 2e-4 off at x = 3 and 25). */
const GPU_TOL_OP: Record<string, number> = { sin: 1e-3, cos: 1e-3 };

describe(`NaN and Inf on the CPU match PyTorch ${TORCH_VERSION}`, () => {
  it('every op gen.py covers has a forwardpass form', () => {
    expect(CASES.length).toBeGreaterThan(100);
    expect(CASES.filter((c) => !OPS[c.op]).map((c) => c.op)).toEqual([]);
  });
  it('every case', async () => {
    const bad: string[] = [];
    for (const c of CASES) {
      const ins = inputsOf(c);
      const y = OPS[c.op]!(ins, c.attrs);
      expect(y.shape, c.name).toEqual(c.out.shape);
      const d = departures(await y.data(), expectedOf(c), CPU_TOL);
      if (d.length) bad.push(`${c.name}: ${d.join('; ')}`);
      [...ins, y].forEach((t) => t.dispose());
    }
    expect(bad).toEqual([]);
  });
});

describe.skipIf(!webgpu.gpu)('NaN and Inf on WebGPU match PyTorch', () => {
  for (const [path, backend] of PATHS) {
    it(`every case (${path})`, async () => {
      const bad: string[] = [];
      await withBackend(backend, async () => {
        for (const c of CASES) {
          const ins = await Promise.all(inputsOf(c).map((t) => t.to('webgpu')));
          const y = OPS[c.op]!(ins, c.attrs);
          expect(y.device, c.name).toBe('webgpu');
          const d = departures(await y.data(), expectedOf(c), GPU_TOL_OP[c.op] ?? GPU_TOL);
          if (d.length) bad.push(`${c.name}: ${d.join('; ')}`);
          [...ins, y].forEach((t) => t.dispose());
        }
      });
      expect(bad).toEqual([]);
    }, 600_000);
  }
});

describe('the checks can fail', () => {
  it('a finite value where PyTorch has NaN is a departure, and so is the wrong infinity', () => {
    expect(departures([0, Infinity], [NaN, Infinity], 1e-6)).toHaveLength(1);
    expect(departures([1, -Infinity], [1, Infinity], 1e-6)).toHaveLength(1);
    expect(departures([NaN, 1 + 1e-7], [NaN, 1], 1e-6)).toEqual([]);
  });
});
