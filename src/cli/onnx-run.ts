// `forwardpass run model.onnx --input NAME=FILE.npy ... --out DIR`: load an .onnx file with loadOnnx (cpu or
// webgpu, f32/f16/int8), feed .npy inputs (integers as int32 or int64 .npy), write DIR/<output name>.npy.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readNpyFile, writeNpyFile } from '../node.js';
import { isFloatDType } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from '../ops/elementwise.js';
import { loadOnnx, type OnnxIO } from '../io/onnx/session.js';
import type { Precision } from './backend.js';
import { makeOutDir } from './run.js';
import { warnNonFinite } from './non-finite.js';

export interface OnnxRunOptions {
  inputs: Map<string, string>;
  outDir: string;
  backend: string;
  precision: Precision;
}

/** The .npy tensor converted to the dtype the graph input holds (same kind only: floats to floats, integers to integers). */
function toInputDType(t: Tensor, io: OnnxIO): Tensor {
  if (t.dtype === io.dtype) return t;
  const wantsFloat = isFloatDType(io.dtype);
  if (wantsFloat !== isFloatDType(t.dtype) || io.dtype === 'bool' || t.dtype === 'bool') {
    const want = wantsFloat ? `${io.onnxType} values (a float .npy)` : io.dtype === 'bool' ? 'bool values (a bool .npy)' : `integers (an int32 or int64 .npy for ONNX ${io.onnxType})`;
    throw new TypeError(`forwardpass: run: input '${io.name}' must hold ${want}, got ${t.dtype}`);
  }
  return cast(t, io.dtype);
}

/**
 * Run an .onnx model on .npy inputs and write one .npy per graph output (int64 outputs as int64 .npy).
 * @example await runOnnxFile('model.onnx', { inputs: new Map([['x', 'x.npy']]), outDir: 'out', backend: 'cpu', precision: 'f32' });
 */
export async function runOnnxFile(path: string, o: OnnxRunOptions): Promise<void> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`forwardpass: run: ONNX file '${path}' does not exist`);
  const session = await loadOnnx(new Uint8Array(readFileSync(path)), { backend: o.backend, precision: o.precision, name: path });
  const created: Tensor[] = [];
  try {
    const names = session.inputs.map((i) => i.name);
    const unknown = [...o.inputs.keys()].filter((n) => !names.includes(n));
    if (unknown.length) throw new Error(`forwardpass: run: unknown input ${unknown.map((n) => `'${n}'`).join(', ')}; the model takes ${names.map((n) => `'${n}'`).join(', ')}`);
    const missing = names.filter((n) => !o.inputs.has(n));
    if (missing.length) throw new Error(`forwardpass: run: missing input ${missing.map((n) => `'${n}'`).join(', ')} (give --input ${missing[0]}=FILE.npy)`);
    const feeds: Record<string, Tensor> = {};
    for (const io of session.inputs) {
      const raw = await readNpyFile(o.inputs.get(io.name)!, { device: o.backend });
      created.push(raw);
      const t = toInputDType(raw, io);
      if (t !== raw) created.push(t);
      feeds[io.name] = t;
    }
    const t0 = performance.now();
    const outs = await session.run(feeds);
    const ms = performance.now() - t0;
    created.push(...Object.values(outs));
    makeOutDir(o.outDir, 'run');
    for (const io of session.outputs) {
      let t = outs[io.name]!;
      if (t.dtype === 'float16') created.push((t = cast(t, 'float32')));
      const file = join(o.outDir, `${io.name}.npy`);
      const int64 = io.onnxType === 'int64' && t.dtype !== 'bool';
      await writeNpyFile(file, t, int64 ? { dtype: 'int64' } : {});
      process.stdout.write(`${io.name}: ${shapeStr(t.shape)} ${int64 ? 'int64' : t.dtype} -> ${file}\n`);
      await warnNonFinite(io.name, t);
    }
    process.stdout.write(`ran ${basename(path)} on ${session.backend} (${o.precision}) in ${ms.toFixed(1)} ms\n`);
  } finally {
    created.forEach((t) => t.dispose());
    session.dispose();
  }
}
