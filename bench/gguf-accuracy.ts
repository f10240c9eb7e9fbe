// Q8_0 and Q4_0 GGUF files against the float32 model: ../shared/hf/models/llama/model-{q8_0,q4_0}.gguf loaded three
// ways (float32 compute on the dequantized weights; int8 W8 = weight-only; int8 W8A8 = int8 activations too, the
// default) and compared with logits.npy (transformers, float32 weights) over the 21 valid positions: logits cosine,
// max |d|, next-token (argmax) agreement, and how many of the 20 greedy tokens after the reference prompt match the
// float32 model's. Prints a Markdown table.
// Run: node --import tsx --import ./test/wgsl-hook.mjs bench/gguf-accuracy.ts
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as fp from '../src/node.js';

const DIR = resolve(fileURLToPath(import.meta.url), '../../../shared/hf/models/llama');
const ref = JSON.parse(readFileSync(resolve(DIR, 'reference.json'), 'utf8'));
const inputs = { input_ids: await fp.readNpyFile(resolve(DIR, 'input_ids.npy')), attention_mask: await fp.readNpyFile(resolve(DIR, 'attention_mask.npy')) };
const want = (await (await fp.readNpyFile(resolve(DIR, 'logits.npy'))).data()) as Float32Array;
const [B, T, V] = [2, 12, 512];

const rows: string[][] = [];
for (const type of ['f32', 'q8_0', 'q4_0']) {
  for (const [label, opts] of [['float32 (dequantized)', { precision: 'f32' }], ['int8 W8', { precision: 'int8', activations: 'none' }], ['int8 W8A8 (default)', { precision: 'int8' }]] as const) {
    if (type === 'f32' && label !== 'float32 (dequantized)') continue;
    const model = await fp.loadGguf(resolve(DIR, `model-${type}.gguf`), opts as fp.GgufLoadOptions);
    const got = (await model.run(inputs).logits!.data()) as Float32Array;
    let dot = 0, gg = 0, ww = 0, max = 0, same = 0, n = 0;
    for (let b = 0; b < B; b++) {
      for (const p of ref.valid_positions[`row${b}`] as number[]) {
        const o = (b * T + p) * V;
        let ag = 0, aw = 0;
        for (let v = 0; v < V; v++) {
          const g = got[o + v]!, w = want[o + v]!;
          dot += g * w; gg += g * g; ww += w * w; max = Math.max(max, Math.abs(g - w));
          if (g > got[o + ag]!) ag = v;
          if (w > want[o + aw]!) aw = v;
        }
        same += ag === aw ? 1 : 0; n++;
      }
    }
    const ids = await fp.generate(model, ref.generation.prompt_ids, { maxNewTokens: 20 });
    let prefix = 0;
    while (prefix < 20 && ids[prefix] === ref.generation.new_ids[prefix]) prefix++;
    const agree = ids.filter((x, i) => x === ref.generation.new_ids[i]).length;
    rows.push([type.toUpperCase(), label, (dot / Math.sqrt(gg * ww)).toFixed(5), max.toFixed(3), `${same}/${n}`, `${agree}/20 (first ${prefix} identical)`]);
    model.dispose();
  }
}
const head = ['file', 'loaded as', 'logits cosine vs float32', 'max abs diff', 'next-token agreement', 'greedy tokens = float32\'s'];
console.log([head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n'));
console.log(`\nFORWARDPASS_WASM=${process.env.FORWARDPASS_WASM ?? '(default)'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
