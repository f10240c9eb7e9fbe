// Real Hugging Face exports on WebGPU (issue 13): a decoder and an encoder from each exporter, plus T5's relative
// buckets, ViT and the Whisper encoder, loaded with backend 'webgpu' and compared with onnxruntime's stored
// CPU outputs (padded attention masks included); which ops ran on the host is printed from the op hook.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { worst } from '../io/onnx/compare.js';
import { DIR, feedsOf, manifest, npy } from '../io/onnx/real-exports.js';
import { webgpu } from '../webgpu.js';

const FILES = ['gpt2.dynamo.onnx', 'llama.legacy.onnx', 'qwen2.dynamo.onnx', 'bert.legacy.onnx', 'roberta.dynamo.onnx', 't5-encoder.dynamo.onnx', 'vit.legacy.onnx', 'whisper-encoder.dynamo.onnx'];
const TOL = { atol: 1e-4, rtol: 1e-3 };

describe.skipIf(!webgpu.gpu)(`real Hugging Face exports on webgpu (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const file of FILES) {
    it(`${file}: output on the device within atol 1e-4 + rtol 1e-3 of onnxruntime`, async () => {
      const e = manifest.models.find((m) => m.file === file)!;
      const s = await fp.loadOnnx(readFileSync(`${DIR}/${file}`), { backend: 'webgpu' });
      const hostOps = new Set<string>();
      const off = fp.addOpHook((ev) => { if (ev.backend === 'cpu') hostOps.add(`${ev.op}:${ev.outputs.map((o) => o.dtype).join(',')}`); });
      try {
        const out = await s.run(await feedsOf(e));
        for (const [name, ref] of Object.entries(e.outputs!)) {
          expect(out[name]!.device).toBe('webgpu');
          const want = await (await npy(ref.file)).data();
          const got = await out[name]!.data();
          expect(worst(got, want, TOL.atol, TOL.rtol), `${file} ${name}`).toBeNull();
          let d = 0;
          for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
          console.log(`real export webgpu ${file}: max abs diff vs onnxruntime ${d.toExponential(2)}; host ops ${[...hostOps].sort().join(' ') || 'none'}`);
          out[name]!.dispose();
        }
      } finally {
        off();
        s.dispose();
      }
    });
  }
});
