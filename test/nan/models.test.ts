// Every float-input fixture model on a batch of [an eval row, an all-NaN row, the eval row with one NaN]: rows 1 and 2
// give NaN in every output and row 0 stays finite, on CPU and WebGPU, from safetensors and from model.onnx, at f32, f16
// and int8; onnxruntime-node agrees on the ONNX file. (tiny-gpt and tiny-bert-cls take token ids, which cannot be NaN.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { runOrt } from '../io/onnx/ort.js';
import { webgpu } from '../webgpu.js';

const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist'];
const DEVICES = webgpu.gpu ? ['cpu', 'webgpu'] : ['cpu'];

/** The batch: eval row 0, NaN everywhere, eval row 0 with one NaN in its middle. */
async function nanBatch(name: string): Promise<fp.Tensor> {
  const ev = await fp.loadFixtureEval(fixturePath(name));
  const x0 = ev.inputs!.narrow(0, 0, 1);
  const row = Float32Array.from(await x0.data());
  const one = row.slice();
  one[one.length >> 1] = NaN;
  const t = fp.tensor(Float32Array.from([...row, ...row.map(() => NaN), ...one]), { shape: [3, ...x0.shape.slice(1)] });
  Object.values(ev).forEach((v) => v.dispose());
  return t;
}

/** Per row of logits [3, classes]: 'finite', 'nan' (every value NaN) or 'mixed'. */
function rowKinds(v: ArrayLike<number>, classes: number): string[] {
  return [0, 1, 2].map((r) => {
    const row = Array.from({ length: classes }, (_, j) => v[r * classes + j]!);
    return row.every(Number.isFinite) ? 'finite' : row.every(Number.isNaN) ? 'nan' : 'mixed';
  });
}

describe('fixture models on NaN rows', () => {
  for (const name of MODELS) {
    it(`${name}: onnxruntime-node, and forwardpass from model.onnx and model.safetensors, on every backend and precision`, async () => {
      const x = await nanBatch(name);
      const bytes = readFileSync(fixturePath(name, 'model.onnx'));
      const session0 = await fp.loadOnnx(bytes, { backend: 'cpu' });
      const inName = session0.inputs[0]!.name, outName = session0.outputs[0]!.name;
      session0.dispose();
      const ort = (await runOrt(bytes, { [inName]: { type: 'float', dims: [...x.shape], data: (await x.data()) as Float32Array } }))[outName]!;
      const classes = ort.dims[1]!;
      expect(rowKinds(ort.data as Float32Array, classes), 'onnxruntime-node').toEqual(['finite', 'nan', 'nan']);
      const ref = Array.from(ort.data as Float32Array).slice(0, classes);

      const got: Record<string, string[]> = {};
      const row0: Record<string, number> = {};
      const record = async (label: string, y: fp.Tensor) => {
        const v = await y.data();
        got[label] = rowKinds(v, classes);
        row0[label] = Math.max(...ref.map((w, j) => Math.abs(v[j]! - w)));
      };
      for (const device of DEVICES) {
        for (const precision of ['f32', 'f16', 'int8'] as const) {
          const s = await fp.loadOnnx(bytes, { backend: device, precision });
          const out = await s.run({ [inName]: await x.to(device) });
          await record(`onnx ${device} ${precision}`, out[outName]!);
          s.dispose();

          let model = await fp.loadModel(fixturePath(name));
          if (precision === 'int8') model = await fp.quantize(model, { weights: 'per-channel', activations: 'dynamic' });
          if (precision === 'f16') await model.to({ dtype: 'float16' });
          if (device !== 'cpu') model = await model.to(device);
          const xs = precision === 'f16' ? fp.cast(await x.to(device), 'float16') : await x.to(device);
          await record(`safetensors ${device} ${precision}`, fp.scopeSync(() => model.run({ input: xs }).logits!));
        }
      }
      for (const [label, kinds] of Object.entries(got)) expect(kinds, label).toEqual(['finite', 'nan', 'nan']);
      // row 0 is untouched by its NaN neighbours: the ONNX oracle's values (int8 within its rounding)
      for (const [label, d] of Object.entries(row0)) expect(d, label).toBeLessThan(label.endsWith('int8') ? 0.6 : label.endsWith('f16') ? 0.2 : 1e-3);
    }, 120_000);
  }
});
