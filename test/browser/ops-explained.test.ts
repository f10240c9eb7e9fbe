// The page explains every op it can show: each op name the tracer emits for the shipped fixture models (model
// folders and their .onnx files, at f32, f16 and int8) has a sentence in examples/web/explain.ts, so a model or op
// added without one fails here. Runs in Node (no browser needed).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { OP_EXPLANATIONS, explainOp } from '../../examples/web/explain.js';
import { fixturePath } from '../helpers.js';

/** The shipped models (each fixture folder with a model), as `forwardpass serve` lists them. */
const MODELS = readdirSync(fixturePath()).filter((d) => existsSync(fixturePath(d, 'config.json')) && existsSync(fixturePath(d, 'model.safetensors')));

/** Op names of one traced forward pass of fixture `name` in `kind` form at `precision`. */
async function opsOf(name: string, kind: 'nn' | 'onnx', precision: 'f32' | 'f16' | 'int8'): Promise<Set<string>> {
  const [c] = await fp.loadFixtureCases(fixturePath(name));
  const made: fp.Tensor[] = [];
  let model: fp.OnnxSession | fp.ConfiguredModel;
  if (kind === 'onnx') model = await fp.loadOnnx(new Uint8Array(readFileSync(fixturePath(name, 'model.onnx'))), { precision });
  else {
    model = await fp.loadModel(fixturePath(name));
    if (precision === 'f16') await model.to({ dtype: 'float16' });
    if (precision === 'int8') await fp.quantize(model);
  }
  try {
    const inputs: Record<string, fp.Tensor> = {};
    for (const [k, t] of Object.entries(c!.inputs)) {
      inputs[k] = kind === 'nn' && precision === 'f16' && t.dtype === 'float32' ? fp.cast(t, 'float16') : t;
      if (inputs[k] !== t) made.push(inputs[k]!);
    }
    const t = await fp.trace(model, inputs);
    return new Set(t.records.map((r) => r.op));
  } finally {
    for (const t of [...made, ...Object.values(c!.inputs)]) t.dispose();
    model.dispose();
  }
}

describe('op explanations of the step-through page', () => {
  it('every op the tracer emits for the shipped fixtures has one or two sentences', async () => {
    expect(MODELS.length).toBeGreaterThanOrEqual(5);
    const seen = new Map<string, string>();
    for (const name of MODELS) for (const kind of ['nn', 'onnx'] as const) for (const p of ['f32', 'f16', 'int8'] as const) {
      if (kind === 'onnx' && !existsSync(fixturePath(name, 'model.onnx'))) continue;
      for (const op of await opsOf(name, kind, p)) if (!seen.has(op)) seen.set(op, `${name} ${kind} ${p}`);
    }
    // the models use the layers a student meets first; the set below is what they emit today
    for (const op of ['linear', 'relu', 'conv2d', 'batchNorm', 'maxPool2d', 'layerNorm', 'softmax', 'matmul', 'gather', 'linearInt8', 'quantizeRows']) expect(seen.has(op), op).toBe(true);
    const missing = [...seen].filter(([op]) => !(op in OP_EXPLANATIONS)).map(([op, where]) => `${op} (${where})`);
    expect(missing, 'ops without an explanation in examples/web/explain.ts').toEqual([]);
    for (const op of seen.keys()) {
      const text = (OP_EXPLANATIONS as Record<string, string>)[op]!;
      const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z(])/).length;
      expect(sentences, `${op}: ${text}`).toBeGreaterThanOrEqual(1);
      expect(sentences, `${op}: ${text}`).toBeLessThanOrEqual(2);
      expect(text.length, op).toBeGreaterThan(30);
    }
  }, 120_000);

  it("adds the record's own shapes for linear, conv2d, softmax and matmul", () => {
    const rec = (op: string, inputs: number[][], out: number[]) => ({ op, inputs: inputs.map((shape) => ({ shape, dtype: 'float32' })), output: { shape: out } }) as unknown as fp.TraceRecord;
    expect(explainOp(rec('linear', [[1, 64], [128, 64], [128]], [1, 128]))).toMatch(/ Here each of the 128 outputs sums 64 inputs, for 1 row\(s\)\.$/);
    expect(explainOp(rec('conv2d', [[1, 1, 28, 28], [16, 1, 3, 3]], [1, 16, 28, 28]))).toMatch(/ Here 16 filters of 1 x 3 x 3 weights make \[1, 16, 28, 28\]\.$/);
    expect(explainOp(rec('softmax', [[1, 4, 11, 11]], [1, 4, 11, 11]))).toMatch(/ Here 44 rows of 11 each add up to 1\.$/);
    expect(explainOp(rec('relu', [[2]], [2]))).toBe(OP_EXPLANATIONS.relu);
    expect(explainOp(rec('someNewOp', [[2]], [2]))).toBe("(No explanation of 'someNewOp' yet.)");
    expect(explainOp({ ...rec('host', [[2, 6]], [2, 3]), attrs: { opType: 'TopK' } } as fp.TraceRecord)).toMatch(/^The ONNX op TopK has no kernel on this backend: a plain typed-array loop computed it on the CPU/);
  });
});
