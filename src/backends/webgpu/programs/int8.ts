// WebGPU programs of the INT8 ops (src/ops/attrs.ts Int8OpAttrs): quantizeRows, linearInt8 (W8A8: int32 sums of
// packed int8 products), linearW8 (float x, int8 weights dequantized in the kernel) and conv2dInt8.
// int8 tensors arrive packed as stored, 4 per u32 word (PACKED_INT8_OPS); int8 products use dot4I8Packed where
// the packed_4x8_integer_dot_product language feature exists, otherwise a portable twin (extractBits, multiply).
// Legend: M = rows, N = output columns, k = true inner size, Kp = padded row length (a multiple of 4),
// KW = ceil(k / 4) words holding data, KpW = Kp / 4, nb = scales per row, block = values per scale (0: per row).
import type { ActivationName, OpAttrs } from '../../../ops/attrs.js';
import { unaryWgsl } from '../../../ops/elementwise.js';
import { shapeStr } from '../../../tensor/shape.js';
import { f32bits, grid, type GpuContext, type GpuProgram, type GpuTensor } from '../types.js';
import { scopedOverride } from './override.js';
import quantizeWgsl from '../../../../kernels/quantize-rows.wgsl';
import gemmWgsl from '../../../../kernels/linear-int8.wgsl';
import w8Wgsl from '../../../../kernels/linear-w8.wgsl';
import matvecWgsl from '../../../../kernels/linear-int8-matvec.wgsl';
import realignWgsl from '../../../../kernels/int8-realign.wgsl';

const QUANTIZE = { name: 'quantize-rows.wgsl', code: quantizeWgsl };
const GEMM = { name: 'linear-int8.wgsl', code: gemmWgsl };
const W8 = { name: 'linear-w8.wgsl', code: w8Wgsl };
const MATVEC = { name: 'linear-int8-matvec.wgsl', code: matvecWgsl };
const REALIGN = { name: 'int8-realign.wgsl', code: realignWgsl };

export type Int8Path = 'gemm' | 'matvec';

/** A forced path and feature choice for tests and benchmarks. */
export interface Int8Override {
  path?: Int8Path;
  /** false: the portable twin of dot4I8Packed / unpack4xI8 even where the language feature exists. */
  dot4?: boolean;
}

const override = scopedOverride<Int8Override>();

/**
 * Run `f` with the linearInt8 / linearW8 / conv2dInt8 programs forced onto a path or off dot4I8Packed (see
 * scopedOverride). For tests and benchmarks.
 *
 * @example const y = withInt8Path({ dot4: false }, () => fp.runOp('linearInt8', ins, outs, attrs)[0]);
 */
export function withInt8Path<T>(o: Int8Override, f: () => T): T {
  return override.run(o, f);
}

/** Rows from which the tiled GEMM beats the matrix-vector kernel (which reads each weight once per 4 rows). */
const MATVEC_ROWS = 4;

/**
 * The path linearInt8 and linearW8 take for M rows: the matrix-vector kernel up to 4 rows, the tiled GEMM beyond.
 *
 * @example chooseInt8Path(1) // 'matvec'
 */
export function chooseInt8Path(M: number): Int8Path {
  return M <= MATVEC_ROWS ? 'matvec' : 'gemm';
}

/**
 * Whether the int8 kernels use dot4I8Packed / unpack4xI8 on this device (and under the current override).
 *
 * @example gpu.dispatch({ kernel, defines: { DOT4: usesDot4(gpu) }, buffers, workgroups });
 */
export function usesDot4(gpu: GpuContext): boolean {
  return gpu.setup.features.packed_4x8_integer_dot_product && override.current?.dot4 !== false;
}

const MAX_GROUPS = 65535;

function fail(op: string, msg: string): never {
  throw new RangeError(`forwardpass: webgpu: ${op}: ${msg}`);
}

/**
 * A packed int8 input whose rows can be read as whole words: itself when its byte offset is a multiple of 4,
 * else a realigned copy (a contiguous view may start anywhere), living until the op returns.
 *
 * @example const w = wordAligned(gpu, 'linearInt8', 'wq', wq); // w.offset % 4 === 0
 */
export function wordAligned(gpu: GpuContext, op: string, what: string, t: GpuTensor): GpuTensor {
  if (t.dtype !== 'int8') throw new TypeError(`forwardpass: webgpu: ${op}: ${what} must be int8 (packed), got ${t.dtype} ${shapeStr(t.shape)}`);
  if (t.offset % 4 === 0) return t;
  const words = Math.ceil(t.size / 4);
  const copy = gpu.temp('int32', [Math.max(1, words)]);
  gpu.dispatch({ kernel: REALIGN, buffers: [copy.buffer, t.buffer], uniforms: [t.offset, t.size], workgroups: grid(words, 256) });
  return { ...copy, dtype: 'int8', shape: t.shape, strides: t.strides, size: t.size };
}

/** The smallest power of two >= n, within [lo, hi]. */
function pow2(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, 2 ** Math.ceil(Math.log2(Math.max(1, n)))));
}

function checkBlock(op: string, block: number, Kp: number, nb: number): void {
  if (block < 0 || block % 4 !== 0) fail(op, `a scale block must be a multiple of 4 values on WebGPU (rows are read as words), got ${block}`);
  if (Kp % 4 !== 0) fail(op, `the padded row length must be a multiple of 4, got ${Kp}`);
  const want = block > 0 ? Kp / block : 1;
  if (nb !== want) fail(op, `expected ${want} scales per row for rows of ${Kp} and block ${block}, got ${nb}`);
}

/** quantizeRows: x [M, K] float -> q int8 [M, Kp] (packed) and scales [M, nb]. */
export const quantizeRows: GpuProgram<OpAttrs['quantizeRows']> = (gpu, [q, s], [x], { block, staticScale }) => {
  const [M, K] = x!.shape as [number, number];
  const Kp = q!.shape[1]!, nb = s!.shape[1]!;
  if (q!.dtype !== 'int8') fail('quantizeRows', `q must be int8 (packed), got ${q!.dtype}`);
  checkBlock('quantizeRows', block, Kp, nb);
  if (M === 0 || Kp === 0) return;
  const KW = Kp / 4;
  // a static scale below the smallest normal float becomes 1, as a dynamic one does; 0 selects dynamic scales
  const fixed = staticScale > 0 ? (Math.fround(staticScale) < 2 ** -126 ? 1 : staticScale) : 0;
  gpu.dispatch({
    kernel: QUANTIZE,
    // ties away from zero, as the CPU reference (roundHalfAway)
    defines: { MODE: block > 0 ? 'block' : 'row', ROUND: 'away' },
    constants: { WG: pow2(block > 0 ? nb : KW, 32, 256) },
    buffers: [q!.buffer, s!.buffer, x!.buffer],
    uniforms: [M, K, KW, nb, block, x!.offset, f32bits(fixed)],
    workgroups: grid(M, 1),
  });
};

interface Linear {
  op: 'linearInt8' | 'linearW8';
  y: GpuTensor;
  /** xq packed int8 (linearInt8) or float x (linearW8). */
  x: GpuTensor;
  xs: GpuTensor | null;
  wq: GpuTensor;
  ws: GpuTensor;
  bias: GpuTensor | null;
  M: number;
  N: number;
  k: number;
  KpW: number;
  nb: number;
  block: number;
  activation: ActivationName;
}

function epilogue(l: Linear): { HAS_BIAS: boolean; ACT: string } {
  return { HAS_BIAS: l.bias !== null, ACT: l.activation === 'none' ? 'x' : unaryWgsl(l.activation, false) };
}

/** Storage buffers in the kernels' binding order: y, wq, ws, x (xq, xs), bias. */
function linearBuffers(l: Linear): GPUBuffer[] {
  const b = [l.y.buffer, l.wq.buffer, l.ws.buffer, l.x.buffer];
  if (l.xs) b.push(l.xs.buffer);
  if (l.bias) b.push(l.bias.buffer);
  return b;
}

/** GEMM tiles: WG_X x WG_Y threads, (4·WG_Y) x (4·WG_X) outputs, TKW words deep. */
const GEMM_BIG = { WG_X: 16, WG_Y: 16 };
const GEMM_SMALL = { WG_X: 8, WG_Y: 8 };

function runGemm(gpu: GpuContext, l: Linear): void {
  const bigTiles = Math.ceil(l.M / 64) * Math.ceil(l.N / 64);
  const cfg = bigTiles >= 32 ? GEMM_BIG : GEMM_SMALL;
  const gx = Math.ceil(l.N / (4 * cfg.WG_X)), gy = Math.ceil(l.M / (4 * cfg.WG_Y));
  if (gx > MAX_GROUPS || gy > MAX_GROUPS) fail(l.op, `the tiled GEMM needs ${Math.max(gx, gy)} workgroups along one dimension for ${l.M} x ${l.N} outputs, more than ${MAX_GROUPS}`);
  const KW = Math.ceil(l.k / 4);
  const dot4 = usesDot4(gpu);
  if (l.op === 'linearInt8') {
    // per-row scales: one fold at the end (127·127·4 per word: 32768 words stay far inside int32)
    const bw = l.block > 0 ? l.block / 4 : Math.max(1, KW);
    const fw = l.block > 0 ? bw : Math.max(1, Math.min(KW, 32768));
    gpu.dispatch({
      kernel: GEMM,
      defines: { DOT4: dot4, ...epilogue(l) },
      constants: { ...cfg, TKW: 8 },
      buffers: linearBuffers(l),
      uniforms: [l.M, l.N, l.k, KW, l.KpW, l.nb, bw, fw, l.x.offset / 4, l.xs!.offset, l.wq.offset / 4, l.ws.offset, l.bias?.offset ?? 0],
      workgroups: [gx, gy],
    });
  } else {
    gpu.dispatch({
      kernel: W8,
      defines: { DOT4: dot4, ...epilogue(l) },
      constants: { ...cfg, TKW: 4 },
      buffers: linearBuffers(l),
      // int8-linear.wgsl's uniform block: block, a spare word, and no xs (xsOff 0)
      uniforms: [l.M, l.N, l.k, KW, l.KpW, l.nb, l.block, 0, l.x.offset, 0, l.wq.offset / 4, l.ws.offset, l.bias?.offset ?? 0],
      workgroups: [gx, gy],
    });
  }
}

function runMatvec(gpu: GpuContext, l: Linear): void {
  const rows = l.M === 1 ? 1 : MATVEC_ROWS;
  const rowBlocks = Math.ceil(l.M / rows);
  if (rowBlocks > MAX_GROUPS) fail(l.op, `the matrix-vector kernel needs ${rowBlocks} row blocks for ${l.M} rows, more than ${MAX_GROUPS}`);
  const KW = Math.ceil(l.k / 4);
  // a chunk: one scale block, or 4 words (16 values) with per-row scales
  const cw = l.block > 0 ? l.block / 4 : 4;
  const chunks = Math.ceil(KW / cw);
  const xq = l.op === 'linearInt8';
  gpu.dispatch({
    kernel: MATVEC,
    defines: { DOT4: usesDot4(gpu), XQ: xq, BLOCK: l.block > 0, ROWS: rows, ...epilogue(l) },
    constants: { WG: pow2(chunks, 32, 256) },
    buffers: linearBuffers(l),
    uniforms: [l.M, l.N, l.k, KW, l.KpW, l.nb, cw, chunks, xq ? l.x.offset / 4 : l.x.offset, l.xs?.offset ?? 0, l.wq.offset / 4, l.ws.offset, l.bias?.offset ?? 0],
    workgroups: [...grid(Math.ceil(l.N / 4), 1), rowBlocks],
  });
}

function runLinear(gpu: GpuContext, l: Linear): void {
  if (l.y.size === 0) return;
  const path = override.current?.path ?? chooseInt8Path(l.M);
  if (path === 'gemm') runGemm(gpu, l);
  else runMatvec(gpu, l);
}

/** Check the shared shapes of linearInt8 / linearW8 and describe the product. */
function linearShapes(op: Linear['op'], y: GpuTensor, x: GpuTensor, wq: GpuTensor, ws: GpuTensor, block: number, k: number): Pick<Linear, 'M' | 'N' | 'KpW' | 'nb'> {
  const [M, N] = y.shape as [number, number];
  const Kp = wq.shape[1]!, nb = ws.shape[1]!;
  checkBlock(op, block, Kp, nb);
  if (k > Kp) fail(op, `k = ${k} exceeds the padded weight rows of ${Kp}`);
  if (x.shape[0] !== M || wq.shape[0] !== N) fail(op, `expected x with ${M} rows and wq with ${N} rows, got ${shapeStr(x.shape)} and ${shapeStr(wq.shape)}`);
  return { M, N, KpW: Kp / 4, nb };
}

/** linearInt8: xq [M, Kp] int8, xs [M, nb], wq [N, Kp] int8, ws [N, nb], bias? [N] -> y [M, N] float. */
export const linearInt8: GpuProgram<OpAttrs['linearInt8']> = (gpu, [y], [xq, xs, wq, ws, bias], { block, k, activation }) => {
  const s = linearShapes('linearInt8', y!, xq!, wq!, ws!, block, k);
  if (xq!.shape[1] !== s.KpW * 4) fail('linearInt8', `xq rows of ${xq!.shape[1]} do not match wq rows of ${s.KpW * 4}`);
  const x = wordAligned(gpu, 'linearInt8', 'xq', xq!);
  const w = wordAligned(gpu, 'linearInt8', 'wq', wq!);
  runLinear(gpu, { op: 'linearInt8', y: y!, x, xs: xs!, wq: w, ws: ws!, bias: bias ?? null, k, block, activation, ...s });
};

/** linearW8: x [M, k] float, wq [N, Kp] int8, ws [N, nb], bias? [N] -> y [M, N] float. */
export const linearW8: GpuProgram<OpAttrs['linearW8']> = (gpu, [y], [x, wq, ws, bias], { block, k, activation }) => {
  const s = linearShapes('linearW8', y!, x!, wq!, ws!, block, k);
  if (x!.shape[1] !== k) fail('linearW8', `x must have k = ${k} columns, got ${shapeStr(x!.shape)}`);
  const w = wordAligned(gpu, 'linearW8', 'wq', wq!);
  runLinear(gpu, { op: 'linearW8', y: y!, x: x!, xs: null, wq: w, ws: ws!, bias: bias ?? null, k, block, activation, ...s });
};
