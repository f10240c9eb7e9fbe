// Shared by the serve tests: fixture models as servable models, seeded requests, and a gate that holds a model's
// forward pass until the test lets it go (to fill queues without timing).
import { readFileSync } from 'node:fs';
import { loadModelFolder } from '../../src/cli/model-folder.js';
import { loadOnnx, makeRng } from '../../src/index.js';
import { servableFromModel, servableFromOnnx, type HostTensor, type ServableModel } from '../../src/serve/servable.js';
import { fixturePath } from '../helpers.js';

export const folderModel = (name: string): ServableModel => servableFromModel(loadModelFolder(fixturePath(name)).model);
export const onnxModel = async (name: string): Promise<ServableModel> => servableFromOnnx(await loadOnnx(readFileSync(fixturePath(name, 'model.onnx'))));

/** A seeded request for a fixture model: `rows` samples, and `seq` positions for the token models. */
export function request(model: string, rows: number, seed: number, seq = 8): Record<string, HostTensor> {
  const rng = makeRng(seed);
  const floats = (shape: number[]) => ({ dtype: 'float32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng()) });
  const ids = (shape: number[], vocab: number) => ({ dtype: 'int32' as const, shape, data: Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(rng() * vocab)) });
  switch (model) {
    case 'mlp-digits': return { input: floats([rows, 64]) };
    case 'cnn-mnist': return { input: floats([rows, 1, 28, 28]) };
    case 'cnn-digits': return { input: floats([rows, 1, 8, 8]) };
    case 'tiny-bert-cls': return { input_ids: ids([rows, seq], 10) };
    case 'tiny-gpt': return { input_ids: ids([rows, seq], 80) };
    default: throw new Error(`no request recipe for ${model}`);
  }
}

/** Largest |a - b| over two host tensors' data (Infinity when shapes differ). */
export function hostDiff(a: HostTensor, b: HostTensor): number {
  if (a.shape.join() !== b.shape.join() || a.dtype !== b.dtype) return Infinity;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

/** Wrap a model so each forward pass waits for `open()`; `calls` records the joined inputs' shapes. */
export function gated(model: ServableModel): { model: ServableModel; open(): void; calls: Record<string, number[]>[] } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const calls: Record<string, number[]>[] = [];
  return {
    calls,
    open: () => release(),
    model: {
      ...model,
      async run(x) {
        calls.push(Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.shape])));
        await gate;
        return model.run(x);
      },
    },
  };
}

/** Wrap a model to record each forward pass's inputs. */
export function recorded(model: ServableModel): { model: ServableModel; calls: Record<string, HostTensor>[] } {
  const calls: Record<string, HostTensor>[] = [];
  return { calls, model: { ...model, run: (x) => { calls.push(x); return model.run(x); } } };
}
