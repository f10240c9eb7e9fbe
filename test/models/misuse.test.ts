// Misuse of a model gets one `forwardpass:` sentence naming the thing, what was expected and what was found, and the
// safetensors and ONNX paths of the same model report the same mistake the same way (token id out of range, a
// sequence longer than the learned positions). Also: non-Tensor inputs, disposed models/sessions/tensors, huge shapes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { webgpu } from '../webgpu.js';

const ids = (v: number[][]) => fp.tensor(v, { dtype: 'int32' });
const onnx = (name: string) => fp.loadOnnx(new Uint8Array(readFileSync(fixturePath(name, 'model.onnx'))), { backend: 'cpu' });

describe.each([
  { name: 'tiny-gpt', vocab: 80, positions: 64, table: 'wte', onnxTable: 'wte.weight', posTable: 'wpe.weight', extra: (_t: fp.Tensor) => ({}) },
  { name: 'tiny-bert-cls', vocab: 10, positions: 16, table: 'word_emb', onnxTable: 'word_emb.weight', posTable: 'pos_emb.weight', extra: (t: fp.Tensor) => ({ attention_mask: fp.ones(t.shape, { dtype: 'int32' }) }) },
])('$name: the same mistake, the same kind of error from safetensors and ONNX', ({ name, vocab, positions, table, onnxTable, posTable, extra }) => {
  let model: fp.nn.ConfiguredModel;
  let session: fp.OnnxSession;
  beforeAll(async () => {
    model = await fp.loadModel(fixturePath(name));
    session = await onnx(name);
  });
  afterAll(() => { model.dispose(); session.dispose(); });

  for (const bad of [-1, vocab]) {
    it(`token id ${bad}: both name input_ids, the valid range 0..${vocab - 1} and the bad value`, async () => {
      const x = ids([[1, 2, bad]]);
      const common = `\\(token ids of (the embedding )?'?${table}(\\.weight')?.*\\): index ${bad} at indices\\[0, 2\\] is out of range for axis 0 of size ${vocab} \\(valid: 0\\.\\.${vocab - 1}\\)$`;
      expect(() => model.run({ input_ids: x, ...extra(x) })).toThrow(new RegExp(`^forwardpass: (GPT|BERT): input 'input_ids' ${common}`));
      await expect(session.run({ input_ids: x, ...extra(x) })).rejects.toThrow(new RegExp(`^forwardpass: onnx: node '.*' \\(Gather\\): input 'input_ids' \\(token ids of the embedding '${onnxTable}' \\[${vocab}, 64\\]\\): index ${bad} at`));
    });
  }

  it(`a sequence of ${positions + 1} tokens: both name input_ids dim 1, the limit ${positions} and the length`, async () => {
    const x = fp.zeros([1, positions + 1], { dtype: 'int32' });
    const re = (who: string) => new RegExp(`^forwardpass: ${who}: input 'input_ids' dim 1 \\(.*\\) is ${positions + 1}, but the model takes (at most|1 to) ${positions} \\(`);
    expect(() => model.run({ input_ids: x, ...extra(x) })).toThrow(re('(GPT|BERT)'));
    await expect(session.run({ input_ids: x, ...extra(x) })).rejects.toThrow(re('onnx: run'));
    await expect(session.run({ input_ids: x, ...extra(x) })).rejects.toThrow(new RegExp(`'${posTable.replace('.', '\\.')}' \\[${positions}, 64\\]\\)$`));
    // the longest allowed sequence still runs on both
    const ok = fp.zeros([1, positions], { dtype: 'int32' });
    expect(model.run({ input_ids: ok, ...extra(ok) }).logits!.shape[0]).toBe(1);
    expect((await session.run({ input_ids: ok, ...extra(ok) })).logits!.shape[0]).toBe(1);
  });

  it('a plain array or a typed array for input_ids says a Tensor is expected and what it got', async () => {
    expect(() => model.run({ input_ids: [[1, 2]] as never })).toThrow(/^forwardpass: (GPT|BERT)\.run: input 'input_ids' must be a Tensor .*, got a plain array$/);
    expect(() => model.run({ input_ids: new Int32Array([1, 2]) as never })).toThrow(/^forwardpass: (GPT|BERT)\.run: input 'input_ids' must be a Tensor .*, got an Int32Array$/);
    expect(() => (model as fp.nn.Module).forward([[1, 2]])).toThrow(/^forwardpass: (GPT|BERT): input 'input_ids' must be an int32 Tensor \[B, T\], .*got a plain array$/);
    await expect(session.run({ input_ids: [[1, 2]] as never })).rejects.toThrow(/^forwardpass: onnx: run: input 'input_ids' must be a Tensor or a typed array, got a plain array/);
  });
});

describe('disposed models, sessions and tensors', () => {
  it('model.run and model.forward on a disposed model name the model', async () => {
    const model = await fp.loadModel(fixturePath('mlp-digits'));
    model.dispose();
    const x = fp.zeros([1, 64]);
    expect(() => model.run({ input: x })).toThrow(/^forwardpass: SequentialModel\.forward: this module was disposed \(dispose\(\) freed its weights\); build or load it again$/);
    expect(() => model.forward(x)).toThrow(/^forwardpass: SequentialModel\.forward: this module was disposed/);
    const fc1 = model.namedModules().find(([p]) => p === 'fc1')![1];
    expect(() => fc1.forward(x)).toThrow(/^forwardpass: Linear\.forward: this module was disposed/);
  });

  it('session.run and session.stepwise on a disposed session say so', async () => {
    const s = await onnx('mlp-digits');
    s.dispose();
    await expect(s.run({ input: fp.zeros([1, 64]) })).rejects.toThrow(/^forwardpass: onnx: run: the session was disposed$/);
    await expect(s.stepwise({ input: fp.zeros([1, 64]) }).next()).rejects.toThrow(/^forwardpass: onnx: run: the session was disposed$/);
  });

  it('ops, views and reads of a disposed tensor name the tensor', async () => {
    const t = fp.tensor([[1, 2, 3]]);
    t.dispose();
    expect(() => fp.add(t, 1)).toThrow(/^forwardpass: add input 0: tensor #\d+ \[1, 3\] float32 was disposed$/);
    expect(() => t.reshape([3])).toThrow(/^forwardpass: view: tensor #\d+ \[1, 3\] float32 was disposed$/);
    expect(() => t.dataSync()).toThrow(/^forwardpass: dataSync: tensor #\d+ \[1, 3\] float32 was disposed$/);
    await expect(t.data()).rejects.toThrow(/^forwardpass: data: tensor #\d+ \[1, 3\] float32 was disposed$/);
  });
});

describe('huge shapes', () => {
  it('zeros([1e6, 1e6]) names the shape, the element count and the bytes before allocating', () => {
    expect(() => fp.zeros([1e6, 1e6])).toThrow(/^forwardpass: zeros: shape \[1000000, 1000000\] holds 1e\+12 elements \(4\.00 TB as float32\), more than a tensor can hold \(at most 4294967296, the longest typed array\)$/);
    expect(() => fp.ones([2 ** 16, 2 ** 16, 2], { dtype: 'int8' })).toThrow(/^forwardpass: ones: shape \[65536, 65536, 2\] holds 8\.59e\+9 elements \(8\.59 GB as int8\)/);
    expect(() => fp.randn([1e5, 1e5])).toThrow(/^forwardpass: randn: shape \[100000, 100000\] holds 1e\+10 elements/);
    expect(() => fp.arange(0, 1e10)).toThrow(/^forwardpass: arange: 0 to 10000000000 by 1 makes 10000000000 elements, more than a tensor can hold/);
  });
});

describe.skipIf(!webgpu.gpu)('on WebGPU: the same sentences (the index check is deferred to the next read)', () => {
  it('tiny-gpt token id -1 from safetensors and ONNX, and a too-long sequence', async () => {
    const model = await fp.loadModel(fixturePath('tiny-gpt'), { device: 'webgpu' });
    const session = await fp.loadOnnx(new Uint8Array(readFileSync(fixturePath('tiny-gpt', 'model.onnx'))), { backend: 'webgpu' });
    try {
      const x = fp.tensor([[1, 2, -1]], { dtype: 'int32', device: 'webgpu' });
      const tail = 'index -1 at indices\\[0, 2\\] is out of range for axis 0 of size 80 \\(valid: 0\\.\\.79\\)$';
      await expect((async () => model.run({ input_ids: x }).logits!.data())()).rejects.toThrow(new RegExp(`^forwardpass: GPT: input 'input_ids' \\(token ids of wte, vocab_size 80\\): ${tail}`));
      await expect((async () => (await session.run({ input_ids: x })).logits!.data())()).rejects.toThrow(new RegExp(`input 'input_ids' \\(token ids of the embedding 'wte\\.weight' \\[80, 64\\]\\): ${tail}`));
      const long = fp.zeros([1, 65], { dtype: 'int32', device: 'webgpu' });
      await expect(session.run({ input_ids: long })).rejects.toThrow(/^forwardpass: onnx: run: input 'input_ids' dim 1 \('seq'\) is 65, but the model takes at most 64/);
    } finally {
      model.dispose();
      session.dispose();
    }
  });
});
