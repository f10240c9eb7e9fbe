// Kernel benchmark: matmul, matrix-vector, conv2d and attention across sizes in GFLOP/s and GB/s, for every
// forwardpass CPU variant, every WebGPU path the backend can be forced onto, and tfjs-cpu / tfjs-webgpu on the
// same inputs (and the same adapter). Every task is checked against a float64 reference before it is timed.
import { summarize } from '../src/cli/bench-stats.js';
import { figureFrom, type BenchFigure } from '../src/cli/bench-result.js';
import { maxAbsDiff } from '../src/cli/bench-models.js';
import { attentionProblem, convProblem, matmulProblem, matvecProblem, type KernelTask, type Problem } from './kernels-problems.js';
import { kernelCharts, kernelMarkdown, type KernelReport } from './kernels-report.js';
import { peerVersion, tfjsCpu } from './peers.js';
import { measure, type BenchRow, type BenchSuite } from './run.js';
import { adapterLine, startTfjs, startWebGPU } from './webgpu-setup.js';

type Tf = typeof import('@tensorflow/tfjs-core');

function problems(full: boolean): Problem[] {
  return [
    ...(full ? [64, 128, 256, 512, 1024] : [64, 128, 256]).map(matmulProblem),
    ...(full ? [256, 1024, 2048, 4096] : [256, 1024]).map(matvecProblem),
    ...[
      { N: 1, C: 16, H: 28, O: 32, k: 3, stride: 1, groups: 1 },
      { N: 1, C: 32, H: 28, O: 32, k: 3, stride: 1, groups: 32 },
      ...(full ? [{ N: 8, C: 16, H: 28, O: 32, k: 3, stride: 1, groups: 1 }, { N: 1, C: 64, H: 56, O: 64, k: 3, stride: 1, groups: 1 }] : []),
    ].map(convProblem),
    ...[{ B: 1, Hh: 4, T: 64, D: 16 }, { B: 1, Hh: 4, T: 256, D: 64 }, ...(full ? [{ B: 1, Hh: 8, T: 512, D: 64 }] : [])].map(attentionProblem),
  ];
}

let report: KernelReport | null = null;

const suite: BenchSuite = {
  name: 'kernels',
  default: true,
  description: 'Kernels on one CPU thread and on WebGPU: matmul, matrix-vector (linear at M = 1), conv2d, attention; every forwardpass variant and tfjs-cpu / tfjs-webgpu on the same inputs, GFLOP/s and GB/s.',
  variants: {
    'cpu <naive|ikj|tiled|packed|auto>': 'the CPU product variants of src/backends/cpu/kernels/matmul.ts called directly (matvec: through the linear kernel, x·Wᵀ + b)',
    'fp.<op> cpu': 'the public op on the CPU backend (dispatch, allocation, the kernel it picks)',
    'naive loops (reference)': 'conv2d / attention: the float64 reference loops of the benchmark itself, timed as the naive baseline',
    'webgpu <path>': 'the WebGPU op forced onto a path with withMatmulPath (gemm vec4/scalar, naive, matvec with/without subgroups, split-K); conv2d and attention have one kernel per shape',
    'tfjs-cpu / tfjs-webgpu': '@tensorflow/tfjs-core with tfjs-backend-cpu, or tfjs-backend-webgpu on the same GPU object as forwardpass; attention is matMul + softmax + matMul (tfjs has no fused kernel)',
  },
  notes: [],
  async run(log, ctx) {
    const start = await startWebGPU();
    const a = start.gpu?.setup.adapter;
    const adapter = a ? adapterLine(a) : `none (${start.reason})`;
    log(`webgpu adapter: ${adapter}${a?.isSoftware ? ' — software: CPU speed' : ''}`);
    const tfGpu = start.gpu ? await startTfjs(start.gpu) : null;
    const tfc = await tfjsCpu();
    const tf: Tf | null = tfc.tf;
    const notes: string[] = [];
    if (!tf) notes.push(tfc.reason);
    if (!start.gpu) notes.push(`forwardpass webgpu and tfjs-webgpu: unavailable (${start.reason})`);
    else if (!tfGpu?.tf) notes.push(`tfjs-webgpu: skipped (${tfGpu?.reason})`);
    const timeMs = (ctx.full ? 1000 : 250) * ctx.scale;
    const cpuLimit = ctx.full ? 15_000 : 4_000;
    const gpuLimit = a?.isSoftware ? (ctx.full ? 15_000 : 1_500) : cpuLimit;
    const rows: BenchRow[] = [], skipped: { key: string; reason: string }[] = [], checks: Record<string, unknown>[] = [];
    const stopped = new Map<string, { size: number; ms: number } | string>();
    const list = problems(ctx.full);
    const progress = ctx.progress(list.length * 2);
    for (const p of list) {
      for (const side of ['cpu', 'webgpu'] as const) {
        if (side === 'webgpu' && !start.gpu) { progress.tick(`${p.group} webgpu`); continue; }
        const tfSide = side === 'cpu' ? tf : tfGpu?.tf ?? null;
        if (tfSide) await tfSide.setBackend(side === 'cpu' ? 'cpu' : 'webgpu');
        const set = side === 'cpu' ? p.cpu(tfSide) : p.gpu(tfSide);
        const limit = side === 'cpu' ? cpuLimit : gpuLimit;
        const live: KernelTask[] = [];
        for (const t of set.tasks) {
          const key = `kernel ${p.group} ${t.variant}`;
          const id = `${p.op} ${t.variant}`;
          const prev = stopped.get(id);
          const predicted = typeof prev === 'object' ? (prev.ms * p.flops) / (prev.size || 1) : 0;
          if (typeof prev === 'string' || predicted > limit) {
            const reason = typeof prev === 'string' ? prev : `skipped: time budget (one call predicted ~${(predicted / 1000).toFixed(1)} s > ${(limit / 1000).toFixed(1)} s)`;
            stopped.set(id, reason);
            skipped.push({ key, reason });
            continue;
          }
          // the check doubles as the warm-up call (pipelines compiled, buffers pooled)
          let diff: number, first: number;
          try {
            const t0 = performance.now();
            const got = await t.call();
            first = performance.now() - t0;
            diff = maxAbsDiff(got, t.want ?? p.want);
          } catch (e) {
            skipped.push({ key, reason: `failed: ${(e as Error).message.split('\n')[0]}` });
            continue;
          }
          checks.push({ key, maxAbsDiff: diff, tol: p.tol, ok: diff <= p.tol });
          if (!(diff <= p.tol)) {
            skipped.push({ key, reason: `failed: differs from the float64 reference by ${diff.toExponential(2)} (tolerance ${p.tol.toExponential(1)}); not timed` });
            log(`  WRONG: ${key} differs from the reference by ${diff}`);
            continue;
          }
          if (first > limit) {
            const reason = `skipped: time budget (the warm-up call took ${(first / 1000).toFixed(1)} s)`;
            stopped.set(id, reason);
            skipped.push({ key, reason });
            continue;
          }
          live.push(t);
        }
        const samples = new Map<KernelTask, number[]>(live.map((t) => [t, []]));
        for (let round = 0; round < 2; round++) {
          for (const t of live) {
            const m = await measure(t.variant, t.call, { timeMs: timeMs / 2, minSamples: 2, warmup: false });
            samples.get(t)!.push(...(m.sampleMs ?? [m.medianMs]));
          }
        }
        const made: BenchFigure[] = [];
        for (const t of live) {
          const s = summarize(samples.get(t)!, 1);
          const row = figureFrom({ key: `kernel ${p.group} ${t.variant}`, kind: 'kernel', group: p.group, variant: t.variant, engine: t.engine, backend: side, size: p.size, op: p.op, readback: side === 'webgpu' ? true : null }, s, 'GFLOP/s', p.flops / 1e9);
          row.gbps = p.bytes / 1e6 / s.p50Ms;
          row.maxAbsDiff = checks.find((c) => c.key === row.key)?.maxAbsDiff as number;
          made.push(row);
          stopped.set(`${p.op} ${t.variant}`, { size: p.flops, ms: s.p50Ms });
          log(`  ${p.group.padEnd(36)} ${t.variant.padEnd(36)} ${row.value.toFixed(3).padStart(9)} GFLOP/s ${row.gbps.toFixed(3).padStart(8)} GB/s  p50 ${s.p50Ms.toPrecision(3)} ms (n=${s.samples})`);
        }
        const peer = made.find((r) => r.engine!.startsWith('tfjs'));
        if (peer) for (const r of made.filter((x) => x.engine === 'forwardpass')) r.speedVsPeers = { [peer.engine!]: r.value / peer.value };
        rows.push(...made);
        set.dispose();
        progress.tick(`${p.group} ${side}`);
      }
    }
    progress.done();
    if (tf) await tf.setBackend('cpu');
    report = {
      adapter, isSoftware: !!a?.isSoftware, rows, skipped, notes, checks, timeMs, limits: { cpuMs: cpuLimit, webgpuMs: gpuLimit },
      versions: { 'tfjs-core': peerVersion('@tensorflow/tfjs-core'), 'tfjs-backend-cpu': tfc.version, 'tfjs-backend-webgpu': peerVersion('@tensorflow/tfjs-backend-webgpu') },
      tfjsSameAdapter: tfGpu?.tf ? tfGpu.sameAdapter : null,
    };
    return rows;
  },
  report() {
    if (!report) return {};
    return {
      json: { adapter: report.adapter, skipped: report.skipped, checks: report.checks, peers: report.versions, tfjsWebgpuSameAdapter: report.tfjsSameAdapter, peerNotes: report.notes, timeMsPerTask: report.timeMs, callLimits: report.limits },
      markdown: kernelMarkdown(report),
      files: kernelCharts(report),
    };
  },
};

export default suite;
