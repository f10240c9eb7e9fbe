// WebGPU benchmark: GFLOP/s of every forwardpass WebGPU matmul path and of tfjs-backend-webgpu on the same adapter
// (256..2048), and fixture-model latency on WebGPU vs the CPU backend. Every figure names the adapter it ran on.
import os from 'node:os';
import * as fp from '../src/node.js';
import { MATMUL_PATHS, chooseMatmulPath, withMatmulPath, type MatmulOverride } from '../src/backends/webgpu/programs/matmul.js';
import type { BenchSuite } from './run.js';
import { MODEL_BATCHES, MODEL_BOX, MODELS, MODEL_TOLERANCE, benchModels } from './webgpu-models.js';
import { addResult, num, renderMarkdown, type Collector, type ReportInput } from './webgpu-report.js';
import { adapterLine, maxAbsDiff, percentile, startTfjs, startWebGPU, timeBoxed, type TfjsStart, type TimeBox, type TimedTask } from './webgpu-setup.js';

const SIZES = [256, 512, 1024, 2048];
/** The pre-timing check: an awkward product (M not a tile multiple), K and N multiples of 4 so vec4 loads run. */
const CHECK = { M: 129, K: 132, N: 68 };
const MATMUL_BOX: TimeBox = { callLimitMs: 40_000, budgetMs: 8_000, rounds: 4, maxSamples: 50 };
/** A call predicted longer than this skips its warm-up when the same kernel already ran at the smaller size. */
const NO_WARMUP_ABOVE_MS = 5_000;
const SOFTWARE_NOTE = 'software adapter: CPU speed, compare only side by side';

/** forwardpass WebGPU matmul variants: the path forced through withMatmulPath (null: the automatic choice). */
const FP_VARIANTS: [string, MatmulOverride | null][] = [
  ['webgpu gemm-vec4', { path: 'gemm' }],
  ['webgpu gemm-scalar', { path: 'gemm', vec4: false }],
  ['webgpu naive', { path: 'naive' }],
  ['webgpu auto', null],
];
const TFJS = 'tfjs-webgpu';
const CPU = 'cpu fp.matmul';

/** Matmul results may differ from the CPU's float64-accumulated product by this much (inputs in [-1, 1]). */
const tolerance = (K: number) => 1e-4 * Math.sqrt(K);

function randomF32(n: number, seed: number): Float32Array {
  const rng = fp.makeRng(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

type Tf = NonNullable<TfjsStart['tf']>;

let report: ReportInput | null = null;
let extraJson: Record<string, unknown> = {};

/** Check every WebGPU variant and tfjs on a small product against the CPU backend; returns why tfjs failed, if it did. */
async function checkSmall(col: Collector, gpu: fp.WebGPUBackend, tf: Tf | null): Promise<{ tfjsProblem: string; checks: Record<string, unknown>[] }> {
  const { M, K, N } = CHECK;
  const a = randomF32(M * K, 11), b = randomF32(K * N, 12);
  const want = await fp.matmul(fp.tensor(a, { shape: [M, K], device: 'cpu' }), fp.tensor(b, { shape: [K, N], device: 'cpu' })).data();
  const ga = fp.tensor(a, { shape: [M, K], device: 'webgpu' }), gb = fp.tensor(b, { shape: [K, N], device: 'webgpu' });
  const checks: Record<string, unknown>[] = [];
  for (const [name, o] of FP_VARIANTS) {
    const c = withMatmulPath(o ?? {}, () => fp.matmul(ga, gb));
    const kernel = gpu.variant();
    const d = maxAbsDiff(await c.data(), want);
    c.dispose();
    checks.push({ variant: name, shape: [M, K, N], kernel, maxAbsDiff: d, tolerance: tolerance(K) });
    if (!(d <= tolerance(K))) throw new Error(`bench: ${name} differs from the CPU product at ${M}x${K}x${N} by ${d} (tolerance ${tolerance(K)})`);
    col.log(`  check ${M}x${K}x${N} ${name.padEnd(20)} max |diff| ${d.toExponential(1)}  ${kernel}`);
  }
  ga.dispose();
  gb.dispose();
  let tfjsProblem = '';
  if (tf) {
    try {
      const ta = tf.tensor2d(a, [M, K]), tb = tf.tensor2d(b, [K, N]);
      const c = tf.matMul(ta, tb);
      const d = maxAbsDiff(await c.data(), want);
      tf.dispose([ta, tb, c]);
      checks.push({ variant: TFJS, shape: [M, K, N], maxAbsDiff: d, tolerance: tolerance(K) });
      col.log(`  check ${M}x${K}x${N} ${TFJS.padEnd(20)} max |diff| ${d.toExponential(1)}`);
      if (!(d <= tolerance(K))) tfjsProblem = `failed: differs from the CPU product at ${M}x${K}x${N} by ${d}`;
    } catch (e) {
      tfjsProblem = `failed: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return { tfjsProblem, checks };
}

/** Square products at every size: CPU backend, each forwardpass WebGPU variant, tfjs-webgpu, round-robin. */
async function benchMatmul(col: Collector, gpu: fp.WebGPUBackend | null, gpuReason: string, tf: Tf | null, tfjsReason: string): Promise<{ autoPaths: Record<number, string>; checks: Record<string, unknown>[] }> {
  let checks: Record<string, unknown>[] = [];
  let tfjsProblem = tf ? '' : `unavailable: ${tfjsReason}`;
  if (gpu) {
    const small = await checkSmall(col, gpu, tf);
    checks = small.checks;
    tfjsProblem ||= small.tfjsProblem;
  }
  const autoPaths: Record<number, string> = {};
  /** Per variant: the median ms at the previous size, or why it stopped. */
  const prev = new Map<string, number | string>();
  const variants = [CPU, ...FP_VARIANTS.map(([v]) => v), TFJS];
  for (const n of SIZES) {
    autoPaths[n] = chooseMatmulPath({ B: 1, M: n, N: n, K: n, transB: false });
    const a = randomF32(n * n, n), b = randomF32(n * n, n + 1);
    const ca = fp.tensor(a, { shape: [n, n], device: 'cpu' }), cb = fp.tensor(b, { shape: [n, n], device: 'cpu' });
    const ga = gpu ? fp.tensor(a, { shape: [n, n], device: 'webgpu' }) : null, gb = gpu ? fp.tensor(b, { shape: [n, n], device: 'webgpu' }) : null;
    const ta = gpu && tf && !tfjsProblem ? tf.tensor2d(a, [n, n]) : null, tb = ta ? tf!.tensor2d(b, [n, n]) : null;
    const last: Record<string, ArrayLike<number>> = {};
    const kernels: Record<string, string> = {};
    const calls: Record<string, () => Promise<void>> = {
      [CPU]: async () => {
        const c = fp.matmul(ca, cb);
        last[CPU] = await c.data();
        c.dispose();
      },
    };
    if (ga && gb) {
      for (const [name, o] of FP_VARIANTS) {
        calls[name] = async () => {
          const c = withMatmulPath(o ?? {}, () => fp.matmul(ga, gb));
          kernels[name] = gpu!.variant();
          last[name] = await c.data();
          c.dispose();
        };
      }
    }
    if (ta && tb) {
      calls[TFJS] = async () => {
        const c = tf!.matMul(ta, tb);
        last[TFJS] = await c.data();
        c.dispose();
      };
    }
    const tasks: TimedTask[] = [];
    for (const [name, call] of Object.entries(calls)) {
      const p = prev.get(name);
      if (typeof p === 'string') continue;
      const predictMs = p === undefined ? null : p * 8;
      tasks.push({ name, call, predictMs, warmup: !(predictMs !== null && predictMs > NO_WARMUP_ABOVE_MS) });
    }
    const results = await timeBoxed(tasks, MATMUL_BOX);
    const group = `matmul ${n}x${n}x${n}`;
    const tfjsRow = { value: NaN };
    for (const name of variants) {
      const engine = name === CPU ? 'cpu' : name === TFJS ? 'tfjs-webgpu' : 'webgpu';
      const base = { section: 'matmul' as const, engine, group, variant: name, size: n } as const;
      const before = prev.get(name);
      const r = results.get(name);
      if (!r) {
        const reason = typeof before === 'string' ? before : engine === 'cpu' ? 'failed: not run' : !gpu ? `unavailable: ${gpuReason}` : tfjsProblem;
        col.skipped.push({ ...base, reason });
        col.log(`  ${group.padEnd(26)} ${name.padEnd(20)} ${reason}`);
        continue;
      }
      const diff = engine !== 'cpu' && last[name] && last[CPU] ? maxAbsDiff(last[name], last[CPU]) : null;
      const row = addResult(col, { ...base, ...(kernels[name] ? { kernel: kernels[name] } : {}) }, r, 2 * n ** 3, 'GFLOP/s', diff);
      if (row && diff !== null && diff > tolerance(n)) col.log(`  MISMATCH: ${group} ${name} differs from the CPU backend by ${diff}`);
      if (row && name === TFJS) tfjsRow.value = row.value;
      prev.set(name, row ? percentile(r.samples, 0.5) : r.skipped!.startsWith('skipped: time budget') ? `skipped: time budget (skipped at ${n})` : `skipped: failed at ${n}`);
    }
    for (const row of col.rows) if (row.section === 'matmul' && row.size === n && row.engine === 'webgpu') row.ratioVsTfjs = Number.isNaN(tfjsRow.value) ? null : row.value / tfjsRow.value;
    for (const t of [ca, cb, ga, gb]) t?.dispose();
    if (ta && tb) tf!.dispose([ta, tb]);
  }
  return { autoPaths, checks };
}

const suite: BenchSuite = {
  name: 'webgpu',
  description: 'WebGPU: square float32 matmul (256..2048) for each forwardpass WebGPU path and tfjs-backend-webgpu on the same adapter, and fixture-model latency at batch 1, 8, 64 on WebGPU vs the CPU backend.',
  variants: {
    [CPU]: 'the CPU backend\'s public matmul() (one thread), as a reference point',
    'webgpu gemm-vec4': `forced path 'gemm' (vec4 loads: the sizes are multiples of 4): ${MATMUL_PATHS.gemm}`,
    'webgpu gemm-scalar': "forced path 'gemm' with vec4: false (scalar loads)",
    'webgpu naive': `forced path 'naive': ${MATMUL_PATHS.naive}`,
    'webgpu auto': 'fp.matmul() on WebGPU with the path chooseMatmulPath picks',
    [TFJS]: '@tensorflow/tfjs-backend-webgpu tf.matMul on a device from the same GPU object (WEBGPU_CPU_FORWARD off)',
    'model cpu / webgpu': 'the fixture model (loadModel) run on that backend; the logits are read back',
  },
  notes: [
    'The summary and method are in the sections above; webgpu.json holds every figure with its adapter, plus the skipped ones and why.',
  ],
  async run(log) {
    const start = await startWebGPU();
    const gpu = start.gpu;
    const a = gpu?.setup.adapter ?? null;
    const adapterText = a ? adapterLine(a) : `none (${start.reason})`;
    const speedNote = a?.isSoftware ? SOFTWARE_NOTE : null;
    log(`adapter: ${adapterText}${speedNote ? ` — ${speedNote}` : ''}`);
    const tfjs: TfjsStart | null = gpu ? await startTfjs(gpu) : null;
    const tfjsReason = tfjs ? tfjs.reason : `no WebGPU adapter for forwardpass (${start.reason}), so none for tfjs either`;
    if (tfjs?.tf) log(`tfjs-webgpu ${tfjs.versions.webgpu}: adapter ${tfjs.adapter ? adapterLine(tfjs.adapter) : 'unknown'}, same adapter: ${tfjs.sameAdapter}`);
    else log(`tfjs-webgpu unavailable: ${tfjsReason}`);
    const col: Collector = { adapter: adapterText, speedNote, rows: [], skipped: [], log };
    const load1 = () => Number(os.loadavg()[0]!.toFixed(2));
    const load: Record<string, number> = { start: load1() };
    const t0 = performance.now();
    const { autoPaths, checks } = await benchMatmul(col, gpu, start.reason, tfjs?.tf ?? null, tfjsReason);
    const matmulSeconds = Math.round((performance.now() - t0) / 1000);
    load.afterMatmul = load1();
    await benchModels(col, gpu, start.reason);
    load.afterModels = load1();
    const modelSeconds = Math.round((performance.now() - t0) / 1000) - matmulSeconds;

    const adapterDetails = a
      ? [
          `forwardpass WebGPU: ${adapterText} (vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', description '${a.description}', isSoftware ${a.isSoftware}); from the ${gpu!.setup.source}; Dawn flags ${JSON.stringify(start.dawnFlags)}; VK_ICD_FILENAMES ${start.vkIcd ?? 'unset'}; features: ${Object.entries(gpu!.setup.features).filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'}.`,
        ]
      : [`forwardpass WebGPU: no adapter (${start.reason}); every WebGPU figure is marked unavailable.`];
    const tfjsDetails = tfjs?.tf
      ? [`tfjs-webgpu ${tfjs.versions.webgpu} with tfjs-core ${tfjs.versions.core}: \`navigator.gpu\` was forwardpass's GPU object; the adapter of its device: ${tfjs.adapter ? adapterLine(tfjs.adapter) : 'unknown'}; same adapter as forwardpass: ${tfjs.sameAdapter ? 'yes' : 'NO'}; flags ${Object.entries(tfjs.flags).map(([k, v]) => `${k}=${String(v)}`).join(', ')}.`]
      : [`tfjs-webgpu (tfjs-core ${tfjs?.versions.core ?? '?'}, backend ${tfjs?.versions.webgpu ?? '?'}): unavailable — ${tfjsReason}.`];
    report = {
      adapterText, speedNote, adapterDetails, tfjsDetails,
      matmulVariants: [CPU, ...FP_VARIANTS.map(([v]) => v), TFJS],
      matmulSizes: SIZES,
      modelNames: Object.keys(MODELS),
      batches: MODEL_BATCHES,
      modelInputs: Object.fromEntries(Object.entries(MODELS).map(([k, v]) => [k, v.describe])),
      rows: col.rows,
      skipped: col.skipped,
      autoPaths,
      method: [
        `Time boxes: matmul ${MATMUL_BOX.budgetMs / 1000} s of timed calls per variant and size, spread over ${MATMUL_BOX.rounds} round-robin passes over the variants of one size; models ${MODEL_BOX.budgetMs / 1000} s per backend and batch over ${MODEL_BOX.rounds} passes (cpu, webgpu); so bursts of load hit them alike. At least one sample each; a call is started only while the variant's timed total plus its median so far stays within its share of the budget. A single call cannot be cut short: one predicted (8× the previous size's median for matmul, linear in the batch for models) or first measured above ${MATMUL_BOX.callLimitMs / 1000} s is "skipped: time budget", and so are its larger sizes.`,
        `Correctness: before timing, every WebGPU matmul variant and tfjs were compared with the CPU backend on a ${CHECK.M}x${CHECK.K}x${CHECK.N} product (tolerance 1e-4·√K); the last timed result of every WebGPU/tfjs figure was compared with the CPU backend's at the same size (matmul 1e-4·√K; models ${MODEL_TOLERANCE} on the logits).`,
        'Timing: wall clock (performance.now) around one call that dispatches the work and awaits the result on the host (`await t.data()` in both engines), so every GPU figure includes submission, the readback copy and the map. GPU timestamp queries were not used.',
        `Wall time: matmul section ${matmulSeconds} s, model section ${modelSeconds} s; load average (1 min) ${load.start} at start, ${load.afterMatmul} after matmul, ${load.afterModels} at the end (2 cores, shared with other jobs).`,
      ],
    };
    extraJson = {
      adapter: a, adapterLine: adapterText, speedNote,
      webgpu: gpu ? { source: gpu.setup.source, features: gpu.setup.features, limits: gpu.setup.limits, dawnFlags: start.dawnFlags, vkIcdFilenames: start.vkIcd } : { unavailable: start.reason },
      tfjs: tfjs ? { available: !!tfjs.tf, reason: tfjs.reason || null, versions: tfjs.versions, adapter: tfjs.adapter, sameAdapter: tfjs.sameAdapter, sameGpuObject: tfjs.sameGpuObject, flags: tfjs.flags } : { available: false, reason: tfjsReason },
      timing: { matmul: MATMUL_BOX, models: MODEL_BOX, noWarmupAboveMs: NO_WARMUP_ABOVE_MS, call: 'dispatch + await data() (readback included), wall clock' },
      checks, autoPaths, loadavg1: load, sectionSeconds: { matmul: matmulSeconds, models: modelSeconds },
      skipped: col.skipped,
    };
    log(`\nmatmul ${matmulSeconds} s, models ${modelSeconds} s; load ${load.start} -> ${load.afterModels}; ${col.rows.length} figures, ${col.skipped.length} skipped (largest webgpu/tfjs ratio: ${num(Math.max(0, ...col.rows.map((r) => r.ratioVsTfjs ?? 0)))})`);
    return col.rows;
  },
  report() {
    return { json: extraJson, ...(report ? { markdown: renderMarkdown(report) } : {}) };
  },
};

export default suite;
