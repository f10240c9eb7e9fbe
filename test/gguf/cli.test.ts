// The CLI on .gguf files: generate with nothing but the file (its tokenizer and model), greedy or seeded sampling,
// inspect listing metadata (escaped) and tensors, and a bad --precision.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import * as fp from '../../src/node.js';
import { captureCli, scratchDir } from '../cli/capture.js';
import { SHARED_MODELS } from '../hf/helpers.js';

const LLAMA = resolve(SHARED_MODELS, 'llama');
const HAS = existsSync(resolve(LLAMA, 'model-f32.gguf'));

describe.skipIf(!HAS)('forwardpass on .gguf files', () => {
  const io = captureCli();
  const ref = HAS ? JSON.parse(readFileSync(resolve(LLAMA, 'reference.json'), 'utf8')) : null;

  for (const type of ['f32', 'q8_0']) {
    it(`generate model-${type}.gguf --prompt: the reference greedy ids, decoded by the file's tokenizer`, async () => {
      const g = ref.generation;
      const tok = await fp.loadTokenizer(resolve(LLAMA, 'tokenizer.json'));
      // the prompt text encodes to more than the reference's 5 ids; the expected text is the same model run on all of them
      const model = await fp.loadGguf(resolve(LLAMA, `model-${type}.gguf`), { precision: 'f32' });
      const ids = tok.encode(g.prompt_text).ids;
      const want = await fp.generate(model, ids, { maxNewTokens: 8 });
      model.dispose();
      expect(await main(['generate', resolve(LLAMA, `model-${type}.gguf`), '--prompt', g.prompt_text, '--max-new-tokens', '8', '--precision', 'f32'])).toBe(0);
      expect(io.out).toBe(`${g.prompt_text}${tok.decode(want)}\n`);
    });
  }

  it('generate on a Q8_0 file runs the int8 layers by default; a bad --precision is a usage error', async () => {
    expect(await main(['generate', resolve(LLAMA, 'model-q8_0.gguf'), '--prompt', 'The quick', '--max-new-tokens', '4'])).toBe(0);
    expect(io.out.startsWith('The quick')).toBe(true);
    io.out = '';
    expect(await main(['generate', resolve(LLAMA, 'model-q8_0.gguf'), '--prompt', 'x', '--precision', 'int4'])).not.toBe(0);
    expect(io.err).toMatch(/--precision for a \.gguf file must be one of f32, f16, int8, got 'int4'/);
  });

  it('generate model.gguf samples like a Hugging Face folder: --temperature/--top-k/--top-p/--seed reproducible, --json, --prompt-ids', async () => {
    const path = resolve(LLAMA, 'model-f32.gguf');
    const args = ['generate', path, '--prompt', 'The quick brown fox', '--max-new-tokens', '12', '--json'];
    const sample = ['--temperature', '0.9', '--top-k', '40', '--top-p', '0.95'];
    const run = async (extra: string[]) => { io.out = ''; expect(await main([...args, ...extra])).toBe(0); return JSON.parse(io.out) as { ids: number[]; text: string }; };
    const a = await run([...sample, '--seed', '7']), b = await run([...sample, '--seed', '7']);
    expect(b).toEqual(a);
    // the library's sampling path on the same file and settings gives the same ids and text
    const f = await fp.readGgufFile(path);
    const model = await fp.ggufModelFromFile(f), tok = await fp.ggufTokenizer(f);
    const lib = await fp.generateText(model, tok, tok.encode('The quick brown fox').ids, { maxNewTokens: 12, temperature: 0.9, topK: 40, topP: 0.95, seed: 7 });
    expect(a).toEqual(lib);
    // greedy (no sampling flags) is the argmax continuation; another seed samples other ids (both checked for these settings)
    const greedy = await run([]);
    expect(greedy.ids).toEqual(await fp.generate(model, tok.encode('The quick brown fox').ids, { maxNewTokens: 12 }));
    expect(a.ids).not.toEqual(greedy.ids);
    expect((await run([...sample, '--seed', '8'])).ids).not.toEqual(a.ids);
    // --prompt-ids works on a .gguf too
    io.out = '';
    expect(await main(['generate', path, '--prompt-ids', tok.encode('The quick brown fox').ids.join(','), '--max-new-tokens', '12', '--json'])).toBe(0);
    expect(JSON.parse(io.out)).toEqual(greedy);
    model.dispose();
  });

  it('inspect lists metadata (escaped) and tensors with type, shape, ne and bytes; --json too', async () => {
    const dir = scratchDir('fp-gguf-');
    const path = resolve(dir, 'odd.gguf');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, fp.writeGguf({ 'general.name': 'evil\u001b[31m\nname', 'tokenizer.ggml.tokens': ['a', 'b\u0007'] }, [{ name: 'w\u001b', type: 'Q8_0', ne: [32, 2], data: new Uint8Array(68) }]));
    expect(await main(['inspect', path])).toBe(0);
    expect(io.out).not.toMatch(/\u001b|\u0007/);
    expect(io.out).toMatch(/GGUF v3, 2 metadata keys, 1 tensors/);
    expect(io.out).toMatch(/\[2 x STRING\]/);
    io.out = '';
    expect(await main(['inspect', resolve(LLAMA, 'model-q4_0.gguf'), '--json'])).toBe(0);
    const j = JSON.parse(io.out);
    expect(j.metadata['llama.block_count']).toBe(2);
    expect(j.tensors.find((t: { name: string }) => t.name === 'blk.0.attn_k.weight')).toEqual({ name: 'blk.0.attn_k.weight', type: 'Q4_0', shape: [32, 64], ne: [64, 32], bytes: 1152 });
    expect(j.tensors.find((t: { name: string }) => t.name === 'output.weight').type).toBe('Q8_0');
  });
});

describe.skipIf(!HAS)('forwardpass quantize model.gguf -o out.gguf', () => {
  const io = captureCli();
  it('Q4_0 -> Q8_0 GGUF with the tokenizer kept; the result generates like the int8-loaded Q4_0 model', async () => {
    const out = resolve(scratchDir('fp-gguf-q-'), 'out.gguf');
    expect(await main(['quantize', resolve(LLAMA, 'model-q4_0.gguf'), '-o', out])).toBe(0);
    expect(io.out).toMatch(/quantized .*model-q4_0\.gguf to Q8_0: wrote/);
    const f = await fp.readGgufFile(out);
    expect([...f.tensors.values()].filter((t) => t.shape.length === 2 && t.name !== 'token_embd.weight').every((t) => t.type === 'Q8_0')).toBe(true);
    expect(f.metadata.get('tokenizer.ggml.model')!.value).toBe('gpt2');
    const a = await fp.loadGguf(out), b = await fp.loadGguf(resolve(LLAMA, 'model-q4_0.gguf'));
    const ids = [312, 413, 376, 275, 82];
    expect(await fp.generate(a, ids, { maxNewTokens: 10 })).toEqual(await fp.generate(b, ids, { maxNewTokens: 10 }));
    a.dispose(); b.dispose();
    io.err = '';
    expect(await main(['quantize', resolve(LLAMA, 'model-q4_0.gguf'), '-o', resolve(scratchDir('fp-gguf-q-'), 'folder')])).not.toBe(0);
    expect(io.err).toMatch(/does not end in \.gguf/);
  });
});
