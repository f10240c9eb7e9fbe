// llama GGUF files as models: F32/F16 and dequantized Q8_0/Q4_0 (precision f32) against transformers' logits on the
// same weights and its greedy ids; Q8_0 on the int8 kernels (W8A8 and weight-only W8) and Q4_0 requantized to Q8_0,
// with their measured error; Q8_0 weights held as int8 + f16 scales (about the file's size).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { readReference, referenceInputs, SHARED_MODELS, validMaxDiff } from '../hf/helpers.js';

const DIR = resolve(SHARED_MODELS, 'llama');
const HAS = existsSync(resolve(DIR, 'model-q8_0.gguf'));
const gguf = HAS ? JSON.parse(readFileSync(resolve(DIR, 'reference.json'), 'utf8')).gguf.files : {};

async function compare(model: fp.LlamaForCausalLM, type: string, file?: string): Promise<{ maxAbs: number; cosine: number; top1: number }> {
  const ref = readReference(DIR);
  const inputs = await referenceInputs(DIR, ref);
  const got = model.run(inputs).logits!;
  const want = await fp.readNpyFile(resolve(DIR, file ?? gguf[type].logits.file));
  const maxAbs = await validMaxDiff(got, want, ref);
  // cosine and argmax agreement over valid positions
  const g = (await got.data()) as Float32Array, w = (await want.data()) as Float32Array;
  const V = 512;
  let dot = 0, gg = 0, ww = 0, same = 0, n = 0;
  for (const [row, list] of Object.entries(ref.valid_positions!)) {
    const b = Number(row.slice(3));
    for (const p of list) {
      const o = (b * 12 + p) * V;
      let ag = 0, aw = 0;
      for (let v = 0; v < V; v++) {
        dot += g[o + v]! * w[o + v]!; gg += g[o + v]! ** 2; ww += w[o + v]! ** 2;
        if (g[o + v]! > g[o + ag]!) ag = v;
        if (w[o + v]! > w[o + aw]!) aw = v;
      }
      same += ag === aw ? 1 : 0; n++;
    }
  }
  return { maxAbs, cosine: dot / Math.sqrt(gg * ww), top1: same / n };
}

const load = (type: string, opts: fp.GgufLoadOptions = {}) => fp.loadGguf(resolve(DIR, `model-${type}.gguf`), opts);

describe.skipIf(!HAS)('llama GGUF models', () => {
  for (const [type, tol] of [['f32', 1e-4], ['f16', 1e-3], ['q8_0', 1e-4], ['q4_0', 1e-4]] as const) {
    it(`${type}, dequantized to float32: logits within ${tol} of transformers on the same weights; the same greedy ids`, async () => {
      const model = await load(type, { precision: 'f32' });
      const { maxAbs } = await compare(model, type);
      expect(maxAbs).toBeLessThan(tol);
      const ids = await fp.generate(model, gguf[type].generation_sequence_ids.slice(0, 5), { maxNewTokens: 20 });
      expect(ids).toEqual(gguf[type].generation_new_ids);
      model.dispose();
    });
  }

  it('memory() counts the weights a GGUF model holds (the loader adopts its arrays, no copy) and gets them back on dispose', async () => {
    for (const type of ['q8_0', 'f32']) {
      const before = fp.cpuBackend.memory();
      const model = await load(type);
      const during = fp.cpuBackend.memory();
      // every parameter's bytes are live: the int8 quants, f16 scales and float32 norms (q8_0), the file's floats (f32)
      expect(during.liveBytes - before.liveBytes).toBeGreaterThanOrEqual(model.parameterBytes());
      model.dispose();
      expect(fp.cpuBackend.memory().liveBytes).toBe(before.liveBytes);
      expect(fp.cpuBackend.memory().liveBuffers).toBe(before.liveBuffers);
    }
  });

  it('a F32 file loads as float32 by default and reproduces logits.npy (the safetensors reference)', async () => {
    const model = await fp.loadModel(resolve(DIR, 'model-f32.gguf'));
    expect(model.namedParameters().every(([, t]) => t.dtype === 'float32')).toBe(true);
    expect((await compare(model as fp.LlamaForCausalLM, 'f32')).maxAbs).toBeLessThan(1e-4);
    model.dispose();
  });

  it('q8_0 on the int8 kernels: Linear layers hold the file quants (no float copy); W8A8 and W8 errors as measured', async () => {
    const w8 = await load('q8_0');
    expect((w8.getSubmodule('model.layers.0.mlp.down_proj') as fp.QuantizedLinear).activations).toBe('none'); // weight-only by default
    const w8a8 = await load('q8_0', { activations: 'dynamic' });
    const lin = w8a8.getSubmodule('model.layers.0.self_attn.q_proj') as fp.QuantizedLinear;
    expect(lin).toBeInstanceOf(fp.QuantizedLinear);
    expect([lin.weight.qs.dtype, lin.weight.d.dtype, lin.weight.block]).toEqual(['int8', 'float16', 32]);
    // weights = the file's: dequantized QTensor vs the file dequantized by the reference (rows un-permuted)
    const f = await fp.readGgufFile(resolve(DIR, 'model-q8_0.gguf'));
    const e = f.tensors.get('blk.0.attn_q.weight')!;
    const raw = fp.dequantizeRowQ8_0Ref(fp.ggufTensorBytes(f, e.name), 64 * 64);
    const order = fp.unpermuteRows(64, 4);
    const mine = (await (await lin.weight.dequantize()).data()) as Float32Array;
    for (let r = 0; r < 64; r++) expect(mine.subarray(r * 64, r * 64 + 64)).toEqual(raw.subarray(order[r]! * 64, order[r]! * 64 + 64));
    // memory: int8 quants + f16 scales for the matrices; embeddings and norms float32
    const linBytes = w8a8.namedParameters().filter(([k]) => /proj|lm_head/.test(k)).reduce((a, [, t]) => a + t.size * (t.dtype === 'int8' ? 1 : t.dtype === 'float16' ? 2 : 4), 0);
    const fileLin = [...f.tensors.values()].filter((t) => /attn_[qkvo]|output\.|ffn_(gate|up|down)/.test(t.name) && t.type === 'Q8_0').reduce((a, t) => a + t.byteLength, 0);
    expect(linBytes).toBe(fileLin);
    // the whole model: int8 embeddings and matrices, f16 scales, f32 norms = the file's tensor data, byte for byte
    const held = w8a8.namedParameters().reduce((a, [, t]) => a + t.size * (t.dtype === 'int8' ? 1 : t.dtype === 'float16' ? 2 : 4), 0);
    expect(held).toBe([...f.tensors.values()].reduce((a, t) => a + t.byteLength, 0));
    expect(w8a8.getSubmodule('model.embed_tokens')).toBeInstanceOf(fp.Q8Embedding);
    const a = await compare(w8a8, 'q8_0');
    const b = await compare(w8, 'q8_0');
    console.log(`q8_0 W8A8 vs dequantized reference: max |d| ${a.maxAbs.toExponential(3)}, cosine ${a.cosine.toFixed(6)}, top-1 ${a.top1}; W8: ${b.maxAbs.toExponential(3)}, ${b.cosine.toFixed(7)}, ${b.top1}; file ${statSync(resolve(DIR, 'model-q8_0.gguf')).size} B, int8 matrices ${linBytes} B`);
    expect(b.maxAbs).toBeLessThan(1e-4); // weight-only: the same weights in float arithmetic
    expect(a.cosine).toBeGreaterThan(0.999);
    expect(a.maxAbs).toBeLessThan(0.5); // measured 0.242: int8 activations (per row) at this tiny width; the logits span ±7
    const ids = await fp.generate(w8a8, gguf.q8_0.generation_sequence_ids.slice(0, 5), { maxNewTokens: 20 });
    const agree = ids.filter((x, i) => x === gguf.q8_0.generation_new_ids[i]).length;
    expect(agree).toBeGreaterThanOrEqual(15); // measured 20/20 (the reference's smallest top-1 margin is 0.067)
    w8a8.dispose(); w8.dispose();
  });

  it('q4_0 requantized to Q8_0 at load: the error vs its own dequantized weights, W8 and W8A8', async () => {
    const w8 = await load('q4_0', { activations: 'none' });
    const w8a8 = await load('q4_0', { activations: 'dynamic' });
    const a = await compare(w8, 'q4_0'), b = await compare(w8a8, 'q4_0');
    console.log(`q4_0 -> Q8_0 W8: max |d| ${a.maxAbs.toExponential(3)}, cosine ${a.cosine.toFixed(6)}, top-1 ${a.top1}; W8A8: ${b.maxAbs.toExponential(3)}, ${b.cosine.toFixed(6)}, ${b.top1}`);
    expect(a.cosine).toBeGreaterThan(0.999); // measured 0.99969, max |d| 0.225, top-1 21/21
    expect(b.cosine).toBeGreaterThan(0.999); // measured 0.99932, max |d| 0.321, top-1 20/21
    w8.dispose(); w8a8.dispose();
  });

  it('against the float32 model (logits.npy): Q8_0 and Q4_0 on the int8 kernels lose little beyond their files\' own weights', async () => {
    for (const type of ['q8_0', 'q4_0']) {
      for (const activations of ['dynamic', 'none'] as const) {
        const m = await load(type, { activations });
        const r = await compare(m, type, 'logits.npy');
        // the files' own weights (transformers on them vs logits.npy): q8_0 cosine 0.99931, q4_0 0.89792 (top-1 14/21),
        // so Q4_0 cannot reach the 0.99 on this tiny model; measured here: q8_0 W8A8 0.99877, W8 0.99931,
        // q4_0 W8A8 0.89450, W8 0.89678
        const floor = { q8_0: { dynamic: 0.998, none: 0.9993 }, q4_0: { dynamic: 0.89, none: 0.89 } }[type as 'q8_0' | 'q4_0'][activations];
        expect(r.cosine, `${type} ${activations}`).toBeGreaterThan(floor);
        m.dispose();
      }
    }
  });
});
