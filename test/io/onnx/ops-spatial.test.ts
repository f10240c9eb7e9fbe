// The spatial typed-array kernels (Conv 3-D, ConvTranspose, LpPool, 3-D and dilated pools, MaxPool Indices, Col2Im,
// GridSample, AffineGrid, DeformConv, MaxUnpool) and the general Resize path (cubic, antialias, tf_crop_and_resize,
// keep_aspect_ratio_policy), Upsample: one-node models against onnxruntime-node (atol 1e-4 + rtol 1e-4 unless
// stated), NaN in -> NaN out, bad input -> one `forwardpass:` error naming what was expected and found.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { expectNodeLikeOrt, floats, int64s, oneNodeModel, runOurs, withNaN } from './ort-check.js';
import { webgpu } from '../../webgpu.js';
import { maxAbsDiff } from '../../helpers.js';
import { convNd } from '../../../src/io/onnx/ops/spatial-kernels.js';

const hasNaN = (v: number[]) => v.some(Number.isNaN);

describe('onnxOpSupport', () => {
  it('lists the spatial, recurrent and control-flow ops: every one on the CPU; on WebGPU only those composed from device ops', () => {
    const ops = ['AffineGrid', 'Col2Im', 'ConvTranspose', 'DeformConv', 'GRU', 'GridSample', 'If', 'LSTM', 'Loop', 'LpPool', 'MaxUnpool', 'RNN', 'RotaryEmbedding', 'Scan', 'Upsample'];
    const model = fp.parseOnnx(oneNodeModel({ op: 'Identity', opset: 23, feeds: { x: floats([1], 0) } }));
    model.graph.nodes = ops.map((op, i) => ({ name: `n${i}`, opType: op, domain: '', inputs: ['x'], outputs: [`y${i}`], attributes: {} }));
    const support = fp.onnxOpSupport(model);
    expect(support.map((e) => e.opType)).toEqual([...ops].sort((a, b) => a.localeCompare(b)));
    expect(support.filter((e) => !e.cpu)).toEqual([]);
    expect(support.filter((e) => e.webgpu).map((e) => e.opType)).toEqual(['ConvTranspose', 'Upsample']);
  });
});

describe('ConvTranspose vs onnxruntime', () => {
  const cases: [string, number[], number[], Record<string, number | number[] | string>][] = [
    ['2-D, group 2, strides, dilations, pads, output_padding', [2, 4, 5, 4], [4, 3, 3, 2], { group: 2, strides: [2, 3], dilations: [1, 2], pads: [1, 0, 0, 2], output_padding: [1, 0] }],
    ['1-D with bias', [1, 3, 7], [3, 2, 4], { strides: [3], pads: [1, 2] }],
    ['3-D', [1, 2, 3, 4, 3], [2, 2, 2, 3, 2], { strides: [1, 2, 2] }],
    ['2-D output_shape', [1, 1, 3, 3], [1, 2, 3, 3], { strides: [3, 2], output_shape: [10, 8] }],
    ['2-D auto_pad SAME_UPPER', [1, 2, 4, 5], [2, 3, 3, 3], { strides: [2, 2], auto_pad: 'SAME_UPPER' }],
  ];
  for (const [what, xs, ws, attrs] of cases) {
    it(what, async () => {
      const M = ws[1]! * (typeof attrs.group === 'number' ? attrs.group : 1);
      const feeds = { x: floats(xs, 1), w: floats(ws, 2), b: floats([M], 3) };
      const before = fp.cpuBackend.memory().liveBuffers;
      await expectNodeLikeOrt({ op: 'ConvTranspose', opset: 17, feeds, attrs });
      expect(fp.cpuBackend.memory().liveBuffers, 'CPU buffers left alive').toBe(before);
      expect(hasNaN((await runOurs({ op: 'ConvTranspose', opset: 17, feeds: withNaN(feeds, 'x'), attrs })).y!)).toBe(true);
    });
  }
  it('the composed 2-D path (pad/gather/conv2d) matches the typed-array scatter kernel (the same layer as 3-D with a unit axis)', async () => {
    for (const [what, xs, ws, attrs] of cases.filter(([, xs]) => xs.length === 4)) {
      const M = ws[1]! * (typeof attrs.group === 'number' ? attrs.group : 1);
      const feeds = { x: floats(xs, 1), w: floats(ws, 2), b: floats([M], 3) };
      const two = (await runOurs({ op: 'ConvTranspose', opset: 17, feeds, attrs })).y!;
      const ext = (k: string, v: number[], add: number) => (k === 'pads' ? [v[0]!, v[1]!, add, v[2]!, v[3]!, add] : [...v, add]);
      const attrs3 = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, Array.isArray(v) ? ext(k, v, k === 'pads' || k === 'output_padding' ? 0 : 1) : v]));
      const feeds3 = { x: { ...feeds.x, dims: [...xs, 1] }, w: { ...feeds.w, dims: [...ws, 1] }, b: feeds.b };
      const three = (await runOurs({ op: 'ConvTranspose', opset: 17, feeds: feeds3, attrs: attrs3 })).y!;
      expect(two.length, what).toBe(three.length);
      expect(maxAbsDiff(two, three), what).toBeLessThan(1e-4);
    }
  });
  it('refuses a weight whose channels do not match X, naming both', async () => {
    const feeds = { x: floats([1, 3, 4, 4], 1), w: floats([2, 2, 3, 3], 2) };
    await expect(runOurs({ op: 'ConvTranspose', opset: 17, feeds })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(ConvTranspose\): W \[2, 2, 3, 3\] must have C = 3 input channels, divisible by group 1$/);
  });
});

describe('Conv 3-D (im2col gather + matmul; reference: the typed-array kernel convNd) vs onnxruntime', () => {
  const cases: [string, number[], number[], Record<string, number | number[] | string>][] = [
    ['plain, with bias', [2, 3, 4, 5, 4], [4, 3, 2, 3, 2], {}],
    ['group 2, strides, dilations, asymmetric pads', [1, 4, 5, 6, 5], [6, 2, 3, 2, 2], { group: 2, strides: [2, 1, 2], dilations: [1, 2, 2], pads: [1, 0, 2, 0, 1, 1] }],
    ['auto_pad SAME_LOWER with strides', [1, 2, 5, 4, 6], [3, 2, 3, 3, 2], { strides: [2, 2, 3], auto_pad: 'SAME_LOWER' }],
    ['auto_pad VALID, depthwise (group = C)', [1, 3, 4, 4, 4], [3, 1, 2, 2, 3], { auto_pad: 'VALID', group: 3 }],
  ];
  for (const [what, xs, ws, attrs] of cases) {
    it(what, async () => {
      const feeds = { x: floats(xs, 1), w: floats(ws, 2), b: floats([ws[0]!], 3) };
      const before = fp.cpuBackend.memory().liveBuffers;
      await expectNodeLikeOrt({ op: 'Conv', opset: 17, feeds, attrs });
      await expectNodeLikeOrt({ op: 'Conv', opset: 17, feeds: { x: feeds.x, w: feeds.w }, attrs });
      expect(fp.cpuBackend.memory().liveBuffers, 'CPU buffers left alive').toBe(before);
      expect(hasNaN((await runOurs({ op: 'Conv', opset: 17, feeds: withNaN(feeds, 'x'), attrs })).y!)).toBe(true);
    });
  }
  it('the composed path (gather + matmul) matches the typed-array kernel convNd', async () => {
    const win = { kernel: [3, 2, 2], strides: [2, 1, 2], dilations: [1, 2, 2], pads: [[1, 2], [0, 1], [2, 1]] as [number, number][] };
    const feeds = { x: floats([2, 4, 5, 6, 5], 1), w: floats([6, 2, 3, 2, 2], 2), b: floats([6], 3) };
    const attrs = { group: 2, strides: win.strides, dilations: win.dilations, pads: [1, 0, 2, 2, 1, 1] };
    const ours = (await runOurs({ op: 'Conv', opset: 17, feeds, attrs })).y!;
    const ref = convNd(feeds.x.data as Float32Array, feeds.x.dims, feeds.w.data as Float32Array, feeds.w.dims, feeds.b.data as Float32Array, 2, win);
    expect(ref.shape).toEqual([2, 6, 3, 5, 3]);
    expect(ours.length).toBe(ref.y.length);
    expect(maxAbsDiff(ours, Array.from(ref.y))).toBeLessThan(1e-4);
  });
  it('matches the 2-D path (conv2d) on the same layer with a unit depth axis', async () => {
    const feeds = { x: floats([2, 4, 6, 5], 1), w: floats([6, 2, 3, 2], 2), b: floats([6], 3) };
    const attrs = { group: 2, strides: [2, 1], dilations: [1, 2], pads: [1, 0, 2, 1] };
    const two = (await runOurs({ op: 'Conv', opset: 17, feeds, attrs })).y!;
    const feeds3 = { x: { ...feeds.x, dims: [2, 4, 1, 6, 5] }, w: { ...feeds.w, dims: [6, 2, 1, 3, 2] }, b: feeds.b };
    const three = (await runOurs({ op: 'Conv', opset: 17, feeds: feeds3, attrs: { group: 2, strides: [1, 2, 1], dilations: [1, 1, 2], pads: [0, 1, 0, 0, 2, 1] } })).y!;
    expect(three.length).toBe(two.length);
    expect(maxAbsDiff(two, three)).toBeLessThan(1e-4);
  });
  it('refuses a weight whose channels do not fit X and group, and a bias of the wrong size, naming both', async () => {
    const x = floats([1, 4, 3, 3, 3], 1);
    await expect(runOurs({ op: 'Conv', opset: 17, feeds: { x, w: floats([2, 3, 2, 2, 2], 2) } })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(Conv\): W \[2, 3, 2, 2, 2\] must be \[M, C\/group, \.\.\.kernel\] with C = 4 and M divisible by group 1$/);
    await expect(runOurs({ op: 'Conv', opset: 17, feeds: { x, w: floats([2, 4, 2, 2, 2], 2), b: floats([3], 3) } })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(Conv\): B must be \[2\], found \[3\]$/);
    await expect(runOurs({ op: 'Conv', opset: 17, feeds: { x, w: floats([2, 4, 4, 2, 2], 2) } })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(Conv\): the output \[1, 2, 0, 2, 2\] is empty/);
  });
});

describe('pools through the N-D kernel vs onnxruntime', () => {
  const x3 = floats([1, 2, 5, 6, 7], 4);
  it('AveragePool 3-D: dilations, ceil_mode, count_include_pad', async () => {
    for (const cip of [0, 1]) for (const ceil of [0, 1]) {
      await expectNodeLikeOrt({ op: 'AveragePool', opset: 19, feeds: { x: x3 }, attrs: { kernel_shape: [2, 3, 2], strides: [2, 2, 3], dilations: [2, 1, 2], pads: [1, 1, 0, 1, 0, 1], ceil_mode: ceil, count_include_pad: cip } }, undefined, `cip ${cip} ceil ${ceil}`);
    }
  });
  it('AveragePool 2-D with dilations; MaxPool 3-D with dilations', async () => {
    await expectNodeLikeOrt({ op: 'AveragePool', opset: 19, feeds: { x: floats([1, 3, 7, 6], 5) }, attrs: { kernel_shape: [2, 2], dilations: [2, 3], pads: [1, 1, 1, 1] } });
    await expectNodeLikeOrt({ op: 'MaxPool', opset: 12, feeds: { x: x3 }, attrs: { kernel_shape: [2, 2, 3], dilations: [2, 2, 1], strides: [1, 2, 2] } });
  });
  it('MaxPool Indices, row-major and column-major (storage_order 1)', async () => {
    for (const order of [0, 1]) {
      await expectNodeLikeOrt({ op: 'MaxPool', opset: 12, feeds: { x: floats([2, 2, 5, 6], 6) }, attrs: { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], storage_order: order }, outputs: [['y', 'float'], ['i', 'int64']] }, undefined, `storage_order ${order}`);
    }
  });
  it('LpPool p = 1, 2, 3 in 1-D, 2-D (pads, strides, dilations) and 3-D', async () => {
    await expectNodeLikeOrt({ op: 'LpPool', opset: 18, feeds: { x: floats([1, 2, 9], 7) }, attrs: { kernel_shape: [3], p: 1, strides: [2] } });
    await expectNodeLikeOrt({ op: 'LpPool', opset: 18, feeds: { x: floats([1, 2, 6, 7], 8) }, attrs: { kernel_shape: [2, 3], p: 3, pads: [1, 0, 1, 2], strides: [2, 1], dilations: [1, 2] } });
    await expectNodeLikeOrt({ op: 'LpPool', opset: 18, feeds: { x: floats([1, 1, 4, 4, 5], 9) }, attrs: { kernel_shape: [2, 2, 2] } });
  });
  it('NaN in a window gives NaN (max, average, Lp)', async () => {
    const feeds = withNaN({ x: x3 }, 'x');
    for (const op of ['MaxPool', 'AveragePool', 'LpPool']) {
      const y = (await runOurs({ op, opset: 19, feeds, attrs: { kernel_shape: [2, 2, 2] } })).y!;
      expect(Number.isNaN(y[0]!), op).toBe(true);
      expect(y.slice(1).every((v) => !Number.isNaN(v)), op).toBe(true); // only the window holding it
    }
  });
});

describe('Col2Im, MaxUnpool, DeformConv vs onnxruntime', () => {
  it('Col2Im 2-D with strides, dilations, pads', async () => {
    const [image, block] = [[5, 6], [2, 3]];
    const L = Math.floor((5 + 1 + 0 - 3) / 1 + 1) * Math.floor((6 + 1 + 1 - 5) / 2 + 1);
    await expectNodeLikeOrt({ op: 'Col2Im', opset: 18, feeds: { x: floats([2, 3 * 6, L], 10), image: int64s([2], image), block: int64s([2], block) }, attrs: { dilations: [2, 2], pads: [1, 1, 0, 1], strides: [1, 2] } });
  });
  it('Col2Im refuses a column count that does not fit the image', async () => {
    await expect(runOurs({ op: 'Col2Im', opset: 18, feeds: { x: floats([1, 4, 7], 10), image: int64s([2], [3, 3]), block: int64s([2], [2, 2]) } })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(Col2Im\): input \[1, 4, 7\] must be \[N, C·4, 4\] for image_shape \[3,3\] and block_shape \[2,2\]$/);
  });
  it('MaxUnpool scatters MaxPool indices back (default output shape)', async () => {
    await expectNodeLikeOrt({ op: 'MaxUnpool', opset: 11, feeds: { x: floats([1, 2, 2, 3], 11), i: int64s([1, 2, 2, 3], [0, 3, 5, 12, 15, 17, 19, 22, 23, 30, 31, 34]) }, attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
  });
  it('DeformConv with mask, bias, groups and offset groups', async () => {
    const feeds = { x: floats([1, 4, 5, 6], 12), w: floats([4, 2, 2, 3], 13), offset: floats([1, 2 * 2 * 3 * 2, 6, 3], 14, -1.5, 1.5), b: floats([4], 15), mask: floats([1, 2 * 2 * 3, 6, 3], 16, 0, 1) };
    const attrs = { group: 2, offset_group: 2, pads: [1, 1, 1, 1], strides: [1, 2], dilations: [1, 1] };
    await expectNodeLikeOrt({ op: 'DeformConv', opset: 19, feeds, attrs });
    expect(hasNaN((await runOurs({ op: 'DeformConv', opset: 19, feeds: withNaN(feeds, 'offset'), attrs })).y!)).toBe(true);
  });
});

describe('GridSample and AffineGrid vs onnxruntime', () => {
  it('2-D: every mode x padding mode x align_corners, grid reaching outside [-1, 1]', async () => {
    const feeds = { x: floats([2, 2, 4, 5], 17), grid: floats([2, 3, 4, 2], 18, -1.4, 1.4) };
    for (const mode of ['linear', 'nearest', 'cubic']) for (const padding_mode of ['zeros', 'border', 'reflection']) for (const align_corners of [0, 1]) {
      await expectNodeLikeOrt({ op: 'GridSample', opset: 20, feeds, attrs: { mode, padding_mode, align_corners } }, { atol: 1e-4, rtol: 1e-4 }, `${mode} ${padding_mode} ${align_corners}`);
    }
    // the opset-16 names
    await expectNodeLikeOrt({ op: 'GridSample', opset: 16, feeds, attrs: { mode: 'bicubic', padding_mode: 'border' } });
  });
  it('3-D (volumetric): linear and nearest', async () => {
    const feeds = { x: floats([1, 2, 3, 4, 5], 19), grid: floats([1, 2, 3, 2, 3], 20, -1.2, 1.2) };
    for (const mode of ['linear', 'nearest']) for (const align_corners of [0, 1]) {
      await expectNodeLikeOrt({ op: 'GridSample', opset: 20, feeds, attrs: { mode, align_corners, padding_mode: 'border' } }, undefined, `${mode} ${align_corners}`);
    }
  });
  it('NaN in the image or the grid gives NaN; a grid of the wrong shape is refused', async () => {
    const feeds = { x: floats([1, 1, 3, 3], 21), grid: { type: 'float', dims: [1, 1, 1, 2], data: new Float32Array([0, 0]) } };
    expect(hasNaN((await runOurs({ op: 'GridSample', opset: 20, feeds: withNaN(feeds, 'x', 4) })).y!)).toBe(true);
    expect(hasNaN((await runOurs({ op: 'GridSample', opset: 20, feeds: withNaN(feeds, 'grid', 1) })).y!)).toBe(true);
    await expect(runOurs({ op: 'GridSample', opset: 20, feeds: { x: floats([1, 1, 3, 3], 21), grid: floats([1, 2, 2, 3], 22) } })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(GridSample\): X \[1, 1, 3, 3\] and grid \[1, 2, 2, 3\] must be \[N, C, \.\.\.in\] and \[N, \.\.\.out, 2\]$/);
  });
  it('AffineGrid 2-D and 3-D, align_corners 0 and 1', async () => {
    for (const align_corners of [0, 1]) {
      await expectNodeLikeOrt({ op: 'AffineGrid', opset: 20, feeds: { theta: floats([2, 2, 3], 23), size: int64s([4], [2, 3, 4, 5]) }, attrs: { align_corners } });
      await expectNodeLikeOrt({ op: 'AffineGrid', opset: 20, feeds: { theta: floats([1, 3, 4], 24), size: int64s([5], [1, 1, 2, 3, 4]) }, attrs: { align_corners } });
    }
  });
});

describe('Resize general path and Upsample vs onnxruntime', () => {
  const x = floats([1, 2, 6, 7], 25);
  const sizes = (v: number[]) => int64s([v.length], v);
  const scales = (v: number[]) => ({ type: 'float', dims: [v.length], data: Float32Array.from(v) });
  it('cubic (coefficient, exclude_outside, several coordinate modes), up and down', async () => {
    for (const coordinate_transformation_mode of ['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel']) {
      for (const [cubic_coeff_a, exclude_outside] of [[-0.75, 0], [-0.5, 1]] as const) {
        // align_corners with a scale whose output length is not whole (1.7 · 6) follows the ONNX reference (the
        // unrounded length), where onnxruntime rounds first: the conformance suite covers it
        for (const s of coordinate_transformation_mode === 'align_corners' ? [[1, 1, 0.5, 2]] : [[1, 1, 1.7, 0.6], [1, 1, 0.5, 2]]) {
          await expectNodeLikeOrt({ op: 'Resize', opset: 19, feeds: { x, roi: { type: 'float', dims: [0], data: new Float32Array() }, scales: scales(s) }, attrs: { mode: 'cubic', coordinate_transformation_mode, cubic_coeff_a: { type: 'float', value: cubic_coeff_a }, exclude_outside } }, undefined, `${coordinate_transformation_mode} ${cubic_coeff_a} ${exclude_outside} ${s}`);
        }
      }
    }
  });
  it('antialias (linear and cubic) downsampling, by scales and by sizes', async () => {
    for (const mode of ['linear', 'cubic']) {
      await expectNodeLikeOrt({ op: 'Resize', opset: 18, inputs: ['x', '', 'scales'], feeds: { x, scales: scales([1, 1, 0.45, 0.7]) }, attrs: { mode, antialias: 1 } });
      await expectNodeLikeOrt({ op: 'Resize', opset: 18, inputs: ['x', '', '', 'sizes'], feeds: { x, sizes: sizes([1, 2, 3, 4]) }, attrs: { mode, antialias: 1 } });
    }
  });
  it('tf_crop_and_resize with extrapolation, axes; keep_aspect_ratio_policy', async () => {
    const roi = { type: 'float', dims: [4], data: Float32Array.from([0.2, -0.3, 0.9, 1.2]) };
    for (const mode of ['linear', 'nearest', 'cubic']) {
      await expectNodeLikeOrt({ op: 'Resize', opset: 18, inputs: ['x', 'roi', '', 'sizes'], feeds: { x, roi, sizes: sizes([5, 4]) }, attrs: { mode, axes: [2, 3], coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: { type: 'float', value: -7 } } }, undefined, mode);
    }
    for (const keep_aspect_ratio_policy of ['not_larger', 'not_smaller']) {
      await expectNodeLikeOrt({ op: 'Resize', opset: 18, inputs: ['x', '', '', 'sizes'], feeds: { x, sizes: sizes([4, 9]) }, attrs: { mode: 'linear', axes: [2, 3], keep_aspect_ratio_policy } }, undefined, keep_aspect_ratio_policy);
    }
  });
  it('NaN in the input spreads only to outputs whose taps read it; a roi of the wrong length is refused', async () => {
    const feeds = withNaN({ x, scales: scales([1, 1, 2, 2]) }, 'x', 0);
    const y = (await runOurs({ op: 'Resize', opset: 18, inputs: ['x', '', 'scales'], feeds, attrs: { mode: 'cubic' } })).y!;
    expect(Number.isNaN(y[0]!)).toBe(true);
    expect(Number.isNaN(y[y.length - 1]!)).toBe(false);
    const bad = { x, roi: { type: 'float', dims: [3], data: Float32Array.from([0, 0, 1]) }, sizes: sizes([1, 2, 3, 3]) };
    await expect(runOurs({ op: 'Resize', opset: 18, inputs: ['x', 'roi', '', 'sizes'], feeds: bad, attrs: { coordinate_transformation_mode: 'tf_crop_and_resize' } })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(Resize\): roi \[0,0,1\] must hold 8 values \(starts, then ends, of the resized axes\)$/);
  });
  it('Upsample (opset 9) nearest and linear', async () => {
    for (const mode of ['nearest', 'linear']) await expectNodeLikeOrt({ op: 'Upsample', opset: 9, feeds: { x, scales: scales([1, 1, 2, 3]) }, attrs: { mode } });
  });
});

describe.skipIf(!webgpu.gpu)('in a WebGPU session', () => {
  /** Run one node on WebGPU and on the CPU; resolves to both outputs and the op's onnxOpSupport entry. */
  async function both(n: Parameters<typeof oneNodeModel>[0]) {
    const bytes = oneNodeModel(n);
    const entry = fp.onnxOpSupport(fp.parseOnnx(bytes)).find((e) => e.opType === n.op)!;
    const s = await fp.loadOnnx(bytes, { backend: 'webgpu' });
    const ins = Object.fromEntries(Object.entries(n.feeds).map(([k, v]) => [k, fp.tensor(v.data as Float32Array, { shape: v.dims, device: 'webgpu' })]));
    const { y } = await s.run(ins);
    const gpu = { device: y!.device, values: Array.from(await y!.data()) };
    for (const t of [...Object.values(ins), y!]) t.dispose();
    s.dispose();
    return { entry, gpu, cpu: (await runOurs(n)).y! };
  }
  it('ConvTranspose 2-D runs on the device (composed from device ops) with the CPU result', async () => {
    const r = await both({ op: 'ConvTranspose', opset: 17, feeds: { x: floats([1, 4, 5, 4], 1), w: floats([4, 3, 3, 3], 2) }, attrs: { strides: [2, 2], pads: [1, 0, 0, 1], group: 2 } });
    expect([r.entry.cpu, r.entry.webgpu]).toEqual([true, true]);
    expect(r.gpu.device).toBe('webgpu');
    expect(maxAbsDiff(r.gpu.values, r.cpu)).toBeLessThan(1e-4);
  });
  it('Conv 3-D runs on the device (im2col gather + matmul, composed from device ops) with the CPU result', async () => {
    const r = await both({ op: 'Conv', opset: 17, feeds: { x: floats([1, 4, 4, 4, 3], 1), w: floats([6, 2, 2, 2, 2], 2), b: floats([6], 3) }, attrs: { pads: [1, 0, 1, 0, 1, 1], group: 2, strides: [1, 2, 1] } });
    expect([r.entry.cpu, r.entry.webgpu]).toEqual([true, true]);
    expect(r.gpu.device).toBe('webgpu');
    expect(maxAbsDiff(r.gpu.values, r.cpu)).toBeLessThan(1e-4);
  });
  it('GridSample (a typed-array kernel) runs on the CPU inside the session; its output comes back on the device', async () => {
    const r = await both({ op: 'GridSample', opset: 20, feeds: { x: floats([1, 2, 4, 4], 3), grid: floats([1, 3, 3, 2], 4, -1.2, 1.2) } });
    expect([r.entry.cpu, r.entry.webgpu]).toEqual([true, false]);
    expect(r.gpu.device).toBe('webgpu');
    expect(r.gpu.values).toEqual(r.cpu);
  });
});
