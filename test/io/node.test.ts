// The Node entry point: file round trips for .npy and safetensors, and the fixture folders (io.json cases against
// config.json shapes, trace.json, eval.json) read through loadFixtureCases / loadFixtureTrace / loadFixtureEval.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';

const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-gpt', 'tiny-bert-cls'];
const json = (model: string, file: string) => JSON.parse(readFileSync(fixturePath(model, file), 'utf8'));

/** Raw little-endian values of a descriptor, read with a DataView (independent of readArray). */
function rawValues(model: string, d: { file: string; dtype: string; offset: number; nbytes: number }): number[] {
  const b = readFileSync(fixturePath(model, d.file));
  const out: number[] = [];
  for (let o = d.offset; o < d.offset + d.nbytes; o += 4) out.push(d.dtype === 'int32' ? b.readInt32LE(o) : b.readFloatLE(o));
  return out;
}

describe('file helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forwardpass-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes and reads .npy files', async () => {
    const t = fp.randn([3, 5], { seed: 9 });
    await fp.writeNpyFile(join(dir, 'x.npy'), t);
    const r = await fp.readNpyFile(join(dir, 'x.npy'));
    expect(r.shape).toEqual([3, 5]);
    expect(Array.from(await r.data())).toEqual(Array.from(await t.data()));
    await fp.writeNpyFile(join(dir, 'ids.npy'), fp.tensor([1, 2], { dtype: 'int32' }), { dtype: 'int64' });
    expect(readFileSync(join(dir, 'ids.npy')).toString('latin1')).toContain("'descr': '<i8'");
    expect(Array.from(await (await fp.readNpyFile(join(dir, 'ids.npy'))).data())).toEqual([1, 2]);
  });

  it('writes and reads safetensors files', async () => {
    const w = fp.randn([4, 2], { seed: 4 });
    await fp.writeSafetensorsFile(join(dir, 'm.safetensors'), { 'fc.weight': w, 'fc.n': fp.tensor([3], { dtype: 'int32' }) }, { format: 'pt' });
    const { tensors, metadata } = await fp.readSafetensorsFile(join(dir, 'm.safetensors'));
    expect(metadata).toEqual({ format: 'pt' });
    expect(Array.from(await tensors.get('fc.weight')!.data())).toEqual(Array.from(await w.data()));
    expect(tensors.get('fc.n')!.dtype).toBe('int32');
  });

  it('names the file in read errors', async () => {
    const missing = join(dir, 'nope.safetensors');
    await expect(fp.readSafetensorsFile(missing)).rejects.toThrow(/^forwardpass: readSafetensorsFile: cannot read '.*nope.safetensors' \(ENOENT\)/);
    await expect(fp.readNpyFile(join(dir, 'm.safetensors'))).rejects.toThrow(/^forwardpass: npy '.*m.safetensors': not a .npy file/);
    await expect(fp.readSafetensorsFile(join(dir, 'x.npy'))).rejects.toThrow(/^forwardpass: safetensors '.*x.npy': header length .* is absurd/);
    await expect(fp.writeNpyFile(join(dir, 'no', 'such', 'dir.npy'), fp.tensor([1]))).rejects.toThrow(/^forwardpass: writeNpyFile: cannot write/);
  });
});

describe('fixture folders', () => {
  it.each(MODELS)('%s: io.json cases match config.json inputs/outputs and the raw bytes', async (model) => {
    const dir = fixturePath(model);
    const config = json(model, 'config.json');
    const io = json(model, 'io.json');
    const cases = await fp.loadFixtureCases(dir);
    expect(cases.map((c) => c.name)).toEqual(io.cases.map((c: { name: string }) => c.name));
    for (const [ci, c] of cases.entries()) {
      const dims = new Map<string, number>(); // symbolic dims ('batch', 'seq') must agree across a case's arrays
      const check = (specs: { name: string; shape: (number | string)[]; dtype: string }[], arrays: Record<string, fp.Tensor>) => {
        expect(Object.keys(arrays).sort()).toEqual(specs.map((s) => s.name).sort());
        for (const s of specs) {
          const t = arrays[s.name]!;
          expect(t.rank).toBe(s.shape.length);
          expect(t.dtype).toBe(s.dtype === 'float32' ? 'float32' : 'int32');
          s.shape.forEach((d, i) => {
            if (typeof d === 'number') expect(t.shape[i]).toBe(d);
            else {
              if (!dims.has(d)) dims.set(d, t.shape[i]!);
              expect(t.shape[i]).toBe(dims.get(d));
            }
          });
        }
      };
      check(config.inputs, c.inputs);
      check(config.outputs, c.outputs);
      const raw = io.cases[ci];
      for (const [k, d] of Object.entries<{ file: string; dtype: string; offset: number; nbytes: number }>(raw.inputs)) {
        expect(Array.from(await c.inputs[k]!.data())).toEqual(rawValues(model, d));
      }
      const [k, d] = Object.entries<{ file: string; dtype: string; offset: number; nbytes: number }>(raw.outputs)[0]!;
      expect(Array.from(await c.outputs[k]!.data())).toEqual(rawValues(model, d));
      const { name: _n, inputs: _i, outputs: _o, ...extra } = raw;
      expect(c.extra).toEqual(extra);
    }
  });

  it.each(MODELS)('%s: trace.json layers load in order with their shapes', async (model) => {
    const trace = await fp.loadFixtureTrace(fixturePath(model));
    const raw = json(model, 'trace.json').layers as { name: string; shape: number[] }[];
    expect(trace.map((l) => l.name)).toEqual(raw.map((l) => l.name));
    trace.forEach((l, i) => expect(l.tensor.shape).toEqual(raw[i]!.shape));
    const last = raw[raw.length - 1] as unknown as { file: string; dtype: string; offset: number; nbytes: number };
    expect(Array.from(await trace[trace.length - 1]!.tensor.data())).toEqual(rawValues(model, last));
  });

  it.each(MODELS.filter((m) => m !== 'tiny-gpt'))('%s: eval.json arrays agree with config.json eval', async (model) => {
    const ev = await fp.loadFixtureEval(fixturePath(model));
    const { eval: e } = json(model, 'config.json');
    expect(ev.labels!.shape).toEqual([e.n]);
    expect(ev.torch_pred!.dtype).toBe('int32');
    expect(ev.torch_logits!.shape).toEqual([e.n, e.num_classes]);
    // the recorded accuracy is the share of torch_pred equal to labels
    const pred = await ev.torch_pred!.data();
    const labels = await ev.labels!.data();
    let right = 0;
    for (let i = 0; i < e.n; i++) if (pred[i] === labels[i]) right++;
    expect(Math.abs(right / e.n - e.accuracy_float32_pytorch)).toBeLessThan(1e-4);
    const x = ev.inputs ?? ev.input_ids!;
    expect(x.shape[0]).toBe(e.n);
  });

  it('refuses descriptors that leave the folder, and reports bad folders', async () => {
    const dir = fixturePath('mlp-digits');
    const d = { file: '../cnn-digits/inputs.bin', dtype: 'float32' as const, shape: [1], offset: 0, nbytes: 4 };
    await expect(fp.loadArrayDescriptor(dir, d)).rejects.toThrow(/^forwardpass: loadArrayDescriptor: file "..\/cnn-digits\/inputs.bin" must name a file inside/);
    await expect(fp.loadArrayDescriptor(dir, { ...d, file: '/etc/passwd' })).rejects.toThrow(/must name a file inside/);
    await expect(fp.loadArrayDescriptor(dir, { ...d, file: 'missing.bin' })).rejects.toThrow(/cannot read '.*missing.bin' \(ENOENT\)/);
    const ok = await fp.loadArrayDescriptor(dir, { ...d, file: 'inputs.bin' });
    expect(ok.dataSync()[0]).toBe(rawValues('mlp-digits', { ...d, file: 'inputs.bin' })[0]);
    await expect(fp.loadFixtureEval(fixturePath('tiny-gpt'))).rejects.toThrow(/^forwardpass: eval.json: cannot read '.*eval.json' \(ENOENT\)/);
    await expect(fp.loadFixtureCases(fixturePath())).rejects.toThrow(/^forwardpass: io.json: cannot read/);
  });
});
