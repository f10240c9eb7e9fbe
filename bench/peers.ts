// Peer engines for the benchmarks, each optional (a dev dependency that may be missing): onnxruntime-node and
// onnxruntime-web (wasm, one thread) run the fixture model.onnx files as ModelRunners; tfjs-core with its CPU
// backend is loaded on demand for the kernel suite. A missing peer gives a reason line instead of figures.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BoundCall, ModelRunner } from '../src/cli/bench-models.js';
import type { HostInputs } from '../src/cli/bench-inputs.js';

type Ort = typeof import('onnxruntime-node');

/** The installed version of a package, or null (read from node_modules: some exports maps hide package.json). */
export function peerVersion(name: string): string | null {
  const req = createRequire(import.meta.url);
  for (const base of req.resolve.paths(name) ?? []) {
    try {
      return (JSON.parse(readFileSync(join(base, name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not in this node_modules folder
    }
  }
  return null;
}

/** ORT tensors from host inputs: int32 arrays become int64 (the ONNX graphs declare int64 ids and masks). */
function ortFeeds(ort: Ort, inputs: HostInputs): Record<string, InstanceType<Ort['Tensor']>> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.dtype === 'int32' ? new ort.Tensor('int64', BigInt64Array.from(v.data, (x) => BigInt(x)), v.shape) : new ort.Tensor('float32', v.data as Float32Array, v.shape)]));
}

async function ortRunner(ort: Ort, engine: string, backend: string, dir: string, options: Record<string, unknown>): Promise<ModelRunner> {
  const t0 = performance.now();
  const bytes = readFileSync(join(dir, 'model.onnx'));
  const session = await ort.InferenceSession.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
  const loadMs = performance.now() - t0;
  const output = session.outputNames[0]!;
  return {
    name: `${engine} ${backend} f32`, engine, backend, precision: 'f32', readback: null, weightBytes: bytes.byteLength, loadMs,
    async bind(inputs): Promise<BoundCall> {
      const feeds = ortFeeds(ort, inputs);
      return {
        async call() {
          const r = await session.run(feeds);
          const y = r[output]!.data as Float32Array;
          for (const t of Object.values(r)) t.dispose?.();
          return y;
        },
        dispose() {
          for (const t of Object.values(feeds)) t.dispose?.();
        },
      };
    },
    dispose: () => void session.release(),
  };
}

let ortWebLoaded: Promise<typeof import('onnxruntime-web')> | null = null;

/**
 * onnxruntime-web set to one Wasm thread, loaded once for every suite; rejects when the package is missing.
 *
 * @example const ort = await ortWebOneThread().catch(() => null);
 */
export function ortWebOneThread(): Promise<typeof import('onnxruntime-web')> {
  ortWebLoaded ??= import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = 1;
    return ort;
  });
  return ortWebLoaded;
}

/**
 * The ONNX peers available for a fixture folder: onnxruntime-node (native CPU, one intra-op thread, as
 * forwardpass's one thread) and onnxruntime-web (wasm in Node, numThreads 1). Missing ones come back as reasons.
 *
 * @example const { runners, missing } = await onnxPeers('test/fixtures/mlp-digits');
 */
export async function onnxPeers(dir: string): Promise<{ runners: ModelRunner[]; missing: string[] }> {
  const runners: ModelRunner[] = [], missing: string[] = [];
  try {
    const ort = (await import('onnxruntime-node')) as Ort;
    runners.push(await ortRunner(ort, 'onnxruntime-node', 'cpu', dir, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' }));
  } catch (e) {
    missing.push(`onnxruntime-node: skipped (${(e as Error).message.split('\n')[0]})`);
  }
  try {
    const ort = (await ortWebOneThread()) as unknown as Ort;
    runners.push(await ortRunner(ort, 'onnxruntime-web', 'wasm', dir, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }));
  } catch (e) {
    missing.push(`onnxruntime-web: skipped (${(e as Error).message.split('\n')[0]})`);
  }
  return { runners, missing };
}

type Tf = typeof import('@tensorflow/tfjs-core');

/**
 * tfjs-core with @tensorflow/tfjs-backend-cpu registered (the pure-JS CPU backend), or why not.
 *
 * @example const { tf } = await tfjsCpu(); await tf?.setBackend('cpu');
 */
export async function tfjsCpu(): Promise<{ tf: Tf | null; reason: string; version: string | null }> {
  const version = peerVersion('@tensorflow/tfjs-backend-cpu');
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) return { tf: null, reason: "tf.setBackend('cpu') returned false", version };
    return { tf, reason: '', version };
  } catch (e) {
    return { tf: null, reason: `tfjs-cpu: skipped (${(e as Error).message.split('\n')[0]})`, version };
  }
}
