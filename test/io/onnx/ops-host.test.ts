// ONNX element types held in int32 (int16, uint16, uint32, uint64) and the ops added as typed-array kernels or
// compositions for the conformance suite (issue 13, helper onnxa): each one-node model is run by onnxruntime-node
// and by loadOnnx on the CPU, outputs compared (floats within atol 1e-5 + rtol 1e-4, NaN meeting NaN; integers
// exactly), with NaN inputs where the op takes floats; then the bad inputs each op refuses, with their messages.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { randomArray } from '../../helpers.js';
import { webgpu } from '../../webgpu.js';
import { runOrt, type OrtValue } from './ort.js';
import { onnxModel, type AttrValue, type ElemName, type TensorSpec } from './writer.js';

interface Case {
  op: string;
  opset: number;
  attrs?: Record<string, AttrValue | undefined>;
  /** Graph inputs by name, in node input order ('' entries of `order` are omitted optional inputs). */
  feeds: Record<string, OrtValue>;
  /** Node inputs in order, naming feeds, constants or '' (default: the feeds in order). */
  order?: string[];
  consts?: Record<string, TensorSpec>;
  outputs: [string, ElemName][];
  domain?: string;
}

const v = (type: ElemName, dims: number[], data: OrtValue['data']): OrtValue => ({ type, dims, data });
const f32 = (dims: number[], data: ArrayLike<number>) => v('float', dims, Float32Array.from(data));
const i64 = (dims: number[], data: number[]) => v('int64', dims, BigInt64Array.from(data.map(BigInt)));

function model(c: Case): Uint8Array {
  const order = c.order ?? Object.keys(c.feeds);
  return onnxModel({
    opset: c.domain ? [{ domain: '', version: c.opset }, { domain: c.domain, version: 1 }] : c.opset,
    nodes: [{ op: c.op, inputs: order, outputs: c.outputs.map(([n]) => n), attrs: c.attrs, name: 'n', ...(c.domain ? { domain: c.domain } : {}) }],
    inputs: Object.entries(c.feeds).map(([name, f]) => ({ name, type: f.type as ElemName, shape: f.dims })),
    initializers: Object.entries(c.consts ?? {}).map(([name, t]) => ({ ...t, name })),
    outputs: c.outputs.map(([name, type]) => ({ name, type })),
  });
}

/** forwardpass feeds: the ONNX type's own typed array (int64 as BigInt64Array), which the session converts. */
const ourFeeds = (c: Case) => Object.fromEntries(Object.entries(c.feeds).map(([k, f]) => [k, f.data as fp.OnnxFeed]));

async function runOurs(c: Case, backend = 'cpu'): Promise<Record<string, { dims: number[]; data: number[] }>> {
  const s = await fp.loadOnnx(model(c), { backend });
  try {
    const out = await s.run(ourFeeds(c));
    const res: Record<string, { dims: number[]; data: number[] }> = {};
    for (const [k, t] of Object.entries(out)) {
      res[k] = { dims: [...t.shape], data: Array.from((await t.data()) as ArrayLike<number>) };
      t.dispose();
    }
    return res;
  } finally {
    s.dispose();
  }
}

/** Run a case both ways and expect every output to agree. */
async function agree(c: Case, backend = 'cpu', tol = { atol: 1e-5, rtol: 1e-4 }): Promise<void> {
  const ort = await runOrt(model(c), c.feeds);
  const ours = await runOurs(c, backend);
  for (const [name, type] of c.outputs) {
    const o = ort[name]!, m = ours[name]!;
    const where = `${c.op} ${JSON.stringify(c.attrs ?? {})} output '${name}'`;
    expect(m.dims, where).toEqual(o.dims);
    const want = Array.from(o.data as ArrayLike<number | bigint>, Number);
    const float = type === 'float' || type === 'double' || type === 'float16';
    want.forEach((w, i) => {
      const g = m.data[i]!;
      const ok = g === w || (float && (Number.isNaN(w) ? Number.isNaN(g) : Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w)));
      if (!ok) expect.fail(`${where}: element ${i} is ${g}, onnxruntime ${w}`);
    });
  }
}

async function refuses(c: Case, re: RegExp, at: 'load' | 'run' = 'load'): Promise<void> {
  if (at === 'load') {
    await expect(fp.loadOnnx(model(c))).rejects.toThrow(re);
    return;
  }
  const s = await fp.loadOnnx(model(c));
  try {
    await expect(s.run(ourFeeds(c))).rejects.toThrow(re);
  } finally {
    s.dispose();
  }
}

const withNaN = (a: Float32Array) => (a.length > 3 && (a[1] = NaN, a[3] = Infinity), a);

describe('ONNX int16 / uint16 / uint32 / uint64 (held as int32)', () => {
  it('arithmetic and comparisons match onnxruntime, 16-bit outputs wrap like ONNX', async () => {
    const typed: Record<string, (d: number[]) => OrtValue['data']> = {
      int16: (d) => Int16Array.from(d), uint16: (d) => Uint16Array.from(d), uint32: (d) => Uint32Array.from(d), uint64: (d) => BigUint64Array.from(d.map(BigInt)),
    };
    for (const type of ['int16', 'uint16', 'uint32', 'uint64'] as const) {
      const a = [7, 300, 65535 >> 2, 1000, 0, 9], b = [3, 200, 3, 999, 5, 9];
      const x = v(type, [2, 3], typed[type]!(a)), y = v(type, [2, 3], typed[type]!(b));
      // onnxruntime has no 16-bit Max/Min kernels
      const ops = [['Add', type], ['Mul', type], ['Div', type], ['Equal', 'bool'], ['Less', 'bool'], ['GreaterOrEqual', 'bool'], ...(type === 'uint32' || type === 'uint64' ? [['Max', type], ['Min', type]] : [])];
      for (const [op, out] of ops as [string, ElemName][]) {
        await agree({ op, opset: 14, feeds: { x, y }, outputs: [['z', out]] });
      }
      // 16-bit overflow wraps (uint16 0 - 5 = 65531, int16 300 * 200 wraps)
      if (type === 'int16' || type === 'uint16') {
        await agree({ op: 'Sub', opset: 14, feeds: { x, y }, outputs: [['z', type]] });
        await agree({ op: 'Mul', opset: 14, feeds: { x: v(type, [2], typed[type]!([300, 255])), y: v(type, [2], typed[type]!([200, 255])) }, outputs: [['z', type]] });
      }
    }
  });

  it('a uint32/uint64 value beyond int32 is an error naming the input; an unsigned wrap-around output too', async () => {
    const big = { op: 'Add', opset: 14, feeds: { x: v('uint32', [2], Uint32Array.from([1, 2 ** 31])), y: v('uint32', [2], Uint32Array.from([1, 1])) }, outputs: [['z', 'uint32']] } as Case;
    await refuses(big, /^forwardpass: onnx: input 'x' holds the uint32 value 2147483648 at index 1, beyond 2147483647 \(forwardpass holds uint32 as int32 where values fit\)$/, 'run');
    const wrap = { op: 'Sub', opset: 14, feeds: { x: v('uint64', [2], BigUint64Array.from([5n, 1n])), y: v('uint64', [2], BigUint64Array.from([2n, 2n])) }, outputs: [['z', 'uint64']] } as Case;
    await refuses(wrap, /^forwardpass: onnx: run: graph output 'z' \(uint64\) computed -1 at index 1, an unsigned wrap-around that forwardpass cannot hold/, 'run');
    const init = { op: 'Add', opset: 14, feeds: { x: v('uint64', [1], BigUint64Array.from([1n])) }, order: ['x', 'w'], consts: { w: { type: 'uint64', dims: [1], data: [2n ** 40n] } }, outputs: [['z', 'uint64']] } as Case;
    await refuses(init, /^forwardpass: onnx: initializer 'w' holds the uint64 value 1099511627776 at index 0, beyond 2147483647/);
  });
});

describe('ONNX inverse trigonometric and hyperbolic functions', () => {
  it('match onnxruntime, NaN and out-of-domain values included', async () => {
    const x = withNaN(randomArray(12, 1, -0.99, 0.99));
    x[5] = 2; // outside acos/asin/atanh's domain: NaN
    for (const op of ['Acos', 'Asin', 'Atan', 'Asinh', 'Atanh']) await agree({ op, opset: 13, feeds: { x: f32([3, 4], x) }, outputs: [['y', 'float']] });
    await agree({ op: 'Acosh', opset: 13, feeds: { x: f32([3, 4], withNaN(randomArray(12, 2, 1, 5))) }, outputs: [['y', 'float']] });
  });
  it('refuse an integer input at load', async () => {
    await refuses({ op: 'Acos', opset: 13, feeds: { x: v('int32', [2], Int32Array.from([0, 1])) }, outputs: [['y', 'int32']] }, /^forwardpass: onnx: node 'n' \(Acos\): input 0 must be float32, float16, found int32$/);
  });
});

describe('ONNX bitwise ops and BitShift', () => {
  it('And/Or/Xor/Not match onnxruntime on int16, uint8, int32 and uint64 with broadcasting', async () => {
    const cases: OrtValue[][] = [
      [v('int16', [2, 3], Int16Array.from([-1, 5, 300, -32768, 7, 0])), v('int16', [3], Int16Array.from([255, -2, 12]))],
      [v('uint8', [2, 3], Uint8Array.from([255, 5, 30, 128, 7, 0])), v('uint8', [1, 3], Uint8Array.from([15, 254, 12]))],
      [v('int32', [3], Int32Array.from([-(2 ** 31), 2 ** 31 - 1, -5])), v('int32', [3], Int32Array.from([-1, 1234567, 3]))],
      [v('uint64', [2, 2], BigUint64Array.from([1n, 2n ** 30n, 12345n, 0n])), v('uint64', [2], BigUint64Array.from([2n ** 31n - 1n, 6n]))],
    ];
    for (const [x, y] of cases) {
      for (const op of ['BitwiseAnd', 'BitwiseOr', 'BitwiseXor']) await agree({ op, opset: 18, feeds: { x: x!, y: y! }, outputs: [['z', x!.type as ElemName]] });
      if (x!.type !== 'uint64') await agree({ op: 'BitwiseNot', opset: 18, feeds: { x: x! }, outputs: [['z', x!.type as ElemName]] });
    }
    await agree({ op: 'BitwiseNot', opset: 18, feeds: { x: v('uint16', [3], Uint16Array.from([0, 431, 65535])) }, outputs: [['z', 'uint16']] });
  });
  it('BitShift left/right matches onnxruntime on uint8, uint32 and uint64', async () => {
    const cases: [OrtValue, OrtValue][] = [
      [v('uint8', [4], Uint8Array.from([16, 255, 1, 128])), v('uint8', [4], Uint8Array.from([1, 4, 7, 0]))],
      [v('uint32', [3], Uint32Array.from([16, 1000, 1])), v('uint32', [3], Uint32Array.from([2, 3, 30]))],
      [v('uint64', [3], BigUint64Array.from([16n, 1n, 7n])), v('uint64', [1], BigUint64Array.from([2n]))],
    ];
    for (const [x, y] of cases) {
      for (const direction of ['LEFT', 'RIGHT']) await agree({ op: 'BitShift', opset: 11, attrs: { direction }, feeds: { x, y }, outputs: [['z', x.type as ElemName]] });
    }
  });
  it('refuse floats and a bad direction at load', async () => {
    await refuses({ op: 'BitwiseAnd', opset: 18, feeds: { x: f32([1], [1]), y: f32([1], [1]) }, outputs: [['z', 'float']] }, /^forwardpass: onnx: node 'n' \(BitwiseAnd\): input A must be int32, int8, uint8, found float32$/);
    await refuses({ op: 'BitShift', opset: 11, attrs: { direction: 'UP' }, feeds: { x: v('uint8', [1], Uint8Array.from([1])), y: v('uint8', [1], Uint8Array.from([1])) }, outputs: [['z', 'uint8']] },
      /^forwardpass: onnx: node 'n' \(BitShift\): attribute 'direction' must be one of 'LEFT', 'RIGHT', found 'UP'$/);
  });
});

describe('ONNX CumProd, TopK, NonZero, CenterCropPad, BitCast', () => {
  it('CumProd (exclusive, reverse, axes) matches onnxruntime, NaN included', async () => {
    const x = f32([2, 3, 4], withNaN(randomArray(24, 3, 0.5, 1.5)));
    for (const [axis, exclusive, reverse] of [[0, 0, 0], [1, 1, 0], [-1, 0, 1], [2, 1, 1]]) {
      await agree({ op: 'CumProd', opset: 26, attrs: { exclusive, reverse }, feeds: { x, axis: i64([], [axis!]) }, outputs: [['y', 'float']] });
    }
    await agree({ op: 'CumProd', opset: 26, feeds: { x: v('int32', [4], Int32Array.from([2, -3, 4, 5])), axis: i64([], [0]) }, outputs: [['y', 'int32']] });
  });
  it('TopK (largest, smallest, ties to the lower index) matches onnxruntime; NaN counts as the largest value', async () => {
    const x = Float32Array.from([3, 1, 3, -7, 2, 2, -1, 5, 0, 5, 5, 1]);
    for (const [largest, axis, k] of [[1, -1, 3], [0, -1, 2], [1, 0, 2], [0, 1, 4]]) {
      await agree({ op: 'TopK', opset: 11, attrs: { largest, axis }, feeds: { x: f32([3, 4], x), k: i64([1], [k!]) }, outputs: [['values', 'float'], ['indices', 'int64']] });
    }
    // onnxruntime's order around NaN is not stable (its output varies with the row); forwardpass orders NaN as the
    // largest value (as PyTorch and NumPy's sort do): first with largest = 1, last with largest = 0, ties by index
    const nan = { x: f32([1, 5], [3, NaN, 1, NaN, 2]), k: i64([1], [5]) };
    for (const [largest, values, indices] of [[1, [NaN, NaN, 3, 2, 1], [1, 3, 0, 4, 2]], [0, [1, 2, 3, NaN, NaN], [2, 4, 0, 1, 3]]] as [number, number[], number[]][]) {
      const out = await runOurs({ op: 'TopK', opset: 11, attrs: { largest }, feeds: nan, outputs: [['values', 'float'], ['indices', 'int64']] });
      expect(out.values!.data).toEqual(values);
      expect(out.indices!.data).toEqual(indices);
    }
    await refuses({ op: 'TopK', opset: 11, feeds: { x: f32([3, 4], x), k: i64([1], [5]) }, outputs: [['values', 'float'], ['indices', 'int64']] },
      /^forwardpass: onnx: node 'n' \(TopK\): K = 5 must be within 0\.\.4 \(the size of axis 1 of \[3, 4\]\)$/, 'run');
  });
  it('NonZero and CenterCropPad match onnxruntime', async () => {
    await agree({ op: 'NonZero', opset: 13, feeds: { x: f32([2, 3], [0, 1, NaN, 0, 0, -2]) }, outputs: [['y', 'int64']] });
    const x = f32([3, 5, 4], randomArray(60, 4));
    for (const [shape, axes] of [[[2, 7], [1, 2]], [[4, 3], [2, 0]], [[5, 2, 6], undefined]] as [number[], number[] | undefined][]) {
      await agree({ op: 'CenterCropPad', opset: 18, attrs: { axes }, feeds: { x, s: i64([shape.length], shape) }, outputs: [['y', 'float']] });
    }
  });
  it('BitCast between types of one width matches onnxruntime; int64/double targets are refused at load', async () => {
    await agree({ op: 'BitCast', opset: 26, attrs: { to: 6 }, feeds: { x: f32([4], [1, -2.5, NaN, Infinity]) }, outputs: [['y', 'int32']] });
    await agree({ op: 'BitCast', opset: 26, attrs: { to: 1 }, feeds: { x: v('int32', [3], Int32Array.from([0, 1065353216, -1])) }, outputs: [['y', 'float']] });
    await agree({ op: 'BitCast', opset: 26, attrs: { to: 2 }, feeds: { x: v('int8', [3], Int8Array.from([-1, 5, -128])) }, outputs: [['y', 'uint8']] });
    await agree({ op: 'BitCast', opset: 26, attrs: { to: 5 }, feeds: { x: v('uint16', [3], Uint16Array.from([65535, 5, 32768])) }, outputs: [['y', 'int16']] });
    await refuses({ op: 'BitCast', opset: 26, attrs: { to: 7 }, feeds: { x: f32([1], [1]) }, outputs: [['y', 'int64']] }, /^forwardpass: onnx: node 'n' \(BitCast\): BitCast to int64 is not supported/);
  });
});

describe('ONNX scatter ops', () => {
  const data = f32([3, 4], randomArray(12, 5));
  it('a NaN in data or updates stays NaN under every reduction (onnxruntime\'s max/min drop it)', async () => {
    const nanData = f32([2, 2], [NaN, 1, 2, 3]);
    for (const reduction of ['add', 'mul', 'max', 'min']) {
      const out = await runOurs({ op: 'ScatterElements', opset: 18, attrs: { reduction }, feeds: { data: nanData, idx: i64([1, 2], [0, 1]), upd: f32([1, 2], [5, NaN]) }, outputs: [['y', 'float']] });
      expect(out.y!.data.map(Number.isNaN), reduction).toEqual([true, false, false, true]);
    }
  });
  it('ScatterElements (every reduction, negative and repeated indices) matches onnxruntime', async () => {
    const idx = i64([2, 3], [0, -1, 2, 2, 0, 0]);
    const upd = f32([2, 3], randomArray(6, 6));
    for (const reduction of ['add', 'mul', 'max', 'min']) {
      for (const axis of [0, 1]) await agree({ op: 'ScatterElements', opset: 18, attrs: { axis, reduction }, feeds: { data, idx, upd }, outputs: [['y', 'float']] });
    }
    await agree({ op: 'ScatterElements', opset: 18, attrs: { axis: 1 }, feeds: { data, idx: i64([2, 2], [0, -1, 2, 3]), upd: f32([2, 2], [1, 2, 3, 4]) }, outputs: [['y', 'float']] });
    await refuses({ op: 'ScatterElements', opset: 18, feeds: { data, idx: i64([1, 1], [3]), upd: f32([1, 1], [1]) }, outputs: [['y', 'float']] },
      /^forwardpass: onnx: node 'n' \(ScatterElements\): index 3 is out of range for dim 0 of size 3 \(expected -3\.\.2\)$/, 'run');
  });
  it('ScatterND (slices and elements, every reduction) matches onnxruntime', async () => {
    for (const reduction of ['none', 'add', 'mul', 'max', 'min']) {
      await agree({ op: 'ScatterND', opset: 18, attrs: { reduction }, feeds: { data, idx: i64([2, 1], [2, -3]), upd: f32([2, 4], randomArray(8, 7)) }, outputs: [['y', 'float']] });
      if (reduction !== 'none') await agree({ op: 'ScatterND', opset: 18, attrs: { reduction }, feeds: { data, idx: i64([3, 2], [0, 1, 2, 3, 0, 1]), upd: f32([3], [5, NaN, 2]) }, outputs: [['y', 'float']] });
    }
  });
  it('TensorScatter (linear and circular) matches onnxruntime', async () => {
    const past = f32([2, 5, 3], randomArray(30, 8)), upd = f32([2, 2, 3], randomArray(12, 9));
    await agree({ op: 'TensorScatter', opset: 24, attrs: { axis: 1 }, feeds: { past, upd, wi: i64([2], [1, 3]) }, outputs: [['y', 'float']] });
    await agree({ op: 'TensorScatter', opset: 24, attrs: { axis: 1, mode: 'circular' }, feeds: { past, upd, wi: i64([2], [4, 0]) }, outputs: [['y', 'float']] });
    await refuses({ op: 'TensorScatter', opset: 24, attrs: { axis: 1 }, feeds: { past, upd, wi: i64([2], [4, 0]) }, outputs: [['y', 'float']] },
      /^forwardpass: onnx: node 'n' \(TensorScatter\): write index 4 \+ 1 is outside the cache's 5 positions \(mode 'linear'\)$/, 'run');
  });
});

describe('ONNX NonMaxSuppression and TfIdfVectorizer', () => {
  it('NonMaxSuppression (both box formats, thresholds, two classes) matches onnxruntime', async () => {
    const boxes = f32([1, 6, 4], [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 0, 10, 1, 11, 1, 10.1, 0, 11.1, 0, 100, 1, 101]);
    const scores = f32([1, 2, 6], [0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.1, 0.2, 0.9, NaN, 0.4, 0.8]);
    for (const center of [0, 1]) {
      await agree({ op: 'NonMaxSuppression', opset: 11, attrs: { center_point_box: center }, feeds: { boxes, scores, m: i64([1], [3]), iou: f32([1], [0.5]), st: f32([1], [0.25]) }, outputs: [['sel', 'int64']] });
    }
    await agree({ op: 'NonMaxSuppression', opset: 11, feeds: { boxes, scores, m: i64([1], [10]) }, outputs: [['sel', 'int64']] });
  });
  it('TfIdfVectorizer (TF, IDF, TFIDF; skips) matches onnxruntime', async () => {
    const x = v('int32', [2, 6], Int32Array.from([1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8]));
    const pool = { ngram_counts: [0, 4], ngram_indexes: [0, 1, 2, 3, 4, 5, 6], pool_int64s: [2, 3, 5, 4, 5, 6, 7, 8, 6, 7] };
    for (const [mode, min, max, skip] of [['TF', 2, 2, 0], ['TF', 1, 2, 5], ['IDF', 1, 2, 3], ['TFIDF', 1, 2, 3]] as [string, number, number, number][]) {
      const weights = mode === 'TF' ? undefined : { type: 'floats' as const, value: [0.5, 1, 1.5, 2, 2.5, 3, 3.5] };
      await agree({ op: 'TfIdfVectorizer', opset: 9, attrs: { ...pool, mode, min_gram_length: min, max_gram_length: max, max_skip_count: skip, weights }, feeds: { x }, outputs: [['y', 'float']] });
    }
  });
});

describe('ONNX signal ops', () => {
  it('DFT (forward, inverse, RFFT, IRFFT, dft_length, opsets 17 and 20) matches onnxruntime', async () => {
    const real = f32([2, 6, 3, 1], randomArray(36, 10)), cplx = f32([2, 6, 3, 2], withNaN(randomArray(72, 11)));
    await agree({ op: 'DFT', opset: 17, attrs: { axis: 1 }, feeds: { x: real }, outputs: [['y', 'float']] });
    await agree({ op: 'DFT', opset: 17, attrs: { axis: 2, onesided: 1 }, feeds: { x: real }, outputs: [['y', 'float']] });
    await agree({ op: 'DFT', opset: 20, attrs: { inverse: 1 }, feeds: { x: cplx, len: i64([], [8]), axis: i64([], [1]) }, outputs: [['y', 'float']] });
    await agree({ op: 'DFT', opset: 20, attrs: { inverse: 1, onesided: 1 }, feeds: { x: f32([2, 4, 3, 2], randomArray(48, 12)) }, order: ['x', '', 'axis'], consts: { axis: { type: 'int64', dims: [], data: [1n] } }, outputs: [['y', 'float']] } as Case);
  });
  it('STFT, the windows and MelWeightMatrix match onnxruntime', async () => {
    const signal = f32([1, 40, 1], randomArray(40, 13));
    await agree({ op: 'STFT', opset: 17, feeds: { signal, step: i64([], [6]), window: f32([10], randomArray(10, 14, 0, 1)) }, outputs: [['y', 'float']] });
    await agree({ op: 'STFT', opset: 17, attrs: { onesided: 0 }, feeds: { signal, step: i64([], [8]) }, order: ['signal', 'step', '', 'len'], consts: { len: { type: 'int64', dims: [], data: [7n] } }, outputs: [['y', 'float']] } as Case);
    for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
      for (const periodic of [0, 1]) await agree({ op, opset: 17, attrs: { periodic }, feeds: { n: i64([], [9]) }, outputs: [['y', 'float']] });
    }
    await agree({ op: 'MelWeightMatrix', opset: 17, feeds: { bins: i64([], [6]), len: i64([], [32]), rate: i64([], [8000]), lo: f32([], [100]), hi: f32([], [3500]) }, outputs: [['y', 'float']] });
  });
});

describe('ONNX Det, LRN, BatchNormalization training, Dropout training, batched QLinearMatMul', () => {
  it('Det matches onnxruntime (NaN and singular matrices included)', async () => {
    const x = randomArray(4 * 9, 15);
    x.fill(1, 9, 18); // singular
    x[20] = NaN;
    await agree({ op: 'Det', opset: 13, feeds: { x: f32([4, 3, 3], x) }, outputs: [['y', 'float']] });
  });
  it('LRN matches onnxruntime; a NaN reaches only the channels whose window holds it', async () => {
    const x = f32([2, 5, 3, 2], randomArray(60, 16, -2, 2));
    for (const [size, alpha, beta, bias] of [[3, 1e-4, 0.75, 1], [5, 0.01, 0.5, 2]]) { // onnxruntime takes odd sizes only
      await agree({ op: 'LRN', opset: 13, attrs: { size, alpha: { type: 'float', value: alpha! }, beta: { type: 'float', value: beta! }, bias: { type: 'float', value: bias! } }, feeds: { x }, outputs: [['y', 'float']] });
    }
    // onnxruntime's running channel sum lets a NaN leak into every later channel; the spec's window sum does not:
    // with size 3 a NaN in channel 0 makes channels 0 and 1 NaN at that pixel, and channels 2.. stay finite
    const nan = f32([1, 4, 1, 1], [NaN, 1, 2, 3]);
    const out = await runOurs({ op: 'LRN', opset: 13, attrs: { size: 3 }, feeds: { x: nan }, outputs: [['y', 'float']] });
    const ref = (c: number, win: number[]) => [1, 2, 3][c - 1]! / (1 + (1e-4 / 3) * win.reduce((s, w) => s + w * w, 0)) ** 0.75;
    expect(out.y!.data.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(out.y!.data[2]).toBeCloseTo(ref(2, [1, 2, 3]), 6);
    expect(out.y!.data[3]).toBeCloseTo(ref(3, [2, 3]), 6);
  });
  it('BatchNormalization training_mode and Dropout training at ratio 0 match onnxruntime', async () => {
    const x = f32([2, 3, 2, 2], randomArray(24, 17));
    const c3 = (seed: number, lo = -1) => f32([3], randomArray(3, seed, lo, 1));
    await agree({ op: 'BatchNormalization', opset: 15, attrs: { training_mode: 1, momentum: { type: 'float', value: 0.8 } }, feeds: { x, s: c3(18), b: c3(19), m: c3(20), v: c3(21, 0.5) }, outputs: [['y', 'float'], ['rm', 'float'], ['rv', 'float']] });
    await agree({ op: 'Dropout', opset: 13, feeds: { x, r: f32([], [0]), t: v('bool', [], Uint8Array.from([1])) }, outputs: [['y', 'float'], ['mask', 'bool']] });
    await refuses({ op: 'Dropout', opset: 13, feeds: { x, r: f32([], [0.3]), t: v('bool', [], Uint8Array.from([1])) }, outputs: [['y', 'float']] },
      /^forwardpass: onnx: node 'n' \(Dropout\): training_mode = true with a ratio above 0 is not supported/, 'run');
  });
  it('QLinearMatMul with a batched B matches onnxruntime', async () => {
    const a = v('uint8', [2, 3, 4], Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256));
    const b = v('uint8', [2, 4, 5], Uint8Array.from({ length: 40 }, (_, i) => (i * 53 + 7) % 256));
    const sc = (x: number) => f32([], [x]), zp = (x: number) => v('uint8', [], Uint8Array.from([x]));
    await agree({ op: 'QLinearMatMul', opset: 21, feeds: { a, as: sc(0.02), az: zp(120), b, bs: sc(0.03), bz: zp(128), ys: sc(0.5), yz: zp(100) }, outputs: [['y', 'uint8']] });
  });
});

describe.skipIf(!webgpu.gpu)('typed-array ONNX kernels inside a WebGPU session', () => {
  it('run on the CPU there, give the CPU results, and onnxOpSupport says so', async () => {
    const c: Case = { op: 'TopK', opset: 11, feeds: { x: f32([2, 5], randomArray(10, 22)), k: i64([1], [2]) }, outputs: [['values', 'float'], ['indices', 'int64']] };
    await agree(c, 'webgpu');
    const support = fp.onnxOpSupport(fp.parseOnnx(model(c)));
    expect(support).toEqual([{ opType: 'TopK', domain: '', count: 1, cpu: true, webgpu: false }]);
    await agree({ op: 'LRN', opset: 13, attrs: { size: 3 }, feeds: { x: f32([1, 4, 2, 2], randomArray(16, 23)) }, outputs: [['y', 'float']] }, 'webgpu', { atol: 1e-4, rtol: 1e-3 });
  });
});

describe('ONNX Mod fmod, OneHot, Compress, ReverseSequence, Unique, DepthToSpace, SpaceToDepth, SwiGLU', () => {
  it('Mod fmod = 1 (floats with NaN, integers of mixed signs) matches onnxruntime', async () => {
    await agree({ op: 'Mod', opset: 13, attrs: { fmod: 1 }, feeds: { a: f32([6], [5.5, -5.5, 7, NaN, -3, 0]), b: f32([6], [2, 2, -3, 1, 0.7, 2]) }, outputs: [['y', 'float']] });
    await agree({ op: 'Mod', opset: 13, attrs: { fmod: 1 }, feeds: { a: v('int32', [4], Int32Array.from([7, -7, 7, -7])), b: v('int32', [1], Int32Array.from([-3])) }, outputs: [['y', 'int32']] });
  });
  it('OneHot (axes, negative and out-of-range indices) matches onnxruntime', async () => {
    const idx = i64([2, 3], [0, -1, 4, 2, 7, -5]);
    for (const axis of [-1, 0, 1]) await agree({ op: 'OneHot', opset: 11, attrs: { axis }, feeds: { idx, depth: f32([], [5]), values: f32([2], [-2, 3]) }, outputs: [['y', 'float']] });
  });
  it('Compress and ReverseSequence match onnxruntime', async () => {
    const x = f32([3, 4], withNaN(randomArray(12, 24)));
    const cond = v('bool', [3], Uint8Array.from([1, 0, 1]));
    await agree({ op: 'Compress', opset: 11, attrs: { axis: 0 }, feeds: { x, cond }, outputs: [['y', 'float']] });
    await agree({ op: 'Compress', opset: 11, attrs: { axis: -1 }, feeds: { x, cond }, outputs: [['y', 'float']] });
    await agree({ op: 'Compress', opset: 11, feeds: { x, cond: v('bool', [5], Uint8Array.from([0, 1, 1, 0, 1])) }, outputs: [['y', 'float']] });
    await agree({ op: 'ReverseSequence', opset: 10, attrs: { batch_axis: 1, time_axis: 0 }, feeds: { x: f32([4, 3, 2], randomArray(24, 25)), lens: i64([3], [4, 1, 3]) }, outputs: [['y', 'float']] });
    await agree({ op: 'ReverseSequence', opset: 10, attrs: { batch_axis: 0, time_axis: 1 }, feeds: { x, lens: i64([3], [2, 4, 0]) }, outputs: [['y', 'float']] });
  });
  it('Unique (sorted and not, with an axis, all four outputs) matches onnxruntime', async () => {
    const outs: [string, ElemName][] = [['y', 'float'], ['idx', 'int64'], ['inv', 'int64'], ['cnt', 'int64']];
    const x = f32([6], [2, 1, 1, 3, 4, 3]);
    for (const sorted of [0, 1]) await agree({ op: 'Unique', opset: 11, attrs: { sorted }, feeds: { x }, outputs: outs });
    await agree({ op: 'Unique', opset: 11, attrs: { sorted: 1, axis: 1 }, feeds: { x: f32([2, 4, 2], [1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1]) }, outputs: outs });
  });
  it('DepthToSpace (DCR, CRD) and SpaceToDepth match onnxruntime; SwiGLU matches its definition', async () => {
    const x = f32([2, 8, 2, 3], randomArray(96, 26));
    for (const mode of ['DCR', 'CRD']) await agree({ op: 'DepthToSpace', opset: 13, attrs: { blocksize: 2, mode }, feeds: { x }, outputs: [['y', 'float']] });
    await agree({ op: 'SpaceToDepth', opset: 13, attrs: { blocksize: 2 }, feeds: { x: f32([1, 2, 4, 6], randomArray(48, 27)) }, outputs: [['y', 'float']] });
    // SwiGLU is opset 28, which onnxruntime-node does not run: Swish_alpha(A) * B written out
    const a = withNaN(randomArray(8, 28, -3, 3)), b = randomArray(8, 29);
    const out = await runOurs({ op: 'SwiGLU', opset: 28, attrs: { alpha: { type: 'float', value: 1.702 } }, feeds: { a: f32([2, 4], a), b: f32([2, 4], b) }, outputs: [['y', 'float']] });
    out.y!.data.forEach((g, i) => {
      const want = (a[i]! / (1 + Math.exp(-1.702 * a[i]!))) * b[i]!;
      if (Number.isNaN(want)) expect(g).toBeNaN();
      else expect(g).toBeCloseTo(want, 5);
    });
    await refuses({ op: 'SwiGLU', opset: 28, feeds: { a: f32([2, 4], a), b: f32([4], b.slice(0, 4)) }, outputs: [['y', 'float']] },
      /^forwardpass: onnx: node 'n' \(SwiGLU\): A \[2, 4\] and B \[4\] must have one shape \(SwiGLU does not broadcast\)$/, 'run');
  });
});

describe('ai.onnx.ml Binarizer, ArrayFeatureExtractor, TreeEnsemble', () => {
  const ml = (c: Omit<Case, 'opset' | 'domain'>): Case => ({ ...c, opset: 17, domain: 'ai.onnx.ml' });
  it('Binarizer and ArrayFeatureExtractor match onnxruntime; Binarizer keeps NaN (onnxruntime refuses it)', async () => {
    const x = f32([3, 4], randomArray(12, 30, -2, 2));
    await agree(ml({ op: 'Binarizer', attrs: { threshold: { type: 'float', value: 0.25 } }, feeds: { x }, outputs: [['y', 'float']] }));
    await agree(ml({ op: 'ArrayFeatureExtractor', feeds: { x: f32([3, 4], withNaN(randomArray(12, 31))), cols: i64([3], [3, 0, 3]) }, outputs: [['y', 'float']] }));
    const out = await runOurs(ml({ op: 'Binarizer', feeds: { x: f32([3], [NaN, -1, 2]) }, outputs: [['y', 'float']] }));
    expect(out.y!.data).toEqual([NaN, 0, 1]);
    await refuses(ml({ op: 'ArrayFeatureExtractor', feeds: { x, cols: i64([1], [4]) }, outputs: [['y', 'float']] }),
      /^forwardpass: onnx: node 'n' \(ArrayFeatureExtractor\): index 4 is out of range for the last dim of \[3, 4\] \(expected 0\.\.3\)$/, 'run');
  });
  it('TreeEnsemble (branch modes, set membership, NaN routing, each aggregate) matches the ONNX reference by hand', async () => {
    // one tree: node 0 (x0 <= 3.14) -> node 1 (x0 member {1.2, 3.7}) else node 2 (x1 > 4.2, NaN goes true)
    const attrs = (aggregate: number) => ({
      aggregate_function: aggregate, n_targets: 2, tree_roots: [0, 0],
      nodes_featureids: [0, 0, 1], nodes_modes: { type: 'tensor' as const, value: { type: 'uint8' as const, dims: [3], data: [0, 6, 3] } },
      nodes_splits: { type: 'tensor' as const, value: { type: 'float' as const, dims: [3], data: [3.14, 0, 4.2] } },
      membership_values: { type: 'tensor' as const, value: { type: 'float' as const, dims: [3], data: [1.2, 3.7, NaN] } },
      nodes_missing_value_tracks_true: [0, 0, 1],
      nodes_truenodeids: [1, 0, 1], nodes_trueleafs: [0, 1, 1], nodes_falsenodeids: [2, 2, 3], nodes_falseleafs: [0, 1, 1],
      leaf_targetids: [0, 1, 0, 1], leaf_weights: { type: 'tensor' as const, value: { type: 'float' as const, dims: [4], data: [5, 12, -12, 7] } },
    });
    const x = f32([4, 2], [1.2, 0, 2, 0, 5, NaN, 5, 1]);
    // leaves reached: row 0 -> 0 (t0 +5), row 1 -> 2 (t0 -12), row 2 -> 1 (NaN tracks true: t1 +12), row 3 -> 3 (t1 +7); two roots (the same tree twice)
    const want: Record<number, number[]> = { 1: [10, 0, -24, 0, 0, 24, 0, 14], 0: [5, 0, -12, 0, 0, 12, 0, 7] };
    for (const agg of [0, 1]) {
      const out = await runOurs(ml({ op: 'TreeEnsemble', attrs: attrs(agg), feeds: { x }, outputs: [['y', 'float']] }));
      expect(out.y!.data.map((e) => Math.fround(e)), `aggregate ${agg}`).toEqual(want[agg]!.map(Math.fround));
    }
    await refuses(ml({ op: 'TreeEnsemble', attrs: { ...attrs(1), post_transform: 1 }, feeds: { x }, outputs: [['y', 'float']] }),
      /^forwardpass: onnx: node 'n' \(TreeEnsemble\): post_transform 1 is not supported \(only 0, NONE\)$/);
  });
});

describe('ONNX Einsum', () => {
  it('matches onnxruntime: matmul, implicit output, diagonal, broadcast ellipsis, three operands, NaN', async () => {
    const a = f32([2, 3, 4], withNaN(randomArray(24, 40))), b = f32([2, 4, 5], randomArray(40, 41)), sq = f32([2, 3, 3], randomArray(18, 42));
    const cases: [string, Record<string, OrtValue>][] = [
      ['bij,bjk->bik', { a, b }], ['bij,bjk', { a, b }], ['...ii->...i', { sq }], ['bii->b', { sq }], ['ij->ji', { x: f32([3, 4], randomArray(12, 43)) }],
      ['...j,jk->...k', { a, w: f32([4, 2], randomArray(8, 44)) }], ['i,i', { p: f32([5], randomArray(5, 45)), q: f32([5], randomArray(5, 46)) }],
      ['ij,jk,kl->il', { x: f32([2, 3], randomArray(6, 47)), u: f32([3, 4], randomArray(12, 48)), z: f32([4, 2], randomArray(8, 49)) }],
    ];
    for (const [equation, feeds] of cases) await agree({ op: 'Einsum', opset: 12, attrs: { equation }, feeds, outputs: [['y', 'float']] });
    await refuses({ op: 'Einsum', opset: 12, attrs: { equation: 'ij,jk->ik' }, feeds: { a: f32([2, 3], randomArray(6, 50)), b: f32([4, 2], randomArray(8, 51)) }, outputs: [['y', 'float']] },
      /^forwardpass: onnx: node 'n' \(Einsum\): label 'j' is 3 in one place and 4 in operand 1 \[4, 2\]$/, 'run');
  });
});

describe('ONNX RoiAlign', () => {
  it('matches onnxruntime (avg and max, both coordinate modes, sampling ratios, rois partly outside)', async () => {
    const x = f32([2, 3, 6, 7], randomArray(252, 60));
    const rois = f32([3, 4], [0, 0, 4, 3, 1.5, 2.2, 6.5, 5.9, -2, -1, 3, 8]);
    const idx = i64([3], [0, 1, 1]);
    for (const [mode, cmode, sampling_ratio] of [['avg', 'half_pixel', 0], ['avg', 'output_half_pixel', 2], ['max', 'half_pixel', 2], ['max', 'output_half_pixel', 0]] as [string, string, number][]) {
      await agree({ op: 'RoiAlign', opset: 16, attrs: { mode, coordinate_transformation_mode: cmode, sampling_ratio, output_height: 2, output_width: 3, spatial_scale: { type: 'float', value: 0.9 } }, feeds: { x, rois, idx }, outputs: [['y', 'float']] });
    }
    await refuses({ op: 'RoiAlign', opset: 16, feeds: { x, rois, idx: i64([3], [0, 2, 1]) }, outputs: [['y', 'float']] }, /^forwardpass: onnx: node 'n' \(RoiAlign\): batch index 2 of roi 1 is outside 0\.\.1$/, 'run');
  });
});

describe('ONNX OptionalHasElement / OptionalGetElement on tensors', () => {
  it('an omitted input is empty (false); a tensor is present (true) and comes back from GetElement', async () => {
    const none = await runOurs({ op: 'OptionalHasElement', opset: 18, feeds: {}, order: [''], outputs: [['y', 'bool']] });
    expect(none.y).toEqual({ dims: [], data: [0] });
    const some = await runOurs({ op: 'OptionalHasElement', opset: 18, feeds: { x: f32([2], [1, NaN]) }, outputs: [['y', 'bool']] });
    expect(some.y).toEqual({ dims: [], data: [1] });
    const got = await runOurs({ op: 'OptionalGetElement', opset: 18, feeds: { x: f32([2], [1, NaN]) }, outputs: [['y', 'float']] });
    expect(got.y).toEqual({ dims: [2], data: [1, NaN] });
  });
});

describe('ONNX blocked QuantizeLinear / DequantizeLinear', () => {
  it('match onnxruntime (blocks along axis 1 and 0, a partial last block, zero points)', async () => {
    const x = f32([3, 5], randomArray(15, 70, -4, 4));
    const q = v('int8', [3, 5], Int8Array.from({ length: 15 }, (_, i) => (i * 37) % 200 - 100));
    for (const [axis, block, sdims] of [[1, 2, [3, 3]], [0, 2, [2, 5]]] as [number, number, number[]][]) {
      const n = sdims[0]! * sdims[1]!;
      const scale = f32(sdims, randomArray(n, 71, 0.05, 0.2)), zp = v('int8', sdims, Int8Array.from({ length: n }, (_, i) => i - 3));
      await agree({ op: 'QuantizeLinear', opset: 21, attrs: { axis, block_size: block }, feeds: { x, scale, zp }, outputs: [['y', 'int8']] });
      await agree({ op: 'DequantizeLinear', opset: 21, attrs: { axis, block_size: block }, feeds: { q, scale, zp }, outputs: [['y', 'float']] });
    }
    await refuses({ op: 'DequantizeLinear', opset: 21, attrs: { axis: 1, block_size: 2 }, feeds: { q, scale: f32([3, 2], randomArray(6, 72)) }, outputs: [['y', 'float']] },
      /^forwardpass: onnx: node 'n' \(DequantizeLinear\): x_scale \[3, 2\] must be \[3, 3\] for blocks of 2 along axis 1 of x \[3, 5\]$/, 'run');
  });
});

describe('ONNX bfloat16 (held as float32)', () => {
  const BF16 = 'bfloat16' as ElemName; // the writer's value infos take any ELEM name
  it('Cast to bfloat16 and bfloat16 outputs round to nearest, ties to even; NaN and ±Inf stay', async () => {
    const x = f32([6], [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -9), NaN, Infinity, 3.14159]);
    const cast = await runOurs({ op: 'Cast', opset: 13, attrs: { to: 16 }, feeds: { x }, outputs: [['y', BF16]] });
    expect(cast.y!.data).toEqual([1, 1.015625, -1, NaN, Infinity, 3.140625]);
    // a bfloat16 graph input fed as float32 values; the Add's output rounds to bfloat16 at the graph output
    const add = await runOurs({ op: 'Add', opset: 13, feeds: { a: { type: BF16, dims: [2], data: Float32Array.from([1, 256]) }, b: { type: BF16, dims: [2], data: Float32Array.from([2 ** -8, 1]) } }, outputs: [['y', BF16]] });
    expect(add.y!.data).toEqual([1, 256]);
    const up = await runOurs({ op: 'Cast', opset: 13, attrs: { to: 1 }, feeds: { x: { type: BF16, dims: [2], data: Float32Array.from([1.5, -0.25]) } }, outputs: [['y', 'float']] });
    expect(up.y!.data).toEqual([1.5, -0.25]);
  });
});

describe('ONNX Attention local windows (opset 25)', () => {
  it('left/right_window_size give what the same window written as a bool attn_mask gives (with and without is_causal)', async () => {
    const [sq, skv] = [4, 6];
    const q = f32([1, 2, sq, 8], randomArray(64, 80)), k = f32([1, 2, skv, 8], randomArray(96, 81)), val = f32([1, 2, skv, 8], randomArray(96, 82));
    for (const [left, right, causal] of [[1, 1, 0], [2, -1, 1], [-1, 0, 0], [0, 2, 0]]) {
      const windowed = await runOurs({ op: 'Attention', opset: 25, attrs: { left_window_size: left, right_window_size: right, is_causal: causal }, feeds: { q, k, val }, outputs: [['y', 'float']] });
      // without a past cache, query i sits at absolute position i (as is_causal places it)
      const mask = Uint8Array.from({ length: sq * skv }, (_, p) => {
        const i = Math.floor(p / skv), j = p % skv;
        return +((left! < 0 || j >= i - left!) && (right! < 0 || j <= i + right!) && (!causal || j <= i));
      });
      const masked = await runOurs({ op: 'Attention', opset: 23, feeds: { q, k, val, m: v('bool', [sq, skv], mask) }, outputs: [['y', 'float']] });
      windowed.y!.data.forEach((g, i) => expect(g).toBeCloseTo(masked.y!.data[i]!, 5));
    }
  });
});

describe('ONNX CausalConvWithState (opset 27)', () => {
  it('equals onnxruntime\'s depthwise Conv over past_state ++ input; present_state is the last k - 1 positions; SiLU fused', async () => {
    const [nb, ch, len, k] = [2, 3, 5, 4];
    const x = randomArray(nb * ch * len, 90), w = randomArray(ch * k, 91), bias = randomArray(ch, 92), past = randomArray(nb * ch * (k - 1), 93);
    const joined = new Float32Array(nb * ch * (len + k - 1));
    for (let r = 0; r < nb * ch; r++) {
      joined.set(past.subarray(r * (k - 1), (r + 1) * (k - 1)), r * (len + k - 1));
      joined.set(x.subarray(r * len, (r + 1) * len), r * (len + k - 1) + k - 1);
    }
    const conv = await runOrt(onnxModel({ opset: 17, nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: ch } }], inputs: [{ name: 'x', type: 'float', shape: [nb, ch, len + k - 1] }, { name: 'w', type: 'float', shape: [ch, 1, k] }, { name: 'b', type: 'float', shape: [ch] }], outputs: [{ name: 'y', type: 'float' }] }),
      { x: f32([nb, ch, len + k - 1], joined), w: f32([ch, 1, k], w), b: f32([ch], bias) });
    for (const activation of ['none', 'silu']) {
      const ours = await runOurs({ op: 'CausalConvWithState', opset: 27, attrs: { activation }, feeds: { x: f32([nb, ch, len], x), w: f32([ch, 1, k], w), bias: f32([ch], bias), past: f32([nb, ch, k - 1], past) }, outputs: [['y', 'float'], ['state', 'float']] });
      Array.from(conv.y!.data as Float32Array).forEach((s, i) => expect(ours.y!.data[i]).toBeCloseTo(activation === 'silu' ? s / (1 + Math.exp(-s)) : s, 5));
      const lastK = Array.from({ length: nb * ch * (k - 1) }, (_, p) => joined[Math.floor(p / (k - 1)) * (len + k - 1) + len + (p % (k - 1))]!);
      expect(ours.state!.data).toEqual(lastK);
    }
  });
});

describe('ONNX LinearAttention (opset 27)', () => {
  const [B, T, HQ, HK, DK, DV] = [1, 4, 2, 1, 3, 2];
  const q = randomArray(B * T * HQ * DK, 100), k = randomArray(B * T * HK * DK, 101), val = randomArray(B * T * HK * DV, 102);
  const g = randomArray(B * T * HK, 103, -1, 0), beta = randomArray(B * T * HK, 104, 0, 1);
  const feeds = (t0: number, t1: number, past?: number[]) => ({
    q: f32([B, t1 - t0, HQ * DK], q.slice(t0 * HQ * DK, t1 * HQ * DK)), k: f32([B, t1 - t0, HK * DK], k.slice(t0 * HK * DK, t1 * HK * DK)),
    v: f32([B, t1 - t0, HK * DV], val.slice(t0 * HK * DV, t1 * HK * DV)), past: f32([B, HK, DK, DV], past ?? new Array(HK * DK * DV).fill(0)),
    g: f32([B, t1 - t0, HK], g.slice(t0, t1)), beta: f32([B, t1 - t0, HK], beta.slice(t0, t1)),
  });
  const run = (rule: string, t0: number, t1: number, past?: number[]) =>
    runOurs({ op: 'LinearAttention', opset: 27, attrs: { update_rule: rule, q_num_heads: HQ, kv_num_heads: HK }, feeds: feeds(t0, t1, past), outputs: [['y', 'float'], ['state', 'float']] });
  it('gated (per-head decay) matches its closed form o_t = scale · Σ_{s<=t} exp(g_{s+1} + ... + g_t) (q_t · k_s) v_s', async () => {
    const out = await run('gated', 0, T);
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < HQ; h++) {
        for (let j = 0; j < DV; j++) {
          let want = 0;
          for (let s = 0; s <= t; s++) {
            let dot = 0;
            for (let i = 0; i < DK; i++) dot += q[(t * HQ + h) * DK + i]! * k[s * DK + i]!;
            let decay = 0;
            for (let r = s + 1; r <= t; r++) decay += g[r]!;
            want += Math.exp(decay) * dot * val[s * DV + j]!;
          }
          expect(out.y!.data[(t * HQ + h) * DV + j]).toBeCloseTo(want / Math.sqrt(DK), 5);
        }
      }
    }
  });
  it('every rule gives the same outputs in one prefill as in token-by-token decoding through present_state', async () => {
    for (const rule of ['linear', 'gated', 'delta', 'gated_delta']) {
      const all = await run(rule, 0, T);
      let state: number[] | undefined;
      for (let t = 0; t < T; t++) {
        const step = await run(rule, t, t + 1, state);
        step.y!.data.forEach((e, i) => expect(e, `${rule} t=${t}`).toBeCloseTo(all.y!.data[t * HQ * DV + i]!, 5));
        state = step.state!.data;
      }
      state!.forEach((e, i) => expect(e).toBeCloseTo(all.state!.data[i]!, 5));
    }
  });
});

describe('ai.onnx.preview.training Adagrad, Momentum, Adam (models without the default domain)', () => {
  const training = (op: string, attrs: Case['attrs'], feeds: Record<string, OrtValue>, outputs: string[]) => {
    const c: Case = { op, opset: 0, attrs, feeds, outputs: outputs.map((o) => [o, 'float']) };
    const bytes = onnxModel({
      opset: [{ domain: 'ai.onnx.preview.training', version: 1 }],
      nodes: [{ op, domain: 'ai.onnx.preview.training', inputs: Object.keys(feeds), outputs, attrs, name: 'n' }],
      inputs: Object.entries(feeds).map(([name, f]) => ({ name, type: f.type as ElemName, shape: f.dims })),
      outputs: outputs.map((name) => ({ name, type: 'float' as const })),
    });
    return { c, bytes };
  };
  const run = async (bytes: Uint8Array, feeds: Record<string, OrtValue>) => {
    const s = await fp.loadOnnx(bytes);
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, f.data as fp.OnnxFeed])));
    const res = Object.fromEntries(await Promise.all(Object.entries(out).map(async ([k, t]) => [k, Array.from((await t.data()) as Float32Array)] as const)));
    s.dispose();
    return res;
  };
  const x = [1, -2], g = [0.5, NaN], st = [0.25, 0.5];
  const close = (got: number[], want: number[]) => want.forEach((w, i) => (Number.isNaN(w) ? expect(got[i]).toBeNaN() : expect(got[i]).toBeCloseTo(w, 5)));
  it('each step follows the spec\'s pseudo code (NaN gradients propagate)', async () => {
    const base = { r: f32([], [0.1]), t: i64([], [3]), x: f32([2], x), g: f32([2], g) };
    const ada = training('Adagrad', { decay_factor: { type: 'float', value: 0.1 }, norm_coefficient: { type: 'float', value: 0.01 } }, { ...base, h: f32([2], st) }, ['x2', 'h2']);
    const a = await run(ada.bytes, ada.c.feeds);
    const gr = x.map((e, i) => 0.01 * e + g[i]!), h2 = st.map((e, i) => e + gr[i]! ** 2), rate = 0.1 / (1 + 3 * 0.1);
    close(a.h2!, h2);
    close(a.x2!, x.map((e, i) => e - (rate * gr[i]!) / (Math.sqrt(h2[i]!) + 1e-6)));
    for (const mode of ['standard', 'nesterov']) {
      const mom = training('Momentum', { alpha: { type: 'float', value: 0.9 }, beta: { type: 'float', value: 0.5 }, norm_coefficient: { type: 'float', value: 0 }, mode }, { ...base, v: f32([2], st) }, ['x2', 'v2']);
      const m = await run(mom.bytes, mom.c.feeds);
      const v2 = st.map((e, i) => 0.9 * e + 0.5 * g[i]!);
      close(m.v2!, v2);
      close(m.x2!, x.map((e, i) => e - 0.1 * (mode === 'nesterov' ? g[i]! + 0.9 * v2[i]! : v2[i]!)));
    }
    const adam = training('Adam', {}, { ...base, v: f32([2], st), h: f32([2], [0.1, 0.2]) }, ['x2', 'v2', 'h2']);
    const d = await run(adam.bytes, adam.c.feeds);
    const v2 = st.map((e, i) => 0.9 * e + 0.1 * g[i]!), hh = [0.1, 0.2].map((e, i) => 0.999 * e + 0.001 * g[i]! ** 2);
    const rate2 = (0.1 * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3);
    close(d.v2!, v2);
    close(d.h2!, hh);
    close(d.x2!, x.map((e, i) => e - (rate2 * v2[i]!) / (Math.sqrt(hh[i]!) + 1e-6)));
  });
});
