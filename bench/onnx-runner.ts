// forwardpass's own ONNX runtime as a benchmark runner: the fixture model.onnx loaded with loadOnnx (load time =
// reading the file + parsing + planning + moving constants), run on the same inputs as the peers, so the suite
// compares load and run time of the same .onnx file in forwardpass, onnxruntime-node and onnxruntime-web.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fp from '../src/index.js';
import type { BoundCall, ModelRunner } from '../src/cli/bench-models.js';
import type { Precision } from '../src/cli/backend.js';

/**
 * A runner for `dir/model.onnx` through `loadOnnx` on `backend` at `precision`; engine 'forwardpass-onnx'. `replay`
 * is the load option (default: the session's default, on for 'cpu' unless FORWARDPASS_REPLAY=0).
 *
 * @example const r = await onnxRunner('test/fixtures/mlp-digits', 'cpu', 'f32'); const b = await r.bind(inputs); await b.call();
 */
export async function onnxRunner(dir: string, backend: string, precision: Precision, opts: { replay?: boolean } = {}): Promise<ModelRunner> {
  const t0 = performance.now();
  const bytes = readFileSync(join(dir, 'model.onnx'));
  const session = await fp.loadOnnx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { backend, precision, ...(opts.replay !== undefined ? { replay: opts.replay } : {}) });
  const loadMs = performance.now() - t0;
  const output = session.outputs[0]!.name;
  return {
    name: `forwardpass-onnx ${backend} ${precision}`, engine: 'forwardpass-onnx', backend, precision, readback: backend === 'cpu' ? null : true,
    weightBytes: bytes.byteLength, loadMs,
    async bind(inputs): Promise<BoundCall> {
      const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, fp.tensor(v.data, { shape: v.shape, dtype: v.dtype, device: backend })]));
      return {
        async call() {
          const out = await session.run(feeds);
          const y = await out[output]!.data();
          for (const t of Object.values(out)) t.dispose();
          return y instanceof Float32Array ? y : Float32Array.from(y as ArrayLike<number>);
        },
        dispose() {
          for (const t of Object.values(feeds)) t.dispose();
        },
      };
    },
    dispose: () => session.dispose(),
  };
}
