// The CPU fast path (Wasm SIMD128 kernels) side by side with the typed-array kernels it replaces and onnxruntime-web's
// Wasm build (one thread), in one process: matmul 512³, conv 32->32 at 56x56, int8 vs f32 linear (M = 1..256), the
// 784-512-512-10 MLP at batch 1/8/64, and the fixture
// models through forwardpass's ONNX runtime. The fast path runs on one thread, and on two (worker threads) for the
// large problems: matmul, conv, the MLP and the fixtures at batch 64. Figures are medians; ratios compare variants
// timed round-robin.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as fp from '../src/index.js';
import { batchInputs } from '../src/cli/bench-inputs.js';
import { readModelConfig } from '../src/cli/bench-models.js';
import { onnxModel } from '../test/io/onnx/writer.js';
import { onnxRunner } from './onnx-runner.js';
import { describeCeiling, wasmSimdCeiling } from './wasm-ceiling.js';
import { ortWebOneThread } from './peers.js';
import { whenThreadsReady } from '../src/backends/cpu/wasm/threads.js';
import { measure, type BenchRow, type BenchSuite } from './run.js';

const ROUNDS = 3;
/** FORWARDPASS_BENCH_ONLY=regex: time only the problems whose group name matches (e.g. 'int8|mlp'). */
const only = process.env.FORWARDPASS_BENCH_ONLY ? new RegExp(process.env.FORWARDPASS_BENCH_ONLY) : null;


const randomF32 = (n: number, seed: number) => { const r = fp.makeRng(seed); return Float32Array.from({ length: n }, () => r() * 2 - 1); };

/** An ONNX MLP: Gemm(+Relu) layers with constant weights [out, in] (transB = 1), input x [B, sizes[0]]. */
function mlpOnnx(sizes: number[], weights: Float32Array[], biases: Float32Array[]): Uint8Array {
  const nodes = [], inits = [];
  let prev = 'x';
  for (let l = 0; l + 1 < sizes.length; l++) {
    const y = l + 2 === sizes.length ? 'y' : `h${l}`, g = l + 2 === sizes.length ? 'y' : `g${l}`;
    inits.push({ name: `w${l}`, type: 'float' as const, dims: [sizes[l + 1]!, sizes[l]!], data: weights[l]! }, { name: `b${l}`, type: 'float' as const, dims: [sizes[l + 1]!], data: biases[l]! });
    nodes.push({ op: 'Gemm', inputs: [prev, `w${l}`, `b${l}`], outputs: [g], attrs: { transB: 1 } });
    if (y !== 'y') nodes.push({ op: 'Relu', inputs: [g], outputs: [y] });
    prev = y;
  }
  return onnxModel({ nodes, initializers: inits, inputs: [{ name: 'x', type: 'float', shape: ['B', sizes[0]!] }], outputs: [{ name: 'y', type: 'float', shape: ['B', sizes[sizes.length - 1]!] }] });
}

const suite: BenchSuite = {
  name: 'wasm',
  description: 'CPU fast path (Wasm SIMD128, one and two threads) vs the typed-array kernels and onnxruntime-web Wasm (one thread).',
  variants: {
    'wasm-simd': 'forwardpass CPU with the Wasm SIMD128 fast path (the default, relaxed SIMD switched off), one thread (setNumThreads(1))',
    'wasm-simd 2 threads': 'the same with setNumThreads(2): large GEMMs and im2col split across the caller and one worker thread',
    'wasm-relaxed': 'matmul 512³ only, where the runtime has relaxed SIMD (e.g. node --experimental-wasm-relaxed-simd): the GEMM with f32x4.relaxed_madd, one thread (the wasm-simd rows keep plain SIMD128: setWasmRelaxedSimd(false))',
    'typed-array': 'forwardpass CPU with setCpuFastPath(false): the typed-array reference kernels',
    'ort-web': 'onnxruntime-web, Wasm backend, numThreads 1, graph optimizations on',
    'wasm-simd int8': 'quantizeRows (Wasm, f64 division and Math.round rounding) + linearInt8 on the fast path (i32x4.dot_i16x8_s)',
    'typed-array int8': 'quantizeRows + linearInt8 on the typed-array kernels',
    'wasm-simd q8 W8A8': 'Q8_0 blocks of 32: quantizeRows block 32 + linearInt8 block 32 on the fast path (GGUF Q8_0, int8 activations)',
    'wasm-simd q8 W8': 'Q8_0 blocks of 32, weight-only: linearW8 block 32 on the fast path (f32 activations, int8 weights widened in registers)',
  },
  notes: ['Variants of one problem are timed round-robin in 3 passes; the lowest per-pass median is kept. 2 shared cores: compare ratios, not absolute times.'],
  async run(log, ctx) {
    const rows: BenchRow[] = [];
    const ort = await ortWebOneThread().catch(() => null);
    const timeMs = 200 * ctx.scale;
    const race = async (group: string, flops: number | null, fns: Record<string, () => unknown>) => {
      if (only && !only.test(group)) return;
      const best: Record<string, { medianMs: number; minMs: number; samples: number }> = {};
      for (let r = 0; r < ROUNDS; r++) {
        for (const [name, fn] of Object.entries(fns)) {
          const t = await measure(`${group} ${name}`, fn, { timeMs, minSamples: 3 });
          if (!best[name] || t.medianMs < best[name]!.medianMs) best[name] = t;
        }
      }
      const ref = best['ort-web']?.medianMs, one = best['wasm-simd']?.medianMs;
      for (const [variant, t] of Object.entries(best)) {
        const row: BenchRow = flops ? { group, variant, ...t, value: flops / t.medianMs / 1e6, best: flops / t.minMs / 1e6, unit: 'GFLOP/s' } : { group, variant, ...t, value: t.medianMs, best: t.minMs, unit: 'ms' };
        rows.push(row);
        log(`  ${group.padEnd(28)} ${variant.padEnd(19)} ${t.medianMs.toFixed(3).padStart(9)} ms${flops ? ` ${(flops / t.medianMs / 1e6).toFixed(1).padStart(6)} GFLOP/s` : ''}${ref ? `  (ort-web / this: ${(ref / t.medianMs).toFixed(2)}x)` : ''}${one && variant === 'wasm-simd 2 threads' ? `  (${(one / t.medianMs).toFixed(2)}x one thread)` : ''}`);
      }
    };
    const withPath = (on: boolean, f: () => unknown, threads = 1, relaxed = false) => () => { fp.setCpuFastPath(on); fp.setWasmRelaxedSimd(relaxed); fp.setNumThreads(threads); return f(); };
    /** The fast path on one thread, on two, and the typed-array kernels. */
    const paths = (f: () => unknown): Record<string, () => unknown> => ({ 'wasm-simd': withPath(true, f), 'wasm-simd 2 threads': withPath(true, f, 2), 'typed-array': withPath(false, f) });
    // start the worker now, so that no timed call runs before it is ready (lowering the count later only parks it)
    fp.setNumThreads(2);
    await whenThreadsReady();

    // matmul 512³
    {
      const n = 512, a = fp.tensor(randomF32(n * n, 1), { shape: [n, n] }), b = fp.tensor(randomF32(n * n, 2), { shape: [n, n] });
      const fns = paths(() => fp.matmul(a, b).dispose());
      // relaxed SIMD beside plain SIMD128, alternated in one process (only where this runtime validates it)
      if (fp.detectWasmFeatures().relaxedSimd) fns['wasm-relaxed'] = withPath(true, () => fp.matmul(a, b).dispose(), 1, true);
      if (ort) {
        const bytes = onnxModel({ nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], inputs: [{ name: 'a', type: 'float', shape: [n, n] }, { name: 'b', type: 'float', shape: [n, n] }], outputs: [{ name: 'y', type: 'float', shape: [n, n] }] });
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
        const feeds = { a: new ort.Tensor('float32', a.dataSync() as Float32Array, [n, n]), b: new ort.Tensor('float32', b.dataSync() as Float32Array, [n, n]) };
        fns['ort-web'] = () => s.run(feeds);
      }
      await race('matmul 512x512x512', 2 * n * n * n, fns);
    }

    // conv 32->32 3x3 pad 1 at 56x56 (batch 1)
    {
      const C = 32, S = 56, x = fp.tensor(randomF32(C * S * S, 3), { shape: [1, C, S, S] }), w = fp.tensor(randomF32(C * C * 9, 4).map((v) => v / 17), { shape: [C, C, 3, 3] });
      const b = fp.tensor(randomF32(C, 5));
      const conv = () => fp.conv2d(x, w, b, { padding: 1 }).dispose();
      const fns = paths(conv);
      if (ort) {
        const bytes = onnxModel({
          nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } }],
          initializers: [{ name: 'w', type: 'float', dims: [C, C, 3, 3], data: w.dataSync() as Float32Array }, { name: 'b', type: 'float', dims: [C], data: b.dataSync() as Float32Array }],
          inputs: [{ name: 'x', type: 'float', shape: [1, C, S, S] }], outputs: [{ name: 'y', type: 'float', shape: [1, C, S, S] }],
        });
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
        const feeds = { x: new ort.Tensor('float32', x.dataSync() as Float32Array, [1, C, S, S]) };
        fns['ort-web'] = () => s.run(feeds);
      }
      await race('conv 32->32 3x3 @56x56', 2 * C * C * 9 * S * S, fns);
    }

    // int8 W8A8 linear (dynamic activation quantization included) against f32 linear, K = N = 512 at M = 1..256 and
    // GPT-2's c_fc shape (768 -> 3072), with the Q8_0 block kernels (W8A8 and weight-only W8); then one 2048x2048
    // layer at M = 1 (weights beyond the caches)
    for (const [K, N, Ms] of [[512, 512, [1, 8, 64, 256]], [768, 3072, [1, 8, 64]], [2048, 2048, [1]]] as const) {
      const w = fp.tensor(randomF32(N * K, 6), { shape: [N, K] }), b = fp.tensor(randomF32(N, 7));
      const [wq, ws] = fp.quantizeRows(w), [wq8, ws8] = fp.quantizeRows(w, { block: 32 });
      for (const M of Ms) {
        const x = fp.tensor(randomF32(M * K, 8 + M), { shape: [M, K] });
        const f32 = () => fp.linear(x, w, b).dispose();
        const int8 = () => fp.scopeSync(() => { const [xq, xs] = fp.quantizeRows(x); fp.linearInt8(xq, xs, wq, ws, b, { k: K }); });
        const q8 = () => fp.scopeSync(() => { const [xq, xs] = fp.quantizeRows(x, { block: 32 }); fp.linearInt8(xq, xs, wq8, ws8, b, { block: 32, k: K }); });
        const w8 = () => fp.linearW8(x, wq8, ws8, b, { block: 32 }).dispose();
        const typed: Record<string, () => unknown> = K === 512 && M <= 64 ? { 'typed-array int8': withPath(false, int8) } : {};
        await race(`linear ${K}x${N} M=${M} f32 vs int8`, 2 * M * K * N, {
          'wasm-simd': withPath(true, f32), 'wasm-simd int8': withPath(true, int8), 'wasm-simd q8 W8A8': withPath(true, q8), 'wasm-simd q8 W8': withPath(true, w8), ...typed,
        });
      }
    }

    // MLP 784-512-512-10
    const sizes = [784, 512, 512, 10];
    const ws = sizes.slice(1).map((o, l) => randomF32(o * sizes[l]!, 10 + l).map((v) => v / Math.sqrt(sizes[l]!)));
    const bs = sizes.slice(1).map((o, l) => randomF32(o, 20 + l));
    const W = ws.map((w, l) => fp.tensor(w, { shape: [sizes[l + 1]!, sizes[l]!] })), Bi = bs.map((b) => fp.tensor(b));
    const session = ort ? await ort.InferenceSession.create(mlpOnnx(sizes, ws, bs), { executionProviders: ['wasm'] }) : null;
    for (const B of [1, 8, 64]) {
      const x = fp.tensor(randomF32(B * 784, 30 + B), { shape: [B, 784] });
      const mlp = () => fp.scopeSync(() => { let h = x; for (let l = 0; l < 3; l++) h = fp.linear(h, W[l]!, Bi[l]!, { activation: l < 2 ? 'relu' : 'none' }); return h.dataSync(); });
      const fns = paths(mlp);
      if (session && ort) { const feeds = { x: new ort.Tensor('float32', x.dataSync() as Float32Array, [B, 784]) }; fns['ort-web'] = () => session.run(feeds); }
      await race(`mlp 784-512-512-10 B=${B}`, 2 * B * (784 * 512 + 512 * 512 + 512 * 10), fns);
    }

    // fixture models through loadOnnx
    const root = 'test/fixtures';
    for (const name of readdirSync(root).filter((d) => existsSync(join(root, d, 'model.onnx'))).sort()) {
      if (only && ![1, 8, 64].some((B) => only.test(`${name} B=${B}`))) continue;
      const dir = join(root, name), config = readModelConfig(dir);
      const runner = await onnxRunner(dir, 'cpu', 'f32');
      const os = ort ? await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }) : null;
      for (const B of [1, 8, 64]) {
        const { inputs } = await batchInputs(dir, config, B);
        const bound = await runner.bind(inputs);
        const fns: Record<string, () => unknown> = B === 64 ? paths(() => bound.call()) : { 'wasm-simd': withPath(true, () => bound.call()), 'typed-array': withPath(false, () => bound.call()) };
        if (os && ort) {
          const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.dtype === 'int32' ? new ort.Tensor('int64', BigInt64Array.from(v.data, (q) => BigInt(q)), v.shape) : new ort.Tensor('float32', v.data as Float32Array, v.shape)]));
          fns['ort-web'] = () => os.run(feeds);
        }
        await race(`${name} B=${B}`, null, fns);
        bound.dispose();
      }
      runner.dispose();
    }
    fp.setCpuFastPath(true);
    fp.setWasmRelaxedSimd(true);
    fp.setNumThreads(1);
    // each GFLOP/s problem's best fast-path median as a share of this machine's ceiling (one thread: plain SIMD128
    // for the f32 rows, the int16 dot for int8, where a multiply-add counts as 2 FLOPs, as the dot's 2 ops)
    const ceiling = wasmSimdCeiling();
    log(describeCeiling(ceiling));
    suite.notes!.push(`${describeCeiling(ceiling)}. Share of it reached, median of the best pass (one thread):`);
    for (const r of rows) {
      if (r.unit !== 'GFLOP/s' || !['wasm-simd', 'wasm-relaxed', 'wasm-simd int8'].includes(r.variant)) continue;
      const peak = r.variant === 'wasm-simd int8' ? ceiling.int16Dot : r.variant === 'wasm-relaxed' ? (ceiling.f32Relaxed ?? ceiling.f32) : ceiling.f32;
      suite.notes!.push(`${r.group}, ${r.variant}: ${r.value.toFixed(1)} GFLOP/s = ${((100 * r.value) / peak).toFixed(0)}% of ${peak.toFixed(1)}`);
    }
    return rows;
  },
};

export default suite;
