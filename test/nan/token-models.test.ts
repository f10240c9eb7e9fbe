// Token-id models cannot take a NaN input, so NaN enters through one token's embedding row: set to NaN in both the
// safetensors weights and model.onnx (the row's bytes found and overwritten in the file). tiny-gpt (causal): every
// logit is NaN, those before the token too, since attention's p·v multiplies the masked (future) keys' NaN values by
// 0, as PyTorch and onnxruntime do. tiny-bert-cls: the sequence holding the token is NaN, the others in the batch stay
// finite. Safetensors and ONNX, CPU and WebGPU, and onnxruntime-node.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { runOrt, type OrtValue } from '../io/onnx/ort.js';
import { webgpu } from '../webgpu.js';

const DEVICES = webgpu.gpu ? ['cpu', 'webgpu'] : ['cpu'];

/** model.safetensors' tensors and model.onnx's bytes with row `row` of `table` set to NaN in both. */
async function poisoned(name: string, table: string, row: number): Promise<{ sd: Record<string, fp.Tensor>; onnx: Uint8Array }> {
  const { tensors } = await fp.readSafetensorsFile(fixturePath(name, 'model.safetensors'));
  const w = tensors.get(table)!;
  const d = w.shape[1]!;
  const data = Float32Array.from(await w.data());
  const bytes = new Uint8Array(data.buffer.slice(row * d * 4, (row + 1) * d * 4));
  const onnx = new Uint8Array(readFileSync(fixturePath(name, 'model.onnx')));
  const at = Buffer.from(onnx).indexOf(Buffer.from(bytes));
  expect(at, `row ${row} of ${table} in model.onnx`).toBeGreaterThan(0);
  expect(Buffer.from(onnx).indexOf(Buffer.from(bytes), at + 1), 'the row is found once').toBe(-1);
  new DataView(onnx.buffer).setFloat32(at, NaN, true); // one NaN in the row
  data[row * d] = NaN;
  return { sd: { ...Object.fromEntries(tensors), [table]: fp.tensor(data, { shape: [...w.shape] }) }, onnx };
}

/** Per output row of `cols` values: 'finite', 'nan' (all NaN) or 'mixed'. */
const kinds = (v: ArrayLike<number>, cols: number) => Array.from({ length: v.length / cols }, (_, r) => {
  const row = Array.from({ length: cols }, (_, j) => v[r * cols + j]!);
  return row.every(Number.isFinite) ? 'finite' : row.every(Number.isNaN) ? 'nan' : 'mixed';
});

/** Run the poisoned model every way; returns the row kinds by label. */
async function everyWay(name: string, sd: Record<string, fp.Tensor>, onnx: Uint8Array, feeds: Record<string, fp.Tensor>, cols: number): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const ortFeeds: Record<string, OrtValue> = {};
  for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = { type: 'int64', dims: [...t.shape], data: BigInt64Array.from(await t.data(), (v) => BigInt(v)) };
  out.onnxruntime = kinds((await runOrt(onnx, ortFeeds)).logits!.data as Float32Array, cols);
  for (const device of DEVICES) {
    const on = Object.fromEntries(await Promise.all(Object.entries(feeds).map(async ([k, t]) => [k, await t.to(device)] as const)));
    const s = await fp.loadOnnx(onnx, { backend: device });
    out[`onnx ${device}`] = kinds(await (await s.run(on)).logits!.data(), cols);
    s.dispose();
    let model = await fp.loadModel(fixturePath(name));
    model.loadStateDict(sd);
    if (device !== 'cpu') model = await model.to(device);
    out[`safetensors ${device}`] = kinds(await fp.scopeSync(() => model.run(on).logits!).data(), cols);
    model.dispose();
  }
  return out;
}

describe('token models with a NaN embedding row', () => {
  it('tiny-gpt: every position is NaN (0·NaN from the masked future keys), while a sequence without the token stays finite', async () => {
    const [c] = await fp.loadFixtureCases(fixturePath('tiny-gpt'));
    const ids = c!.inputs.input_ids!; // [1, 13]
    const v = Array.from(await ids.data());
    const token = v[5]!;
    const other = Array.from({ length: 80 }, (_, t) => t).find((t) => !v.includes(t))!;
    const ids2 = fp.tensor(Int32Array.from([...v, ...v.map((t) => (t === token ? other : t))]), { dtype: 'int32', shape: [2, v.length] });
    const { sd, onnx } = await poisoned('tiny-gpt', 'wte.weight', token);
    const got = await everyWay('tiny-gpt', sd, onnx, { input_ids: ids2 }, 80);
    const want = [...v.map(() => 'nan'), ...v.map(() => 'finite')];
    for (const [label, k] of Object.entries(got)) expect(k, label).toEqual(want);
  }, 120_000);

  it('tiny-bert-cls: the sequences holding the token are NaN, the others finite', async () => {
    const c = (await fp.loadFixtureCases(fixturePath('tiny-bert-cls'))).find((k) => k.name === 'batch3_padded')!;
    const ids = Array.from(await c.inputs.input_ids!.data()), mask = Array.from(await c.inputs.attention_mask!.data());
    const L = 16;
    // a symbol token that row 0 holds (unmasked) and row 2 does not
    const token = ids.slice(1, L).find((t, j) => mask[j + 1] && t >= 2 && !ids.slice(2 * L, 3 * L).includes(t))!;
    expect(token, 'a token only some rows hold').toBeDefined();
    const { sd, onnx } = await poisoned('tiny-bert-cls', 'word_emb.weight', token);
    const got = await everyWay('tiny-bert-cls', sd, onnx, c.inputs, 8);
    const want = [0, 1, 2].map((r) => (ids.slice(r * L, (r + 1) * L).some((t, j) => t === token && mask[r * L + j]) ? 'nan' : 'finite'));
    expect(want).toContain('finite');
    for (const [label, k] of Object.entries(got)) expect(k, label).toEqual(want);
  }, 120_000);
});

describe('generate on NaN logits', () => {
  it('stops with one error naming the step instead of emitting a token', async () => {
    const v = Array.from(await (await fp.loadFixtureCases(fixturePath('tiny-gpt')))[0]!.inputs.input_ids!.data());
    const { sd } = await poisoned('tiny-gpt', 'wte.weight', v[5]!);
    const gpt = (await fp.loadModel(fixturePath('tiny-gpt'))) as fp.GPT;
    expect(await fp.generate(gpt, v, { maxNewTokens: 2 })).toHaveLength(2);
    gpt.loadStateDict(sd);
    await expect(fp.generate(gpt, v, { maxNewTokens: 2 })).rejects.toThrow(/^forwardpass: generate: the logits of step 0 hold 80 NaN of 80 values/);
    gpt.dispose();
  });
});
