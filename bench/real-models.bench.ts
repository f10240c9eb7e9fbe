// Real-size models, export-free (bench/real-models.ts writes them with the test suite's ONNX writer): a ResNet-18
// CNN at 224×224 and a 6-layer 384-wide transformer encoder at sequence 128, MobileNetV2 and DeiT-tiny (batch 1
// and 8), a GPT-2-style 6x512 decoder and DistilBERT at sequence 128 (batch 1), on
// forwardpass's ONNX runtime with the typed-array kernels and with the Wasm SIMD fast path, onnxruntime-web (Wasm,
// one thread) and onnxruntime-node (native, one intra-op thread), timed round-robin in one process.
// `npm run bench -- real-models` (not in the default set: a few minutes); FORWARDPASS_BENCH_ONLY=regex picks problems.
import * as fp from '../src/index.js';
import { setThreadSpin, whenThreadsReady } from '../src/backends/cpu/wasm/threads.js';
import { REAL_MODELS, type RealFeed } from './real-models.js';
import { ortWebOneThread } from './peers.js';
import { measure, type BenchRow, type BenchSuite } from './run.js';

const ROUNDS = 2;
const only = process.env.FORWARDPASS_BENCH_ONLY ? new RegExp(process.env.FORWARDPASS_BENCH_ONLY) : null;

type OrtSession = { run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> };
type OrtModule = { InferenceSession: { create(bytes: Uint8Array, opts: Record<string, unknown>): Promise<OrtSession> }; Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: number[]) => unknown };

/** A feed as a forwardpass tensor (int64 ids are held as int32) and as an onnxruntime tensor. */
const fpTensor = (f: RealFeed) => (f.type === 'float32' ? fp.tensor(f.data, { shape: f.shape }) : fp.tensor(Int32Array.from(f.data, Number), { shape: f.shape, dtype: 'int32' }));
const ortFeeds = (ort: OrtModule, feeds: Record<string, RealFeed>) => Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type, f.data, f.shape)]));


const suite: BenchSuite = {
  name: 'real-models',
  description: 'ResNet-18, MobileNetV2, DeiT-tiny (224x224), a 6-layer 384-wide transformer encoder, a GPT-2-style 6x512 decoder and DistilBERT (seq 128) built with the ONNX test writer: forwardpass typed-array, forwardpass Wasm SIMD fast path, onnxruntime-web Wasm and onnxruntime-node, one thread each; the fast path on 2 threads too.',
  variants: {
    'fp wasm-simd': 'forwardpass loadOnnx on the CPU backend with the Wasm SIMD fast path (the default), one thread (setNumThreads(1))',
    'fp wasm-simd threads=2': 'the same on 2 threads (setNumThreads(2)): the GEMMs and im2col split across the calling thread and one worker',
    'fp typed-array': 'the same session with setCpuFastPath(false): the typed-array reference kernels',
    'ort-web': 'onnxruntime-web, Wasm backend, numThreads 1, graph optimizations on',
    'ort-node': 'onnxruntime-node, CPU provider, intra- and inter-op threads 1, graph optimizations on',
  },
  notes: ['Random seeded weights; inputs uniform in ±1. Variants of one problem are timed round-robin in 2 passes; the lower median is kept. 2 shared cores: compare ratios within one run.'],
  async run(log, ctx) {
    const rows: BenchRow[] = [];
    const web = (await ortWebOneThread().catch(() => null)) as unknown as OrtModule | null;
    const node = (await import('onnxruntime-node').catch(() => null)) as unknown as OrtModule | null;
    for (const { name, bytes: build, batches, timeMs, typedArrayBatches, feeds: feedsOf } of REAL_MODELS) {
      if (only && !batches.some((B) => only.test(`${name} B=${B}`))) continue;
      const bytes = build();
      const session = await fp.loadOnnx(bytes, { backend: 'cpu', name });
      const webS = web ? await web.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }) : null;
      const nodeS = node ? await node.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' }) : null;
      for (const B of batches) {
        const group = `${name} B=${B}`;
        if (only && !only.test(group)) continue;
        const feeds = feedsOf(B);
        const x = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, fpTensor(f)]));
        const cpuMs: Record<string, number> = {}, calls: Record<string, number> = {};
        const runFp = (on: boolean, threads: number, name: string) => async () => {
          fp.setCpuFastPath(on); fp.setNumThreads(threads);
          const c0 = process.cpuUsage();
          const out = await session.run(x); const y = Object.values(out)[0]!; const d = y.dataSync(); y.dispose();
          const c = process.cpuUsage(c0);
          cpuMs[name] = (cpuMs[name] ?? 0) + (c.user + c.system) / 1000; calls[name] = (calls[name] ?? 0) + 1;
          return d;
        };
        fp.setNumThreads(2); await whenThreadsReady(); // the worker started and ready before any timing
        if (process.env.FORWARDPASS_THREAD_SPIN) setThreadSpin(Number(process.env.FORWARDPASS_THREAD_SPIN)); // polls before sleeping (0: none)
        const fns: Record<string, () => Promise<unknown>> = { 'fp wasm-simd': runFp(true, 1, 'fp wasm-simd'), 'fp wasm-simd threads=2': runFp(true, 2, 'fp wasm-simd threads=2') };
        if (!typedArrayBatches || typedArrayBatches.includes(B)) fns['fp typed-array'] = runFp(false, 1, 'fp typed-array');
        if (webS && web) { const f = ortFeeds(web, feeds); fns['ort-web'] = () => webS.run(f); }
        if (nodeS && node) { const f = ortFeeds(node, feeds); fns['ort-node'] = () => nodeS.run(f); }
        // agreement: the fast path against onnxruntime-node (or -web) on this input
        const fast = (await fns['fp wasm-simd']!()) as Float32Array;
        const peerOut = nodeS && node ? Object.values(await nodeS.run(ortFeeds(node, feeds)))[0]!.data as Float32Array : null;
        if (peerOut) {
          let diff = 0, mag = 0;
          for (let i = 0; i < fast.length; i++) { diff = Math.max(diff, Math.abs(fast[i]! - peerOut[i]!)); mag = Math.max(mag, Math.abs(peerOut[i]!)); }
          log(`  ${group}: max |fast path - onnxruntime-node| = ${diff.toExponential(2)} (max |output| ${mag.toFixed(2)})`);
        }
        const best: Record<string, { medianMs: number; minMs: number; samples: number }> = {};
        for (let r = 0; r < ROUNDS; r++) {
          for (const [variant, fn] of Object.entries(fns)) {
            const t = await measure(`${group} ${variant}`, fn, { timeMs: timeMs * ctx.scale, minSamples: 2 });
            if (!best[variant] || t.medianMs < best[variant]!.medianMs) best[variant] = t;
          }
        }
        const ref = best['ort-web']?.medianMs, refNode = best['ort-node']?.medianMs;
        for (const [variant, t] of Object.entries(best)) {
          rows.push({ group, variant, ...t, value: t.medianMs, best: t.minMs, unit: 'ms' });
          log(`  ${group.padEnd(26)} ${variant.padEnd(23)} ${t.medianMs.toFixed(2).padStart(9)} ms${ref ? `  ort-web/this ${(ref / t.medianMs).toFixed(2)}x` : ''}${refNode ? `  ort-node/this ${(refNode / t.medianMs).toFixed(2)}x` : ''}`);
        }
        const one = best['fp wasm-simd'], two = best['fp wasm-simd threads=2'];
        if (one && two) {
          const cpu = (v: string) => cpuMs[v]! / calls[v]!;
          log(`  ${group.padEnd(26)} 2 threads / 1 thread: ${(one.medianMs / two.medianMs).toFixed(2)}x (median), ${(one.minMs / two.minMs).toFixed(2)}x (fastest); CPU time per call ${cpu('fp wasm-simd').toFixed(1)} -> ${cpu('fp wasm-simd threads=2').toFixed(1)} ms (1 thread / 2 threads ${(cpu('fp wasm-simd') / cpu('fp wasm-simd threads=2')).toFixed(2)}x: 1.00 is no threading overhead)`);
        }
        for (const t of Object.values(x)) t.dispose();
      }
      session.dispose();
    }
    fp.setCpuFastPath(true);
    fp.setNumThreads(1);
    return rows;
  },
};

export default suite;
