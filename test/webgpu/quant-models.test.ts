// INT8 models on WebGPU: each classifier quantized (W8A8 dynamic per channel, and Q8_0) and moved to the device
// reaches the float32 accuracy within 1 point on its whole eval set, running the int8 WGSL kernels.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { argmaxRows, readJson } from '../models/helpers.js';
import { webgpu } from '../webgpu.js';

const CLASSIFIERS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls'];
const SCHEMES: [string, fp.QuantizeOptions][] = [['per-channel W8A8 dynamic', {}], ['Q8_0 W8A8 dynamic', { weights: 'q8_0' }]];

describe.skipIf(!webgpu.gpu)(`int8 models on webgpu (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const name of CLASSIFIERS) {
    it(`${name}: eval accuracy within 1 point of float32 with int8 kernels on the device`, async () => {
      const dir = fixturePath(name);
      const config = readJson(name, 'config.json');
      const ev = await fp.loadFixtureEval(dir, { device: 'webgpu' });
      const labels = Array.from(await ev.labels!.data());
      const inputs: Record<string, fp.Tensor> = name === 'tiny-bert-cls' ? { input_ids: ev.input_ids!, attention_mask: ev.attention_mask! } : { input: ev.inputs! };
      const f32Acc = config.eval.accuracy_float32_pytorch as number;
      for (const [label, opts] of SCHEMES) {
        // Q8_0 applies to Linear layers (convs stay per channel): run it where Linear layers dominate and the
        // eval set is quick on a software adapter; tiny-bert-cls's Q8_0 accuracy is covered on the CPU
        if (opts.weights === 'q8_0' && name !== 'mlp-digits') continue;
        const model = await (await fp.quantize(await fp.loadModel(dir), opts)).to('webgpu');
        const ops = new Set<string>();
        const off = fp.addOpHook((e) => ops.add(`${e.op}@${e.backend}`));
        const logits = await fp.scope(() => model.run(inputs).logits!.data());
        off();
        expect(ops.has('linearInt8@webgpu'), `${name} ${label} ran the int8 linear kernel on webgpu`).toBe(true);
        if (name.startsWith('cnn')) expect(ops.has('conv2dInt8@webgpu'), `${name} ran the int8 conv kernel on webgpu`).toBe(true);
        const pred = argmaxRows(logits, config.eval.num_classes);
        const acc = pred.filter((p, i) => p === labels[i]).length / labels.length;
        console.log(`${name} ${label} on webgpu: int8 accuracy ${(100 * acc).toFixed(2)}% (float32 ${(100 * f32Acc).toFixed(2)}%)`);
        expect(acc, `${name} ${label}`).toBeGreaterThanOrEqual(f32Acc - 0.01);
        model.dispose();
      }
    }, 300_000);
  }
});
