// Writing llama models as GGUF: the shared F32 and Q8_0 files loaded and written again give back every tensor's
// bytes exactly (names, ne, q/k permutation, Q8_0 blocks), and a model quantized here to Q8_0 loads back the same.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { SHARED_MODELS } from '../hf/helpers.js';

const LLAMA = resolve(SHARED_MODELS, 'llama');
const HAS = existsSync(resolve(LLAMA, 'model-q8_0.gguf'));

describe.skipIf(!HAS)('ggufFromLlama', () => {
  for (const [type, precision] of [['f32', 'f32'], ['q8_0', 'int8']] as const) {
    it(`model-${type}.gguf -> model (${precision}) -> GGUF: every tensor byte-identical (Q8_0 token_embd included), metadata kept`, async () => {
      const orig = await fp.readGgufFile(resolve(LLAMA, `model-${type}.gguf`));
      const model = await fp.ggufModelFromFile(orig, { precision });
      const tokKeys = Object.fromEntries([...orig.metadata].filter(([k]) => k.startsWith('tokenizer.')));
      const back = fp.readGguf(await fp.ggufFromLlama(model, { name: 'tiny-llama', metadata: tokKeys }));
      expect([...back.tensors.keys()].sort()).toEqual([...orig.tensors.keys()].sort());
      for (const [name, e] of orig.tensors) {
        const b = back.tensors.get(name)!;
        expect([b.type, b.ne], name).toEqual([e.type, e.ne]);
        expect(Buffer.from(fp.ggufTensorBytes(back, name)).equals(Buffer.from(fp.ggufTensorBytes(orig, name))), name).toBe(true);
      }
      for (const [k, kv] of orig.metadata) expect(back.metadata.get(k), k).toEqual(kv);
      model.dispose();
    });
  }

  it('a model quantized to Q8_0 here writes a file that loads back to the same logits', async () => {
    const model = await fp.loadGguf(resolve(LLAMA, 'model-f32.gguf'));
    await fp.quantize(model, { weights: 'q8_0' });
    // quantize() keeps activations dynamic (W8A8); a GGUF loads weight-only unless asked, so ask for the same
    const again = await fp.ggufModelFromFile(fp.readGguf(await fp.ggufFromLlama(model)), { activations: 'dynamic' });
    const ids = fp.tensor([[312, 413, 376, 275, 82]], { dtype: 'int32' });
    const a = await model.forward(ids).logits!.data(), b = await again.forward(ids).logits!.data();
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(Number(a[i]) - Number(b[i])));
    expect(max).toBe(0);
    model.dispose(); again.dispose();
  });

  it('a model GGUF llama cannot express is refused', async () => {
    const lm = fp.hfModelFromConfig({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], vocab_size: 8, hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2 }) as fp.LlamaForCausalLM;
    await expect(fp.ggufFromLlama(lm)).rejects.toThrow(/has no q\/k\/v biases/);
  });
});
