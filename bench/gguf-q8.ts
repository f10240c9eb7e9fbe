// GGUF Q8_0 vs F32 on the CPU: a synthetic llama (hidden 512, 4 layers, ffn 1536, vocab 4096, random weights) written
// as F32 and as Q8_0 GGUF, loaded (f32 / int8 W8A8 / int8 W8), and timed generating 32 tokens; prints the bytes held.
// Run: node --import tsx --import ./test/wgsl-hook.mjs bench/gguf-q8.ts
import * as fp from '../src/node.js';

const C = 512, L = 4, F = 1536, V = 4096, H = 8;
const cfg = { model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: V, hidden_size: C, intermediate_size: F, num_hidden_layers: L, num_attention_heads: H, num_key_value_heads: H, max_position_embeddings: 512, rms_norm_eps: 1e-6 };
const lm = fp.hfModelFromConfig(cfg) as fp.LlamaForCausalLM;
const rng = fp.makeRng(7);
const state = new Map<string, fp.Tensor>();
for (const [k, t] of lm.namedParameters()) state.set(k, fp.fromStorage(Float32Array.from({ length: t.size }, () => (k.includes('norm') ? 1 : 0.05) * (rng() * 2 - 1) + (k.includes('norm') ? 0 : 0)), t.shape, 'float32'));
lm.loadStateDict(state);
const f32File = await fp.ggufFromLlama(lm);
await fp.quantize(lm, { weights: 'q8_0' });
const q8File = await fp.ggufFromLlama(lm);
lm.dispose();
const bytesHeld = (m: fp.LlamaForCausalLM) => m.namedParameters().reduce((a, [, t]) => a + t.size * (t.dtype === 'int8' ? 1 : t.dtype === 'float16' ? 2 : 4), 0);
const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
for (const [label, file, opts] of [['F32 file, f32', f32File, { precision: 'f32' }], ['Q8_0 file, int8 W8A8', q8File, {}], ['Q8_0 file, int8 W8', q8File, { activations: 'none' }]] as const) {
  const model = await fp.ggufModelFromFile(fp.readGguf(file), opts as fp.GgufLoadOptions);
  await fp.generate(model, prompt, { maxNewTokens: 4 }); // warm-up
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await fp.generate(model, prompt, { maxNewTokens: 32 });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${label}: file ${(file.length / 1e6).toFixed(2)} MB, weights held ${(bytesHeld(model) / 1e6).toFixed(2)} MB, 32 tokens in ${times[1]!.toFixed(0)} ms (median of 3, ${(32000 / times[1]!).toFixed(1)} tok/s)`);
  model.dispose();
}
