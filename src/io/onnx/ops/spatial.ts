// ONNX spatial ops run as typed-array kernels (spatial-kernels.ts) on the host: LpPool, ConvTranspose 3-D, Col2Im,
// GridSample (nearest/linear/cubic over 2-D, nearest/linear over 3-D; zeros/border/reflection padding),
// AffineGrid, DeformConv (2-D) and MaxUnpool. In a WebGPU session these nodes run on the CPU (OnnxOpImpl.cpuOnly;
// onnxOpSupport says webgpu: false). ConvTranspose 1-D/2-D (group, output_padding, output_shape, auto_pad,
// dilations) is composed from pad/gather/conv2d and runs on every backend; the scatter kernel is its reference.
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerOnnxOp, type Dim, type InferContext, type NodeContext, type ValueType } from './registry.js';
import { AUTO_PAD, hostPool, windowOf, type Window } from './conv.js';
import { convTransposeNd, deformConv2d, eachIndex, gridSampleNd, pooledLen, scatterMap, type GridMode, type GridPadding } from './spatial-kernels.js';
import { composed, hostFloats, small } from './util.js';
import { conv2d } from '../../../ops/conv.js';
import { gather, pad } from '../../../ops/transform.js';

/** Output type: input 0's dtype, with `shape` when known. */
function floatOut(c: InferContext, shape?: Dim[]): ValueType[] {
  return [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(shape ? { shape } : {}) }];
}
const unknownSpatial = (c: InferContext): ValueType[] => floatOut(c, c.inputs[0]?.shape?.map(() => null));

/** An attribute list of `n` ints each at least `min` (default `dflt` repeated). */
function intList(c: NodeContext, name: string, n: number, dflt: number, min: number): number[] {
  const v = c.attrs.ints(name, new Array<number>(n).fill(dflt));
  if (v.length !== n || v.some((x) => !Number.isInteger(x) || x < min)) c.attrs.fail(name, `${n} ints of at least ${min}`, JSON.stringify(v));
  return v;
}

registerOnnxOp('LpPool', {
  cpuOnly: true,
  validate: (c) => { c.attrs.ints('kernel_shape'); c.attrs.stringOf('auto_pad', AUTO_PAD, 'NOTSET'); c.attrs.intOf('ceil_mode', [0, 1], 0); if (c.attrs.int('p', 2) < 1) c.attrs.fail('p', 'a positive int', String(c.attrs.int('p', 2))); },
  infer: unknownSpatial,
  run: (c) => hostPool('lp', c),
});

// ---------------------------------------------------------------- ConvTranspose

/** ConvTranspose's output spatial size and begin pads (ONNX: explicit pads, or output_shape / auto_pad totals). */
function convTransposeGeometry(c: NodeContext, inSp: number[], kernel: number[]): { out: number[]; padBefore: number[]; strides: number[]; dilations: number[] } {
  const n = inSp.length;
  const strides = intList(c, 'strides', n, 1, 1);
  const dilations = intList(c, 'dilations', n, 1, 1);
  const outPad = intList(c, 'output_padding', n, 0, 0);
  const auto = c.attrs.stringOf('auto_pad', AUTO_PAD, 'NOTSET');
  const full = inSp.map((d, i) => strides[i]! * (d - 1) + outPad[i]! + (kernel[i]! - 1) * dilations[i]! + 1);
  let target: number[] | undefined;
  if (c.attrs.has('output_shape')) {
    const os = c.attrs.ints('output_shape');
    target = os.length === n + 2 ? os.slice(2) : os;
    if (target.length !== n) c.attrs.fail('output_shape', `${n} spatial sizes`, JSON.stringify(os));
  } else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') target = inSp.map((d, i) => d * strides[i]!);
  if (target) {
    const padBefore = target.map((t, i) => {
      const total = full[i]! - t;
      if (total <= 0) return 0; // a larger output_shape extends the end, as output_padding does
      return auto === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
    });
    return { out: target, padBefore, strides, dilations };
  }
  const pads = auto === 'VALID' ? new Array<number>(2 * n).fill(0) : intList(c, 'pads', 2 * n, 0, 0);
  return { out: full.map((f, i) => f - pads[i]! - pads[i + n]!), padBefore: pads.slice(0, n), strides, dilations };
}

/**
 * ConvTranspose in 2-D as a convolution (runs on every backend): the input is spread out by the strides (zeros
 * between samples), padded by (kernel extent - 1 - pad) on each side (negative amounts crop), and convolved at
 * stride 1 with the kernel flipped and its in/out channels swapped per group. 1-D goes through it as H = 1.
 */
function convTransposeByConv(x: Tensor, w: Tensor, b: Tensor | undefined, group: number, geo: { out: number[]; padBefore: number[]; strides: number[]; dilations: number[] }): Tensor {
  return composed((t) => {
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const [, Mg, kH, kW] = w.shape as [number, number, number, number];
    const [sH, sW] = geo.strides as [number, number];
    // zeros between samples: [.., H, W] -> [.., H·sH, W·sW] (the trailing sH-1 / sW-1 zeros are cropped below)
    let xd = x;
    if (sW > 1) xd = t(t(pad(t(xd.unsqueeze(4)), [0, sW - 1])).reshape([N, C, H, W * sW]));
    if (sH > 1) xd = t(t(pad(t(xd.unsqueeze(3)), [0, 0, 0, sH - 1])).reshape([N, C, H * sH, W * sW]));
    const pads = [1, 0].flatMap((a) => {
      const [k, s, d] = [w.shape[2 + a]!, geo.strides[a]!, geo.dilations[a]!];
      const extent = (k - 1) * d + 1, spread = x.shape[2 + a]! * s; // spread includes s-1 trailing zeros
      const before = extent - 1 - geo.padBefore[a]!;
      return [before, geo.out[a]! + extent - 1 - spread - before];
    });
    xd = t(pad(xd, pads));
    // weight [C, M/g, kH, kW] -> [M, C/g, kH, kW], flipped in both spatial axes
    const Cg = C / group;
    const swapped = t(t(t(w.reshape([group, Cg, Mg, kH, kW])).permute(0, 2, 1, 3, 4)).contiguous());
    const wt = t(swapped.reshape([group * Mg, Cg, kH, kW]));
    const rev = (n: number) => t(small(Array.from({ length: n }, (_, i) => n - 1 - i), [n], 'int32', x.device));
    const wf = t(gather(t(gather(wt, rev(kH), 2)), rev(kW), 3));
    return conv2d(xd, wf, b ?? null, { dilation: geo.dilations as [number, number], groups: group });
  });
}

/** ConvTranspose through the typed-array scatter kernel (any rank; the reference the composed path is tested against). */
export function convTransposeHost(c: NodeContext, x: Tensor, w: Tensor, b: Tensor | undefined, group: number, geo: { out: number[]; padBefore: number[]; strides: number[]; dilations: number[] }): Tensor {
  const y = convTransposeNd(hostFloats(c, x, 'X'), x.shape, hostFloats(c, w, 'W'), w.shape, b && hostFloats(c, b, 'B'), group, geo.out, geo.strides, geo.dilations, geo.padBefore);
  return small(y, [x.shape[0]!, w.shape[1]! * group, ...geo.out], x.dtype, x.device);
}

registerOnnxOp('ConvTranspose', {
  // 1-D and 2-D compose pad/gather/conv2d; other ranks (3-D) run the typed-array scatter kernel on the host
  cpuOnly: (c) => { const r = c.inputs[0]?.shape?.length; return r !== undefined && r !== 3 && r !== 4; },
  validate: (c) => { c.attrs.stringOf('auto_pad', AUTO_PAD, 'NOTSET'); c.attrs.int('group', 1); },
  infer: (c) => {
    const [x, w] = c.inputs;
    const g = c.attrs.int('group', 1);
    const m = typeof w?.shape?.[1] === 'number' ? w.shape[1] * g : null;
    return floatOut(c, x?.shape ? [x.shape[0]!, m, ...x.shape.slice(2).map(() => null)] : undefined);
  },
  run: (c) => {
    const x = c.input(0), w = c.input(1), b = c.inputs[2];
    const group = c.attrs.int('group', 1);
    if (x.rank < 3 || w.rank !== x.rank) c.fail(`X ${shapeStr(x.shape)} and W ${shapeStr(w.shape)} must be [N, C, ...spatial] and [C, M/group, ...kernel]`);
    if (group < 1 || x.shape[1]! % group !== 0 || w.shape[0] !== x.shape[1]) c.fail(`W ${shapeStr(w.shape)} must have C = ${x.shape[1]} input channels, divisible by group ${group}`);
    const kernel = w.shape.slice(2);
    const ks = c.attrs.ints('kernel_shape', kernel);
    if (ks.some((k, i) => k !== kernel[i])) c.fail(`kernel_shape ${JSON.stringify(ks)} does not match W ${shapeStr(w.shape)}`);
    const M = w.shape[1]! * group;
    if (b && (b.rank !== 1 || b.shape[0] !== M)) c.fail(`B must be [${M}], found ${shapeStr(b.shape)}`);
    const geo = convTransposeGeometry(c, x.shape.slice(2), kernel);
    if (geo.out.some((d) => d < 0)) c.fail(`the output size ${JSON.stringify(geo.out)} is negative (pads too large)`);
    if (x.rank === 4) return [convTransposeByConv(x, w, b, group, geo)];
    if (x.rank === 3) {
      const one = (g: typeof geo) => ({ out: [1, g.out[0]!], padBefore: [0, g.padBefore[0]!], strides: [1, g.strides[0]!], dilations: [1, g.dilations[0]!] });
      return [composed((t) => t(convTransposeByConv(t(x.unsqueeze(2)), t(w.unsqueeze(2)), b, group, one(geo))).squeeze(2))];
    }
    return [convTransposeHost(c, x, w, b, group, geo)];
  },
});

// ---------------------------------------------------------------- Col2Im

registerOnnxOp('Col2Im', {
  cpuOnly: true,
  hostInputs: [1, 2],
  infer: (c) => floatOut(c, c.inputs[0]?.shape ? [c.inputs[0].shape[0]!, null, ...(c.inputs[1]?.values ?? [null, null])] : undefined),
  run: (c) => {
    const x = c.input(0);
    const image = c.ints(1)!, block = c.ints(2)!;
    const n = image.length;
    if (x.rank !== 3 || block.length !== n) c.fail(`input must be [N, C·prod(block_shape), L] with image_shape and block_shape of equal length, found ${shapeStr(x.shape)}, ${JSON.stringify(image)}, ${JSON.stringify(block)}`);
    const strides = intList(c, 'strides', n, 1, 1), dilations = intList(c, 'dilations', n, 1, 1), pads = intList(c, 'pads', 2 * n, 0, 0);
    const K = block.reduce((a, v) => a * v, 1);
    const blocks = image.map((d, i) => pooledLen(d, block[i]!, strides[i]!, dilations[i]!, pads[i]!, pads[i + n]!, false));
    const L = blocks.reduce((a, v) => a * v, 1);
    if (x.shape[1]! % K !== 0 || x.shape[2] !== L) c.fail(`input ${shapeStr(x.shape)} must be [N, C·${K}, ${L}] for image_shape ${JSON.stringify(image)} and block_shape ${JSON.stringify(block)}`);
    const [N, CK] = x.shape as [number, number];
    const C = CK / K, imgN = image.reduce((a, v) => a * v, 1);
    const map = scatterMap(blocks, block, image, strides, dilations, pads.slice(0, n));
    const src = hostFloats(c, x, 'input');
    const y = new Float32Array(N * C * imgN);
    // column (c·K + k, l) of the input adds to the image at the block position l shifted by kernel offset k
    for (let b = 0; b < N * C; b++) {
      for (let k = 0; k < K; k++) {
        for (let l = 0; l < L; l++) {
          const o = map[l * K + k]!;
          if (o >= 0) y[b * imgN + o] += src[(b * K + k) * L + l]!;
        }
      }
    }
    return [small(y, [N, C, ...image], x.dtype, c.device)];
  },
});

// ---------------------------------------------------------------- GridSample, AffineGrid

const GRID_MODES: Record<string, GridMode> = { bilinear: 'linear', linear: 'linear', nearest: 'nearest', bicubic: 'cubic', cubic: 'cubic' };

function gridAttrs(c: NodeContext): { mode: GridMode; padding: GridPadding; align: boolean } {
  const names = c.opset >= 20 ? (['linear', 'nearest', 'cubic'] as const) : (['bilinear', 'nearest', 'bicubic'] as const);
  const mode = GRID_MODES[c.attrs.stringOf('mode', names, names[0])]!;
  const padding = c.attrs.stringOf('padding_mode', ['zeros', 'border', 'reflection'], 'zeros');
  return { mode, padding, align: c.attrs.intOf('align_corners', [0, 1], 0) === 1 };
}

registerOnnxOp('GridSample', {
  cpuOnly: true,
  validate: (c) => { gridAttrs(c); },
  infer: (c) => {
    const [x, g] = c.inputs;
    return floatOut(c, x?.shape && g?.shape ? [x.shape[0]!, x.shape[1]!, ...g.shape.slice(1, -1)] : undefined);
  },
  run: (c) => {
    const x = c.input(0), grid = c.input(1);
    const { mode, padding, align } = gridAttrs(c);
    const S = x.rank - 2;
    if (S < 1 || grid.rank !== x.rank || grid.shape[0] !== x.shape[0] || grid.shape[x.rank - 1] !== S) c.fail(`X ${shapeStr(x.shape)} and grid ${shapeStr(grid.shape)} must be [N, C, ...in] and [N, ...out, ${S}]`);
    if (mode === 'cubic' && S !== 2) c.fail(`cubic mode is supported for 2-D input only, found X ${shapeStr(x.shape)}`);
    const r = gridSampleNd(hostFloats(c, x, 'X'), x.shape, hostFloats(c, grid, 'grid'), grid.shape, mode, padding, align);
    return [small(r.y, r.shape, x.dtype, c.device)];
  },
});

/** The coordinates of `n` points spread over [-1, 1]: the corners (align_corners) or the pixel centres. */
function gridLine(n: number, align: boolean): number[] {
  return Array.from({ length: n }, (_, i) => (align ? (n === 1 ? -1 : -1 + (2 * i) / (n - 1)) : (2 * i + 1) / n - 1));
}

registerOnnxOp('AffineGrid', {
  cpuOnly: true,
  hostInputs: [1],
  validate: (c) => { c.attrs.intOf('align_corners', [0, 1], 0); },
  infer: (c) => {
    const size = c.inputs[1]?.values;
    return floatOut(c, size ? [size[0]!, ...size.slice(2), size.length - 2] : undefined);
  },
  run: (c) => {
    const theta = c.input(0), size = c.ints(1)!;
    const S = size.length - 2;
    if ((S !== 2 && S !== 3) || theta.rank !== 3 || theta.shape[0] !== size[0] || theta.shape[1] !== S || theta.shape[2] !== S + 1) {
      c.fail(`theta ${shapeStr(theta.shape)} and size ${JSON.stringify(size)} must be [N, 2, 3] with [N, C, H, W] or [N, 3, 4] with [N, C, D, H, W]`);
    }
    const align = c.attrs.int('align_corners', 0) === 1;
    const sp = size.slice(2);
    const lines = sp.map((d) => gridLine(d, align)); // outermost axis first; the homogeneous point is (x, y[, z], 1) innermost first
    const th = hostFloats(c, theta, 'theta');
    const N = size[0]!, P = sp.reduce((a, v) => a * v, 1);
    const y = new Float32Array(N * P * S);
    for (let n = 0; n < N; n++) {
      eachIndex(sp, (idx, q) => {
        const pt = [...idx.map((i, a) => lines[a]![i]!).reverse(), 1];
        for (let r = 0; r < S; r++) {
          let acc = 0;
          for (let k = 0; k <= S; k++) acc += th[(n * S + r) * (S + 1) + k]! * pt[k]!;
          y[(n * P + q) * S + r] = acc;
        }
      });
    }
    return [small(y, [N, ...sp, S], theta.dtype, c.device)];
  },
});

// ---------------------------------------------------------------- DeformConv

registerOnnxOp('DeformConv', {
  cpuOnly: true,
  validate: (c) => { c.attrs.int('group', 1); c.attrs.int('offset_group', 1); },
  infer: (c) => {
    const [x, w] = c.inputs;
    return floatOut(c, x?.shape ? [x.shape[0]!, w?.shape?.[0] ?? null, null, null] : undefined);
  },
  run: (c) => {
    const x = c.input(0), w = c.input(1), offset = c.input(2), b = c.inputs[3], mask = c.inputs[4];
    if (x.rank !== 4 || w.rank !== 4) c.fail(`only 2-D deformable convolution is supported: X and W must be 4-D, found ${shapeStr(x.shape)} and ${shapeStr(w.shape)}`);
    const group = c.attrs.int('group', 1), og = c.attrs.int('offset_group', 1);
    const [N, C] = x.shape as [number, number];
    const [M, Cg, kH, kW] = w.shape as [number, number, number, number];
    if (group < 1 || og < 1 || C !== Cg * group || M % group !== 0 || C % og !== 0) c.fail(`X ${shapeStr(x.shape)}, W ${shapeStr(w.shape)}, group ${group} and offset_group ${og} do not fit together`);
    const win: Window = windowOf(c, x.shape.slice(2), [kH, kW]);
    const out: [number, number] = [0, 1].map((a) => pooledLen(x.shape[2 + a]!, win.kernel[a]!, win.strides[a]!, win.dilations[a]!, win.pads[a]![0], win.pads[a]![1], false)) as [number, number];
    const K = kH * kW;
    const want = (t: Tensor | undefined, name: string, ch: number) => {
      if (t && shapeStr(t.shape) !== shapeStr([N, ch, ...out])) c.fail(`${name} must be ${shapeStr([N, ch, ...out])}, found ${shapeStr(t.shape)}`);
    };
    want(offset, 'offset', og * K * 2);
    want(mask, 'mask', og * K);
    if (b && (b.rank !== 1 || b.shape[0] !== M)) c.fail(`B must be [${M}], found ${shapeStr(b.shape)}`);
    const y = deformConv2d(hostFloats(c, x, 'X'), x.shape, hostFloats(c, w, 'W'), w.shape, hostFloats(c, offset, 'offset'), mask && hostFloats(c, mask, 'mask'), b && hostFloats(c, b, 'B'), win, group, og, out);
    return [small(y, [N, M, ...out], x.dtype, c.device)];
  },
});

// ---------------------------------------------------------------- MaxUnpool

registerOnnxOp('MaxUnpool', {
  cpuOnly: true,
  hostInputs: [1, 2],
  validate: (c) => { c.attrs.ints('kernel_shape'); },
  infer: (c) => floatOut(c, c.inputs[2]?.values ?? c.inputs[0]?.shape?.map(() => null)),
  run: (c) => {
    const x = c.input(0), idx = c.ints(1)!;
    const kernel = c.attrs.ints('kernel_shape');
    const n = x.rank - 2;
    if (n < 1 || kernel.length !== n) c.fail(`X ${shapeStr(x.shape)} needs ${Math.max(n, 1)} kernel_shape values, found ${JSON.stringify(kernel)}`);
    if (idx.length !== x.size) c.fail(`I must have X's shape ${shapeStr(x.shape)} (${x.size} indices), found ${idx.length}`);
    const strides = intList(c, 'strides', n, 1, 1), pads = intList(c, 'pads', 2 * n, 0, 0);
    const shape = c.ints(2) ?? [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map((d, i) => (d - 1) * strides[i]! - pads[i]! - pads[i + n]! + kernel[i]!)];
    if (shape.length !== x.rank) c.fail(`output_shape ${JSON.stringify(shape)} must have rank ${x.rank}`);
    const total = shape.reduce((a, v) => a * v, 1);
    const y = new Float32Array(total);
    const src = hostFloats(c, x, 'X');
    idx.forEach((i, j) => {
      if (!(i >= 0 && i < total)) c.fail(`index ${i} at ${j} is outside the output of ${total} elements ${shapeStr(shape)}`);
      y[i] = src[j]!;
    });
    return [small(y, shape, x.dtype, c.device)];
  },
});
