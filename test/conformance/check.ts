// One ONNX conformance test (a folder with model.onnx and test_data_set_N/{input,output}_K.pb) run through
// loadOnnx at f32 on the CPU or on WebGPU, classified as pass / wrong / unsupported (a clean load-time refusal) / error.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/index.js'; // registers the backends
import { loadOnnx, type OnnxSession } from '../../src/io/onnx/session.js';
import { parseOnnxTensor, type OnnxTensor } from '../../src/io/onnx/model.js';
import { bf16ToF32, onnxTensorToTensor } from '../../src/io/onnx/values.js';
import { f16ToF32 } from '../../src/tensor/dtype.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export type Status = 'pass' | 'wrong' | 'unsupported' | 'error';

export interface TestResult {
  status: Status;
  /** Why it did not pass (the first line of the error, or the first mismatch). */
  reason?: string;
  ms: number;
  /** For a pass: whether it also holds at the ONNX runner's own atol 1e-7. */
  strict?: boolean;
  /** On a device backend, once loaded: the plan's node count, and the op types of the nodes the CPU ran as a fallback. */
  nodes?: number;
  fallback?: string[];
}

/** Tolerances of the issue (the ONNX runner's own atol is 1e-7; `strictAtol` reports that figure too). */
export const RTOL = 1e-3;
export const ATOL = 1e-4;
export const STRICT_ATOL = 1e-7;

const bytesOf = (p: string) => { const b = readFileSync(p); return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); };

/** The numbers of a decoded ONNX tensor (float16 and bfloat16 bits decoded, int64 as Number). */
export function onnxNumbers(t: OnnxTensor): Float64Array {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = t.data[i]!;
    out[i] = t.dataType === 'float16' ? f16ToF32(v as number) : t.dataType === 'bfloat16' ? bf16ToF32(v as number) : Number(v);
  }
  return out;
}

/**
 * The first element where `actual` differs from `expected` beyond atol + rtol·|expected| (floats; NaN must meet
 * NaN, ±Inf must be equal) or at all (integers, bool), as a message; undefined when they agree.
 */
export function mismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, exact: boolean, atol = ATOL, rtol = RTOL): string | undefined {
  if (actual.length !== expected.length) return `${actual.length} values, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]), e = Number(expected[i]);
    if (exact ? a === e : Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= atol + rtol * Math.abs(e)) continue;
    return `element ${i}: ${a}, expected ${e}`;
  }
  return undefined;
}

/** The data sets of a test folder: input and output .pb paths in order. */
function dataSets(dir: string): { inputs: string[]; outputs: string[] }[] {
  const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort((a, b) => Number(a.slice(14)) - Number(b.slice(14)));
  return sets.map((s) => {
    const files = readdirSync(join(dir, s));
    const pick = (pre: string) => files.filter((f) => f.startsWith(pre) && f.endsWith('.pb')).sort((a, b) => Number(a.slice(pre.length, -3)) - Number(b.slice(pre.length, -3))).map((f) => join(dir, s, f));
    return { inputs: pick('input_'), outputs: pick('output_') };
  });
}

/** Decode a .pb, or throw an 'unsupported' marker when its element type cannot be held. */
function readPb(path: string): OnnxTensor {
  return parseOnnxTensor(bytesOf(path), { name: path });
}

class Unsupported extends Error {}

/** Compare one run's outputs with the expected .pb files; a message on the first difference. */
async function compare(session: OnnxSession, out: Record<string, Tensor>, expected: OnnxTensor[], atol: number, strict: { ok: boolean }): Promise<string | undefined> {
  for (let k = 0; k < expected.length; k++) {
    const io = session.outputs[k];
    if (!io) return `the model has ${session.outputs.length} outputs, the data set ${expected.length}`;
    const t = out[io.name];
    if (!t) return `output '${io.name}' is missing`;
    const e = expected[k]!;
    if (t.shape.length !== e.dims.length || t.shape.some((d, i) => d !== e.dims[i])) return `output '${io.name}': shape [${t.shape.join(', ')}], expected [${e.dims.join(', ')}]`;
    const exact = !['float', 'float16', 'bfloat16', 'double'].includes(e.dataType);
    const actual = await t.data() as ArrayLike<number>, want = onnxNumbers(e);
    const bad = mismatch(actual, want, exact, atol);
    if (bad) return `output '${io.name}': ${bad}`;
    if (!exact && mismatch(actual, want, false, STRICT_ATOL)) strict.ok = false;
  }
  return undefined;
}

/** Run one test folder on `backend` ('cpu' or 'webgpu'); `atol` defaults to the 1e-4. Never throws. */
export async function runTest(dir: string, atol = ATOL, backend = 'cpu'): Promise<TestResult> {
  const t0 = performance.now();
  const strict = { ok: true };
  let placed: Pick<TestResult, 'nodes' | 'fallback'> = {};
  const done = (status: Status, reason?: string): TestResult => ({
    status, ...(reason ? { reason: reason.split('\n')[0]!.slice(0, 400) } : {}), ms: Math.round(performance.now() - t0), ...(status === 'pass' ? { strict: strict.ok } : {}), ...placed,
  });
  let session: OnnxSession;
  try {
    if (!existsSync(join(dir, 'model.onnx'))) return done('error', 'no model.onnx');
    session = await loadOnnx(bytesOf(join(dir, 'model.onnx')), { backend, precision: 'f32', name: 'model.onnx' });
    if (backend !== 'cpu') placed = { nodes: session.planSize, fallback: session.placement.filter((p) => p.fallback).map((p) => p.opType) };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return done(msg.startsWith('forwardpass:') ? 'unsupported' : 'error', msg);
  }
  try {
    for (const set of dataSets(dir)) {
      let feeds: Record<string, Tensor>, expected: OnnxTensor[];
      try {
        const ins = set.inputs.map(readPb);
        expected = set.outputs.map(readPb);
        feeds = {};
        for (let i = 0; i < ins.length; i++) {
          const io = session.inputs.find((v) => v.name === ins[i]!.name) ?? session.inputs[i];
          if (!io) throw new Unsupported(`data set input ${i} matches no graph input`);
          feeds[io.name] = onnxTensorToTensor(ins[i]!, `input '${io.name}'`);
        }
      } catch (e) {
        // an input or output .pb whose element type forwardpass cannot hold (or int64 beyond int32)
        const msg = e instanceof Error ? e.message : String(e);
        return done(msg.startsWith('forwardpass:') || e instanceof Unsupported ? 'unsupported' : 'error', `test data: ${msg}`);
      }
      let out: Record<string, Tensor>;
      try {
        out = await session.run(feeds);
      } catch (e) {
        return done('error', `run: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        for (const t of Object.values(feeds)) t.dispose();
      }
      const bad = await compare(session, out, expected, atol, strict);
      for (const t of Object.values(out)) t.dispose();
      if (bad) return done('wrong', bad);
    }
    return done('pass');
  } catch (e) {
    return done('error', e instanceof Error ? e.message : String(e));
  } finally {
    session.dispose();
  }
}
