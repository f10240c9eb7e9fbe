// quantizeRows on the Wasm fast path against its typed-array twin (kernels/int8.ts over quantizeBlock): q and the
// scales bit for bit on awkward shapes, blocks, static scales, exact .5 ties (half up on |r|, not nearest-even),
// values that round differently in f32 and f64 division, zero rows, and NaN / ±Inf rows (scale NaN, q zero).
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { quantModuleBytes } from '../../src/backends/cpu/wasm/quant.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

type Out = { q: number[]; s: number[]; variant: string };
function run(x: fp.Tensor, opts: fp.QuantizeRowsOptions, fast: boolean): Out {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === 'quantizeRows') variant = e.variant ?? ''; });
  try {
    setCpuFastPath(fast);
    const [q, s] = fp.quantizeRows(x, opts);
    return { q: Array.from(q.dataSync() as Int8Array), s: Array.from(s.dataSync() as Float32Array), variant };
  } finally {
    off();
    setCpuFastPath(true);
  }
}

function expectTwin(x: fp.Tensor, opts: fp.QuantizeRowsOptions = {}): Out {
  const fast = run(x, opts, true), ref = run(x, opts, false);
  expect(fast.variant).toBe('quantizeRows-wasm-simd');
  expect(ref.variant).toBe('');
  expect(fast.q).toEqual(ref.q);
  expect(fast.s).toEqual(ref.s); // toEqual treats NaN as equal to NaN
  return fast;
}

describe('quantizeRows on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(quantModuleBytes())).toBe(true);
  });

  test.each([[1, 1], [1, 3], [3, 17], [5, 255], [64, 512], [70, 33], [2, 1021]])('M=%i K=%i: the twin bit for bit, dynamic and static, rows and blocks', (M, K) => {
    const x = fp.tensor(randomArray(M * K, M * 31 + K, -3, 3), { shape: [M, K] });
    expectTwin(x);
    expectTwin(x, { padTo: 16 });
    expectTwin(x, { staticScale: 0.01 }); // clamps at ±127
    if (K >= 4) expectTwin(x, { block: 32 });
    expectTwin(x, { block: 8 });
  });

  test('extreme magnitudes: huge quotients under a static scale clamp at ±127; tiny and denormal values; max by bits', () => {
    // quant clamps with f64x2.pmin and converts through the 1.5·2^52 trick, absmax compares float bits as int32:
    // quotients far beyond 2^52, denormals and values just below a power of two must still match the twin
    const row = [3e38, -3e38, 1e30, -1e-30, 1e-45, -1e-45, 2 ** -126, 0.99999994, -1, 127.49999, 0.5000001, 1e20];
    const x = fp.tensor(Float32Array.from({ length: 3 * 16 }, (_, i) => (i < 16 ? row[i % row.length]! : (row[i % row.length]! * (i >> 4)) / 7)), { shape: [3, 16] });
    expectTwin(x);
    expectTwin(x, { staticScale: 1e-3 });
    expectTwin(x, { staticScale: 1e30 });
    expectTwin(x, { block: 8 });
    const tiny = fp.tensor(Float32Array.from({ length: 8 }, (_, i) => (i - 3.5) * 1e-44), { shape: [1, 8] }); // amax / 127 below MIN_SCALE: scale 1
    expectTwin(tiny);
  });

  test('exact .5 ties round half up on |r| (away from zero), as Math.round, not to even', () => {
    const row = [127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 1.5, -1.5, 0, -0, 3.4999998];
    const out = expectTwin(fp.tensor(Float32Array.from(row), { shape: [1, row.length] }));
    expect(out.s).toEqual([1]);
    expect(out.q.slice(0, row.length)).toEqual([127, 3, -3, 1, -1, 127, -127, 2, -2, 0, 0, 3]);
  });

  test('exact ties at any scale, and their float32 neighbours: round half up, as the twin (quant rounds floor(|r| + 0.5))', () => {
    // s with at most 16 significant bits makes (j + 0.5)·s exact in float32, so x / s is exactly a tie; one float32
    // step either side is the closest a non-tie quotient can come, which floor(|r| + 0.5) must still round as the twin
    const rng = fp.makeRng(11), M = 64, K = 3 * 128;
    const d = new Float32Array(M * K), ulp = (v: number) => { const b = new Float32Array([Math.abs(v)]); const u = new Uint32Array(b.buffer); u[0]! += 1; return b[0]! - Math.abs(v); };
    for (let m = 0; m < M; m++) {
      const s = Math.fround((1 + Math.floor(rng() * 65535)) * 2 ** (Math.floor(rng() * 40) - 30));
      d[m * K] = 127 * s;
      for (let k = 1; k < K; k += 3) {
        const x = Math.fround((Math.floor(rng() * 254) - 127 + 0.5) * s);
        d[m * K + k] = x;
        d[m * K + k + 1] = Math.fround(x + ulp(x));
        if (k + 2 < K) d[m * K + k + 2] = Math.fround(x - ulp(x));
      }
    }
    const x = fp.tensor(d, { shape: [M, K] });
    expectTwin(x);
    for (let m = 0; m < 4; m++) expectTwin(fp.tensor(d.slice(m * K, (m + 1) * K), { shape: [1, K] }), { staticScale: d[m * K]! / 127 });
  });

  test('the division is in float64 like the twin: quotients that a float32 division would round onto a tie', () => {
    // x / s lands just below k + 0.5 in f64 but on it in f32 for many such pairs; compare against the twin everywhere
    const rng = fp.makeRng(7), M = 200, K = 64;
    const d = new Float32Array(M * K);
    for (let m = 0; m < M; m++) {
      const amax = 1 + rng() * 100;
      d[m * K] = amax;
      const s = Math.fround(amax / 127);
      for (let k = 1; k < K; k++) d[m * K + k] = Math.fround((Math.floor(rng() * 254) - 127 + 0.5) * s) * (1 + (rng() - 0.5) * 2 ** -22);
    }
    expectTwin(fp.tensor(d, { shape: [M, K] }));
  });

  test('zero rows get scale 1; NaN and ±Inf rows (or blocks) get scale NaN and zero quants; float16 input', () => {
    const K = 40, d = randomArray(6 * K, 3);
    d.fill(0, 0, K);
    d[K + 7] = NaN;
    d[2 * K + 39] = Infinity;
    d[3 * K] = -Infinity;
    d[4 * K + 33] = NaN; // a block of 32 holding NaN: only that block's scale is NaN
    const x = fp.tensor(d, { shape: [6, K] });
    const out = expectTwin(x);
    expect(out.s[0]).toBe(1);
    expect(out.s.slice(1, 4).every(Number.isNaN)).toBe(true);
    expect(out.s[4]).toBeNaN();
    expect(Number.isFinite(out.s[5])).toBe(true);
    expect(out.q.slice(out.q.length / 6, (2 * out.q.length) / 6).every((v) => v === 0)).toBe(true);
    const blocks = expectTwin(x, { block: 32 });
    expect(blocks.s.slice(8, 10).map(Number.isNaN)).toEqual([false, true]);
    expectTwin(x, { staticScale: 0.02 });
    expectTwin(fp.tensor(d, { shape: [6, K], dtype: 'float16' }));
  });

  test('NaN in an int8 layer input row gives NaN outputs on the fast path too', () => {
    const K = 20, N = 5, d = randomArray(2 * K, 9);
    d[K + 3] = NaN;
    const [wq, ws] = fp.quantizeRows(fp.tensor(randomArray(N * K, 10), { shape: [N, K] }));
    const [xq, xs] = fp.quantizeRows(fp.tensor(d, { shape: [2, K] }));
    const y = Array.from(fp.linearInt8(xq, xs, wq, ws, null, { k: K }).dataSync() as Float32Array);
    expect(y.slice(0, N).every(Number.isFinite)).toBe(true);
    expect(y.slice(N).every(Number.isNaN)).toBe(true);
  });
});
