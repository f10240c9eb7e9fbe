// The forwardpass demo: the five shipped models run on the CPU in plain Node and are checked against PyTorch:
// eval-set accuracy of the classifiers, one MNIST digit drawn in the terminal, and tiny-gpt's greedy text.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { argmax, generate, GPT, CharTokenizer, softmax, scope, type Tensor } from '../src/index.js';
import { loadFixtureEval, loadModel } from '../src/node.js';

const FIX = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const cfg = (m: string) => JSON.parse(readFileSync(join(FIX, m, 'config.json'), 'utf8'));

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

console.log('forwardpass demo: frozen PyTorch models, pure TypeScript, CPU backend\n');
let digitArt = '';
console.log('model          eval n  accuracy  PyTorch   max |logit diff|  time');
for (const name of ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls']) {
  const model = await loadModel(join(FIX, name));
  const ev = await loadFixtureEval(join(FIX, name));
  const inputs: Record<string, Tensor> = name === 'tiny-bert-cls' ? { input_ids: ev.input_ids!, attention_mask: ev.attention_mask! } : { input: ev.inputs! };
  const t0 = performance.now();
  const { acc, diff } = await scope(async () => {
    const logits = model.run(inputs).logits!;
    const pred = await argmax(logits, { axis: -1 }).data();
    const labels = await ev.labels!.data();
    let ok = 0;
    for (let i = 0; i < pred.length; i++) ok += pred[i] === labels[i] ? 1 : 0;
    return { acc: ok / pred.length, diff: maxAbs(await logits.data(), await ev.torch_logits!.data()) };
  });
  const ms = performance.now() - t0;
  const n = ev.labels!.shape[0]!;
  const ref = cfg(name).eval.accuracy_float32_pytorch as number;
  console.log(`${name.padEnd(14)} ${String(n).padStart(6)}  ${(acc * 100).toFixed(2).padStart(7)}%  ${(ref * 100).toFixed(2).padStart(6)}%  ${diff.toExponential(1).padStart(16)}  ${ms.toFixed(0).padStart(4)} ms`);
  if (name === 'cnn-mnist') {
    // draw the first eval digit and what the model thinks of it
    const img = ev.inputs!.narrow(0, 0, 1);
    const px = await img.data();
    const probs = await softmax(model.run({ input: img }).logits!, -1).data();
    const shades = ' .:-=+*#%@';
    const rows: string[] = [];
    for (let r = 0; r < 28; r += 2) {
      let line = '';
      for (let c = 0; c < 28; c++) line += shades[Math.min(9, Math.floor(((px[r * 28 + c]! + px[(r + 1) * 28 + c]!) / 2) * 10))];
      rows.push('    ' + line);
    }
    const top = [...probs].map((p, d) => [d, p] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
    digitArt = `${rows.join('\n')}\n    label ${(await ev.labels!.data())[0]}, predicted ${top.map(([d, p]) => `${d} (${(p * 100).toFixed(1)}%)`).join(', ')}`;
  }
  model.dispose();
}

console.log('\nthe first cnn-mnist eval digit:\n' + digitArt);

console.log('\ntiny-gpt, greedy decoding with a KV cache (50 new characters), vs PyTorch:');
const gptCfg = cfg('tiny-gpt');
const gpt = (await loadModel(join(FIX, 'tiny-gpt'))) as GPT;
const tok = CharTokenizer.fromConfig(gptCfg);
const gens = JSON.parse(readFileSync(join(FIX, 'tiny-gpt', 'generate.json'), 'utf8')).generations as { prompt: string; generated_ids: number[] }[];
let same = 0;
for (const g of gens) {
  const t0 = performance.now();
  const ids = await generate(gpt, tok.encode(g.prompt), { maxNewTokens: 50 });
  const ok = ids.every((id, i) => id === g.generated_ids[i]);
  same += ok ? 1 : 0;
  console.log(`  ${JSON.stringify(g.prompt + tok.decode(ids))}  ${ok ? 'identical to PyTorch' : 'DIFFERS from PyTorch'} (${(performance.now() - t0).toFixed(0)} ms)`);
}
gpt.dispose();
console.log(`\n${same}/${gens.length} generations identical to the PyTorch reference.`);
if (same !== gens.length) process.exitCode = 1;
