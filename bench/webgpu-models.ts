// Model section of the WebGPU benchmark: latency of the fixture models at batch 1, 8 and 64 on WebGPU and on the
// CPU backend (warm-up call separate, WebGPU timings include reading the logits back), outputs compared.
import { fileURLToPath } from 'node:url';
import * as fp from '../src/node.js';
import { addResult, type Collector } from './webgpu-report.js';
import { maxAbsDiff, percentile, timeBoxed, type TimeBox, type TimedTask } from './webgpu-setup.js';

export const MODEL_BATCHES = [1, 8, 64];
/** Largest |logit| difference between the WebGPU and CPU backends accepted (as in test/webgpu/models.test.ts). */
export const MODEL_TOLERANCE = 1e-3;
export const MODEL_BOX: TimeBox = { callLimitMs: 40_000, budgetMs: 6_000, rounds: 2, maxSamples: 200 };

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

interface Input {
  data: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
}

interface ModelSpec {
  describe: string;
  /** The inputs of batch B (host arrays). */
  inputs: (B: number) => Promise<Record<string, Input>>;
}

/** First B rows of an eval-set array (eval sets hold 540 or 1000 rows). */
async function evalRows(model: string, key: string, B: number): Promise<Input> {
  const ev = await fp.loadFixtureEval(FIXTURES + model);
  const t = ev[key]!;
  const row = t.size / t.shape[0]!;
  if (t.shape[0]! < B) throw new Error(`bench: ${model} eval '${key}' has ${t.shape[0]} rows, fewer than batch ${B}`);
  const data = (await t.data()).slice(0, B * row) as Float32Array | Int32Array;
  for (const x of Object.values(ev)) x.dispose();
  return { data, shape: [B, ...t.shape.slice(1)], dtype: t.dtype === 'int32' ? 'int32' : 'float32' };
}

export const MODELS: Record<string, ModelSpec> = {
  'mlp-digits': { describe: 'eval digits [B, 64]', inputs: async (B) => ({ input: await evalRows('mlp-digits', 'inputs', B) }) },
  'cnn-mnist': { describe: 'eval digits [B, 1, 28, 28]', inputs: async (B) => ({ input: await evalRows('cnn-mnist', 'inputs', B) }) },
  'tiny-gpt': {
    describe: 'seeded random ids [B, 64] (full context)',
    inputs: async (B) => {
      const rng = fp.makeRng(64 + B);
      return { input_ids: { data: Int32Array.from({ length: B * 64 }, () => Math.floor(rng() * 80)), shape: [B, 64], dtype: 'int32' } };
    },
  },
  'tiny-bert-cls': {
    describe: 'eval sequences [B, 16] with their padding masks',
    inputs: async (B) => ({ input_ids: await evalRows('tiny-bert-cls', 'input_ids', B), attention_mask: await evalRows('tiny-bert-cls', 'attention_mask', B) }),
  },
};

/**
 * Time every fixture model at every batch on the CPU backend and (when `gpu`) on WebGPU, round-robin within
 * a time box; batch B's time is predicted from the previous batch to skip calls that cannot fit.
 *
 * @example await benchModels(collector, gpu);
 */
export async function benchModels(col: Collector, gpu: fp.WebGPUBackend | null, gpuReason: string): Promise<void> {
  for (const [name, spec] of Object.entries(MODELS)) {
    const models: Record<string, fp.ConfiguredModel> = { cpu: await fp.loadModel(FIXTURES + name, { device: 'cpu' }) };
    if (gpu) models.webgpu = await fp.loadModel(FIXTURES + name, { device: 'webgpu' });
    const prev: Record<string, { batch: number; p50: number } | string> = {};
    for (const B of MODEL_BATCHES) {
      const host = await spec.inputs(B);
      const last: Record<string, ArrayLike<number>> = {};
      const tasks: TimedTask[] = [];
      const tensors: fp.Tensor[] = [];
      for (const [device, model] of Object.entries(models)) {
        const ins: Record<string, fp.Tensor> = {};
        for (const [k, v] of Object.entries(host)) tensors.push((ins[k] = fp.tensor(v.data, { shape: v.shape, dtype: v.dtype, device })));
        const p = prev[device];
        tasks.push({
          name: device,
          call: async () => {
            last[device] = await fp.scope(async () => Object.values(model.run(ins))[0]!.data());
          },
          // cost grows at most linearly with the batch (a GPU usually does better)
          predictMs: typeof p === 'object' ? (p.p50 * B) / p.batch : null,
          warmup: true,
        });
      }
      const results = await timeBoxed(tasks.filter((t) => typeof prev[t.name] !== 'string'), MODEL_BOX);
      const group = `${name} batch ${B}`;
      for (const device of ['cpu', 'webgpu'] as const) {
        const base = { section: 'model' as const, engine: device, group, variant: device, size: B, model: name };
        const before = prev[device];
        if (device === 'webgpu' && !gpu) {
          col.skipped.push({ ...base, reason: `unavailable: ${gpuReason}` });
          continue;
        }
        if (typeof before === 'string') {
          col.skipped.push({ ...base, reason: before });
          col.log(`  ${group.padEnd(26)} ${device.padEnd(20)} ${before}`);
          continue;
        }
        const r = results.get(device)!;
        const diff = device === 'webgpu' && last.cpu && last.webgpu ? maxAbsDiff(last.webgpu, last.cpu) : null;
        const row = addResult(col, base, r, B, 'samples/s', diff);
        if (row && diff !== null && diff > MODEL_TOLERANCE) col.log(`  MISMATCH: ${group} webgpu differs from the CPU backend by ${diff}`);
        prev[device] = row ? { batch: B, p50: percentile(r.samples, 0.5) } : r.skipped!.startsWith('skipped: time budget') ? `skipped: time budget (skipped at batch ${B})` : `skipped: failed at batch ${B}`;
      }
      for (const t of tensors) t.dispose();
    }
    for (const m of Object.values(models)) m.dispose();
  }
}
