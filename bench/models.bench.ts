// Model benchmark: every fixture model in f32, f16 and int8 on the CPU backend and on WebGPU (SwiftShader here:
// CPU speed), at batch 1, 8, 64 (--full: 1, 2, 4, ..., 256), with onnxruntime-node and onnxruntime-web on the
// same inputs; cold start, latency percentiles, throughput, memory, and accuracy vs f32 on the eval sets.
import { fileURLToPath } from 'node:url';
import '../src/node.js';
import type { Precision } from '../src/cli/backend.js';
import { batchInputs, syntheticInputs } from '../src/cli/bench-inputs.js';
import { accuracyVsF32, benchModel, forwardpassRunner, readModelConfig, type ModelRunner } from '../src/cli/bench-models.js';
import type { AccuracyFigure, ColdStartFigure } from '../src/cli/bench-result.js';
import { scaleBudget } from '../src/cli/bench-stats.js';
import { onnxPeers, peerVersion } from './peers.js';
import { onnxRunner } from './onnx-runner.js';
import { modelCharts, modelMarkdown, type ModelReport } from './models-report.js';
import { tinybenchTimer, type BenchRow, type BenchSuite } from './run.js';
import { adapterLine, startWebGPU } from './webgpu-setup.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls', 'tiny-gpt'];
const PRECISIONS: Precision[] = ['f32', 'f16', 'int8'];
const QUICK_BATCHES = [1, 8, 64];
const FULL_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256];

let report: ModelReport | null = null;

const suite: BenchSuite = {
  name: 'models',
  default: true,
  description: 'Fixture models in f32, f16 and int8 on the CPU backend and WebGPU at several batch sizes, with onnxruntime-node and onnxruntime-web on the same inputs: latency p50/p95/p99, throughput, cold start, memory, accuracy vs f32.',
  variants: {
    'forwardpass cpu <p>': 'loadModel + precision p on the CPU backend (one thread): f32; f16 = half weights and activations, f32 arithmetic; int8 = quantize(): per-channel int8 weights, dynamic per-row int8 activations',
    'forwardpass webgpu <p>': 'the same model moved to WebGPU (Dawn); every call reads the output back to the host',
    'forwardpass-onnx cpu f32': 'the fixture model.onnx through forwardpass\'s own ONNX runtime (loadOnnx) on the CPU backend',
    'onnxruntime-node cpu f32': 'the fixture model.onnx in onnxruntime-node (native CPU), intra-op threads 1',
    'onnxruntime-web wasm f32': 'the fixture model.onnx in onnxruntime-web (WebAssembly in Node), numThreads 1',
  },
  notes: [],
  async run(log, ctx) {
    const batches = ctx.full ? FULL_BATCHES : QUICK_BATCHES;
    const start = await startWebGPU();
    const a = start.gpu?.setup.adapter;
    const adapter = a ? adapterLine(a) : `none (${start.reason})`;
    log(`webgpu adapter: ${adapter}${a?.isSoftware ? ' — software: CPU speed' : ''}`);
    const budget = scaleBudget({ warmupCalls: 1, timeMs: ctx.full ? 1500 : 360, minSamples: 4, maxSamples: 2000 }, ctx.scale);
    const cpuLimit = (ctx.full ? 60_000 : 10_000) * Math.min(1, ctx.scale * 4);
    const gpuLimit = a?.isSoftware ? (ctx.full ? 20_000 : 1_200) * Math.min(1, ctx.scale * 4) : cpuLimit;
    const rows: BenchRow[] = [], accuracy: AccuracyFigure[] = [], coldStart: ColdStartFigure[] = [], skipped: { key: string; reason: string }[] = [];
    const peerNotes = new Set<string>();
    const inputSources: Record<string, string> = {};
    const backends = start.gpu ? ['cpu', 'webgpu'] : ['cpu'];
    if (!start.gpu) peerNotes.add(`forwardpass webgpu: unavailable (${start.reason})`);
    const perModel = PRECISIONS.length * backends.length + 3;
    const progress = ctx.progress(MODELS.length * batches.length * perModel);
    for (const name of MODELS) {
      const dir = FIXTURES + name;
      const config = readModelConfig(dir);
      const runners: ModelRunner[] = [];
      for (const backend of backends) for (const p of PRECISIONS) runners.push(await forwardpassRunner(dir, backend, p));
      // the same model.onnx the peers run, through forwardpass's ONNX runtime
      runners.push(await onnxRunner(dir, 'cpu', 'f32'));
      const peers = await onnxPeers(dir);
      for (const m of peers.missing) peerNotes.add(m);
      runners.push(...peers.runners);
      inputSources[name] = (await batchInputs(dir, config, 1)).source;
      log(`${name}: ${runners.map((r) => r.name).join(', ')}`);
      const r = await benchModel(name, async (B) => (await batchInputs(dir, config, B)).inputs, runners, {
        batches, budget, rounds: 2, callLimitMs: cpuLimit, callLimitFor: (x) => (x.backend === 'webgpu' ? gpuLimit : cpuLimit), timer: tinybenchTimer,
        log, tick: (label) => progress.tick(label),
      });
      for (const row of r.rows) log(`  ${String(row.group).padEnd(22)} ${String(row.variant).padEnd(28)} p50 ${row.medianMs.toPrecision(3)} ms  ${row.throughput!.toPrecision(4)} samples/s${row.speedVsPeers ? `  ${Object.entries(row.speedVsPeers as Record<string, number>).map(([k, v]) => `${v.toFixed(2)}x ${k}`).join(', ')}` : ''}`);
      for (const s of r.skipped) log(`  ${s.key}: ${s.reason}`);
      rows.push(...r.rows);
      coldStart.push(...r.coldStart);
      skipped.push(...r.skipped);
      // accuracy on the CPU (and on WebGPU with --full: a software adapter takes minutes for the larger eval sets)
      const accRunners = runners.filter((x) => x.backend !== 'webgpu' || ctx.full);
      accuracy.push(...(await accuracyVsF32(name, dir, config, accRunners, 'forwardpass cpu f32', async () => syntheticInputs(config, 64, 7))));
      for (const x of runners) x.dispose();
    }
    progress.done();
    report = {
      adapter, isSoftware: !!a?.isSoftware, batches, rows, accuracy, coldStart, skipped, inputSources,
      peerNotes: [...peerNotes], versions: { 'onnxruntime-node': peerVersion('onnxruntime-node'), 'onnxruntime-web': peerVersion('onnxruntime-web') },
      budget, limits: { cpuMs: cpuLimit, webgpuMs: gpuLimit },
    };
    return rows;
  },
  report() {
    if (!report) return {};
    return {
      json: { adapter: report.adapter, accuracy: report.accuracy, coldStart: report.coldStart, skipped: report.skipped, peers: report.versions, peerNotes: report.peerNotes, inputSources: report.inputSources, budget: report.budget, callLimits: report.limits },
      markdown: modelMarkdown(report),
      files: modelCharts(report),
    };
  },
};

export default suite;
