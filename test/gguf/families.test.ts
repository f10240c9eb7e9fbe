// GGUF files of the llama family's relatives (mistral, qwen2 with a sliding window, qwen3, gemma, phi3) and llama3 RoPE
// via rope_freqs.weight, written by gguf-py in llama.cpp's layout (test/fixtures/gguf/make_gguf_fixtures.py) from the
// HF fixtures of test/fixtures/hf: logits against transformers (F32 file: the HF checkpoint's own logits; F16 and
// Q8_0: transformers on the file's dequantized weights), greedy ids, and one clear error when a tensor is missing.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import * as fp from '../../src/node.js';
import { captureCli } from '../cli/capture.js';
import { LOCAL_MODELS, readReference, referenceInputs, validMaxDiff } from '../hf/helpers.js';

const GGUF = resolve(LOCAL_MODELS, '../gguf');

interface FileRef { file: string; logits: string; new_ids: number[] }
const ggufRef = (name: string): { prompt_ids: number[]; files: Record<string, FileRef> } => JSON.parse(readFileSync(resolve(GGUF, name, 'reference.json'), 'utf8'));
const read = (name: string, kind: string) => fp.readGguf(new Uint8Array(readFileSync(resolve(GGUF, name, `model-${kind}.gguf`))));

/** Max |d| over valid positions and cosine of the logits of `model` against the reference array `logitsFile`. */
async function compare(model: fp.LlamaForCausalLM, name: string, logitsFile: string): Promise<{ maxAbs: number; cosine: number }> {
  const dir = resolve(LOCAL_MODELS, name);
  const ref = readReference(dir);
  const got = model.run(await referenceInputs(dir, ref)).logits!;
  const want = await fp.readNpyFile(resolve(GGUF, name, logitsFile));
  const g = (await got.data()) as Float32Array, w = (await want.data()) as Float32Array;
  let dot = 0, gg = 0, ww = 0;
  for (let i = 0; i < g.length; i++) { dot += g[i]! * w[i]!; gg += g[i]! ** 2; ww += w[i]! ** 2; }
  return { maxAbs: await validMaxDiff(got, want, ref), cosine: dot / Math.sqrt(gg * ww) };
}

/** The same file rewritten without some tensors (and with metadata changes), through the project's writer. */
function rewrite(f: fp.GgufFile, drop: string[], metadata: Record<string, fp.GgufKv | undefined> = {}): fp.GgufFile {
  const meta: Record<string, fp.GgufKv> = {};
  for (const [k, kv] of f.metadata) meta[k] = kv;
  for (const [k, kv] of Object.entries(metadata)) if (kv) meta[k] = kv; else delete meta[k];
  const tensors = [...f.tensors.values()].filter((e) => !drop.includes(e.name)).map((e) => ({ name: e.name, type: e.type, ne: e.ne, data: fp.ggufTensorBytes(f, e.name) }));
  return fp.readGguf(fp.writeGguf(meta, tensors));
}

const FAMILIES = [
  ['mistral', 'llama', 'MistralForCausalLM'],
  ['qwen2-sliding', 'qwen2', 'Qwen2ForCausalLM'],
  ['qwen3', 'qwen3', 'Qwen3ForCausalLM'],
  ['gemma', 'gemma', 'GemmaForCausalLM'],
  ['phi3', 'phi3', 'Phi3ForCausalLM'],
] as const;

describe('GGUF families against transformers', () => {
  for (const [name, arch, architecture] of FAMILIES) {
    for (const [kind, precision, tol] of [['f32', 'f32', 1e-4], ['f16', 'f32', 1e-4], ['q8_0', 'f32', 1e-4]] as const) {
      it(`${name} (${arch}) ${kind}, float32 compute: logits within ${tol} of transformers on the file's weights; the same greedy ids`, async () => {
        const r = ggufRef(name).files[kind]!;
        const model = await fp.ggufModelFromFile(read(name, kind), { precision });
        expect(model.architecture).toBe(architecture);
        const { maxAbs } = await compare(model, name, r.logits);
        expect(maxAbs).toBeLessThan(tol);
        expect(await fp.generate(model, ggufRef(name).prompt_ids, { maxNewTokens: r.new_ids.length })).toEqual(r.new_ids);
        model.dispose();
      });
    }

    it(`${name} q8_0 on the int8 kernels (default precision): cosine >= 0.999 against transformers on the file's weights`, async () => {
      const r = ggufRef(name).files.q8_0!;
      const model = await fp.ggufModelFromFile(read(name, 'q8_0'));
      expect(model.namedModules().some(([, m]) => m instanceof fp.QuantizedLinear)).toBe(true);
      const { cosine, maxAbs } = await compare(model, name, r.logits);
      expect(cosine, `max |d| ${maxAbs}`).toBeGreaterThan(0.999);
      model.dispose();
    });
  }

  it('f16 files computed in float16 (precision f16): close to transformers on the file\'s weights; float16 rounding of the weights measured', async () => {
    const lines: string[] = [];
    for (const [name] of FAMILIES) {
      const model = await fp.ggufModelFromFile(read(name, 'f16'), { precision: 'f16' });
      expect(model.namedParameters().some(([, t]) => t.dtype === 'float16')).toBe(true);
      const own = await compare(model, name, ggufRef(name).files.f16!.logits);
      const f32 = await fp.ggufModelFromFile(read(name, 'f16'));
      // what rounding the weights to float16 itself costs: the F16 file (float32 compute) vs the float32 checkpoint
      const drift = await compare(f32, name, ggufRef(name).files.f32!.logits);
      lines.push(`${name}: f16 compute ${own.maxAbs.toExponential(2)} (cos ${own.cosine.toFixed(7)}), f16 weights vs f32 checkpoint ${drift.maxAbs.toExponential(2)}`);
      expect(own.cosine, name).toBeGreaterThan(0.99999);
      model.dispose(); f32.dispose();
    }
    console.log(lines.join('\n'));
  });
});

describe('llama3 RoPE from rope_freqs.weight', () => {
  it('the llama-llama3 checkpoint as GGUF (factors in rope_freqs.weight, no scaling type) reproduces transformers\' llama3 rope_type', async () => {
    const f = read('llama-llama3', 'f32');
    expect(f.metadata.has('llama.rope.scaling.type')).toBe(false);
    expect(f.tensors.get('rope_freqs.weight')!.shape).toEqual([4]);
    const r = ggufRef('llama-llama3').files.f32!;
    const model = await fp.ggufModelFromFile(f);
    expect((await compare(model, 'llama-llama3', r.logits)).maxAbs).toBeLessThan(1e-4);
    expect(await fp.generate(model, ggufRef('llama-llama3').prompt_ids, { maxNewTokens: r.new_ids.length })).toEqual(r.new_ids);
    model.dispose();
    // without the factors the same weights give other logits (the factors matter at these positions)
    const plain = await fp.ggufModelFromFile(rewrite(f, ['rope_freqs.weight']));
    expect((await compare(plain, 'llama-llama3', r.logits)).maxAbs).toBeGreaterThan(1e-2);
    plain.dispose();
  });

  it('rope_freqs.weight of the wrong length is one clear error', async () => {
    const f = read('llama-llama3', 'f32');
    const bad = fp.readGguf(fp.writeGguf(Object.fromEntries(f.metadata), [...f.tensors.values()].map((e) => (e.name === 'rope_freqs.weight'
      ? { name: e.name, type: 'F32' as const, ne: [3], data: new Uint8Array(12) }
      : { name: e.name, type: e.type, ne: e.ne, data: fp.ggufTensorBytes(f, e.name) }))));
    await expect(fp.ggufModelFromFile(bad)).rejects.toThrow(/^forwardpass: gguf: rope_freqs.weight has shape \[3\]; 8 rotary dims need \[4\]/);
  });
});

describe('GGUF family files with something missing or unsupported', () => {
  it('a missing tensor is one error naming it in llama.cpp terms', async () => {
    await expect(fp.ggufModelFromFile(rewrite(read('qwen3', 'f32'), ['blk.1.attn_k_norm.weight']))).rejects.toThrow(/^forwardpass: gguf: this qwen3 file lacks 1 tensor\(s\) its metadata's model needs: blk\.1\.attn_k_norm\.weight$/);
    await expect(fp.ggufModelFromFile(rewrite(read('qwen2-sliding', 'f32'), ['blk.0.attn_q.bias', 'blk.0.attn_v.bias']))).rejects.toThrow(/lacks 2 tensor\(s\) .*: blk\.0\.attn_q\.bias, blk\.0\.attn_v\.bias$/);
    await expect(fp.ggufModelFromFile(rewrite(read('phi3', 'f32'), ['blk.0.ffn_up.weight']))).rejects.toThrow(/lacks 1 tensor\(s\) .*: blk\.0\.ffn_up\.weight$/);
  });

  it('phi3 with separate q/k/v, LongRoPE factors, and a bad sliding-window pattern are refused clearly', async () => {
    const phi3 = read('phi3', 'f32');
    const qkv = phi3.tensors.get('blk.0.attn_qkv.weight')!;
    const split = fp.readGguf(fp.writeGguf(Object.fromEntries(phi3.metadata), [...phi3.tensors.values()].map((e) => (e.name === qkv.name
      ? { name: 'blk.0.attn_q.weight', type: e.type, ne: e.ne, data: fp.ggufTensorBytes(phi3, e.name) }
      : { name: e.name, type: e.type, ne: e.ne, data: fp.ggufTensorBytes(phi3, e.name) }))));
    await expect(fp.ggufModelFromFile(split)).rejects.toThrow(/separate attn_q\/attn_k\/attn_v tensors; the loader needs llama.cpp's fused blk.N.attn_qkv.weight/);
    const long = fp.readGguf(fp.writeGguf(Object.fromEntries(phi3.metadata), [
      ...[...phi3.tensors.values()].map((e) => ({ name: e.name, type: e.type, ne: e.ne, data: fp.ggufTensorBytes(phi3, e.name) })),
      { name: 'rope_factors_long.weight', type: 'F32' as const, ne: [2], data: new Uint8Array(8) },
    ]));
    await expect(fp.ggufModelFromFile(long)).rejects.toThrow(/rope_factors_long.weight \(phi3 LongRoPE factors\)/);
    const pattern = rewrite(read('qwen2-sliding', 'f32'), [], { 'qwen2.attention.sliding_window_pattern': { type: 'ARRAY', itemType: 'BOOL', value: [true] } });
    await expect(fp.ggufModelFromFile(pattern)).rejects.toThrow(/'qwen2.attention.sliding_window_pattern' must be a number or 2 booleans \(one per layer\), found an array of 1/);
    const gemma = rewrite(read('gemma', 'f32'), [], { 'gemma.attention.sliding_window': { type: 'UINT32', value: 4 } });
    await expect(fp.ggufModelFromFile(gemma)).rejects.toThrow(/'gemma.attention.sliding_window' with every layer sliding is not supported for gemma files/);
  });

  it('the sliding window in the file matters: qwen2-sliding without its window differs from transformers', async () => {
    const plain = await fp.ggufModelFromFile(rewrite(read('qwen2-sliding', 'f32'), [], { 'qwen2.attention.sliding_window': undefined, 'qwen2.attention.sliding_window_pattern': undefined }));
    expect((await compare(plain, 'qwen2-sliding', ggufRef('qwen2-sliding').files.f32!.logits)).maxAbs).toBeGreaterThan(1e-3);
    plain.dispose();
  });
});

describe('forwardpass generate on a family GGUF without a tokenizer', () => {
  const io = captureCli();
  it('--prompt-ids gives transformers\' greedy ids (phi3 Q8_0, float32 compute); --prompt is a usage error naming the missing tokenizer', async () => {
    const r = ggufRef('phi3');
    const path = resolve(GGUF, 'phi3', 'model-q8_0.gguf');
    expect(await main(['generate', path, '--prompt-ids', r.prompt_ids.join(','), '--max-new-tokens', String(r.files.q8_0!.new_ids.length), '--precision', 'f32', '--json'])).toBe(0);
    expect(JSON.parse(io.out).ids).toEqual(r.files.q8_0!.new_ids);
    expect(await main(['generate', path, '--prompt', 'hello'])).not.toBe(0);
    expect(io.err).toMatch(/has no tokenizer \(tokenizer\.ggml\.\* metadata\); give the prompt as --prompt-ids/);
  });
});
