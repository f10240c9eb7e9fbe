// GGUF beside safetensors on the CPU: one synthetic llama (hidden 512, 4 layers, ffn 1536, vocab 4096, random
// weights) saved as safetensors and as F32 and Q8_0 GGUF files, loaded as float32, float16, GGUF F32 and GGUF Q8_0
// (weight-only W8, the default, and W8A8 with activations quantized per block of 32), on the fast path and on the
// typed-array kernels. Per variant: greedy generation (8-token prompt, 32 new tokens, KV cache: one row per step)
// in tokens/s, a 64-token prefill in tokens/s, and the bytes the weights occupy (parameters, plus the fast path's
// packed copies). Run: `npm run bench -- gguf` (or FORWARDPASS_BENCH_ONLY=regex to time some variants only).
import * as fp from '../src/node.js';
import type { BenchRow, BenchSuite } from './run.js';

const C = 512, L = 4, F = 1536, V = 4096, H = 8, NEW = 32, PREFILL = 64, ROUNDS = 5;
const only = process.env.FORWARDPASS_BENCH_ONLY ? new RegExp(process.env.FORWARDPASS_BENCH_ONLY) : null;
const cfg = { model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: V, hidden_size: C, intermediate_size: F, num_hidden_layers: L, num_attention_heads: H, num_key_value_heads: H, max_position_embeddings: 512, rms_norm_eps: 1e-6 };

/** The files: safetensors (float32) and GGUF F32 / Q8_0 of one random llama. */
async function files(): Promise<{ st: Uint8Array; f32: Uint8Array; q8: Uint8Array }> {
  const lm = fp.hfModelFromConfig(cfg) as fp.LlamaForCausalLM;
  const rng = fp.makeRng(7);
  const state = new Map<string, fp.Tensor>();
  for (const [k, t] of lm.namedParameters()) state.set(k, fp.fromStorage(Float32Array.from({ length: t.size }, () => (k.includes('norm') ? 1 : 0.05 * (rng() * 2 - 1))), t.shape, 'float32'));
  lm.loadStateDict(state);
  const st = await fp.saveSafetensors(new Map(lm.namedParameters()));
  const f32 = await fp.ggufFromLlama(lm);
  await fp.quantize(lm, { weights: 'q8_0' });
  const q8 = await fp.ggufFromLlama(lm);
  lm.dispose();
  for (const t of state.values()) t.dispose();
  return { st, f32, q8 };
}

const paramBytes = (m: fp.LlamaForCausalLM) => m.namedParameters().reduce((a, [, t]) => a + t.size * (t.dtype === 'int8' ? 1 : t.dtype === 'float16' ? 2 : 4), 0);

const suite: BenchSuite = {
  name: 'gguf',
  description: `A llama (hidden ${C}, ${L} layers, ffn ${F}, vocab ${V}) from safetensors and GGUF files on one CPU thread: greedy generation and prefill tokens/s, weight bytes.`,
  variants: {
    'safetensors f32': 'safetensors file, float32 weights',
    'safetensors f16': 'safetensors file, weights stored float16 (widened per op)',
    'gguf F32': 'GGUF F32 file (float32 weights)',
    'gguf Q8_0 W8': 'GGUF Q8_0 file, the default: int8 weights + f16 block scales, float activations (linearW8)',
    'gguf Q8_0 W8A8': 'GGUF Q8_0 file with activations: dynamic (activations quantized per block of 32, linearInt8)',
  },
  notes: [
    'Rows "fast path" run the Wasm SIMD kernels (the default), rows "typed-array" the reference kernels (FORWARDPASS_WASM=0). All variants of a path are loaded and warmed up, then timed round-robin in 5 rounds: generation = median of 32 new tokens after an 8-token prompt, prefill = median forward pass over 64 tokens.',
    'Weight bytes: the parameters as held (int8 + f16 scales for Q8_0), then the fast path\'s packed copies in Wasm memory (memory().cacheBytes after the runs).',
    '2 shared cores: compare variants within one run; the load average is recorded.',
  ],
  async run(log) {
    const { st, f32, q8 } = await files();
    const stModel = async (dtype: 'float32' | 'float16') => {
      const m = fp.hfModelFromConfig(cfg) as fp.LlamaForCausalLM;
      const { tensors } = fp.loadSafetensors(st);
      m.loadStateDict(tensors);
      for (const t of tensors.values()) t.dispose();
      if (dtype === 'float16') await m.to({ dtype: 'float16' });
      return m;
    };
    const makers: [string, () => Promise<fp.LlamaForCausalLM>][] = [
      ['safetensors f32', () => stModel('float32')],
      ['safetensors f16', () => stModel('float16')],
      ['gguf F32', () => fp.ggufModelFromFile(fp.readGguf(f32))],
      ['gguf Q8_0 W8', () => fp.ggufModelFromFile(fp.readGguf(q8))],
      ['gguf Q8_0 W8A8', () => fp.ggufModelFromFile(fp.readGguf(q8), { activations: 'dynamic' })],
    ];
    const rows: BenchRow[] = [];
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
    const long = fp.tensor(Int32Array.from({ length: PREFILL }, (_, i) => (i * 37 + 11) % V), { shape: [1, PREFILL], dtype: 'int32' });
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    for (const fast of [true, false]) {
      const path = fast ? 'fast path' : 'typed-array';
      fp.setCpuFastPath(fast);
      // every variant loaded and warmed up first, then timed round-robin, so that load from other jobs hits all alike
      const runs: { variant: string; model: fp.LlamaForCausalLM; packed: number; gen: number[]; pre: number[] }[] = [];
      for (const [variant, make] of makers) {
        if (only && !only.test(`${variant} ${path}`)) continue;
        const cacheBefore = fp.cpuBackend.memory().cacheBytes ?? 0;
        const model = await make();
        await fp.generate(model, prompt, { maxNewTokens: 4 }); // warm-up (packs the weights on the fast path)
        runs.push({ variant, model, packed: (fp.cpuBackend.memory().cacheBytes ?? 0) - cacheBefore, gen: [], pre: [] });
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const run of runs) {
          let t0 = performance.now();
          await fp.generate(run.model, prompt, { maxNewTokens: NEW });
          run.gen.push(performance.now() - t0);
          t0 = performance.now();
          fp.scopeSync(() => run.model.run({ input_ids: long }));
          run.pre.push(performance.now() - t0);
        }
      }
      for (const { variant, model, packed, gen, pre } of runs) {
        const g = median(gen), p = median(pre), held = paramBytes(model);
        const precision = variant.split(' ').slice(1).join(' ');
        rows.push({ group: `generate 32 tokens (${path})`, variant, medianMs: g, minMs: Math.min(...gen), samples: ROUNDS, value: (NEW * 1000) / g, best: (NEW * 1000) / Math.min(...gen), unit: 'tok/s', kind: 'model', precision, size: 1 });
        rows.push({ group: `prefill ${PREFILL} tokens (${path})`, variant, medianMs: p, minMs: Math.min(...pre), samples: ROUNDS, value: (PREFILL * 1000) / p, best: (PREFILL * 1000) / Math.min(...pre), unit: 'tok/s', kind: 'model', precision, size: PREFILL });
        rows.push({ group: 'weight bytes', variant: `${variant} (${path})`, medianMs: 0, minMs: 0, samples: 1, value: held / 1e6, best: (held + packed) / 1e6, unit: 'MB held (best: + packed)' });
        log(`  ${variant.padEnd(16)} ${path.padEnd(11)} generate ${((NEW * 1000) / g).toFixed(1).padStart(6)} tok/s (best ${((NEW * 1000) / Math.min(...gen)).toFixed(1)}), prefill ${((PREFILL * 1000) / p).toFixed(0).padStart(5)} tok/s (best ${((PREFILL * 1000) / Math.min(...pre)).toFixed(0)}), weights ${(held / 1e6).toFixed(2)} MB + packed ${(packed / 1e6).toFixed(2)} MB`);
        model.dispose();
      }
    }
    fp.setCpuFastPath(true);
    long.dispose();
    return rows;
  },
};

export default suite;
