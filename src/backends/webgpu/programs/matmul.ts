// WebGPU matmul and linear: one product routine with four paths chosen by shape (tiled GEMM, matrix-vector,
// split-K, and the naive baseline), bias and activation fused into the last pass.
// Legend: B = batch, M = rows, N = columns, K = inner dim; a [Ba, M, K], b [Bb, K, N] or [Bb, N, K] (transB).
import type { ActivationName } from '../../../ops/attrs.js';
import { unaryWgsl } from '../../../ops/elementwise.js';
import { shapeStr } from '../../../tensor/shape.js';
import type { Defines } from '../wgsl.js';
import { grid, type GpuContext, type GpuProgram, type GpuTensor } from '../types.js';
import { scopedOverride } from './override.js';
import gemmWgsl from '../../../../kernels/matmul.wgsl';
import naiveWgsl from '../../../../kernels/matmul-naive.wgsl';
import matvecWgsl from '../../../../kernels/matvec.wgsl';
import splitkWgsl from '../../../../kernels/matmul-splitk.wgsl';

const GEMM = { name: 'matmul.wgsl', code: gemmWgsl };
const NAIVE = { name: 'matmul-naive.wgsl', code: naiveWgsl };
const MATVEC = { name: 'matvec.wgsl', code: matvecWgsl };
const SPLITK = { name: 'matmul-splitk.wgsl', code: splitkWgsl };

export type MatmulPath = 'gemm' | 'matvec' | 'splitk' | 'naive';

/** What each path does (for benchmarks and traces); the pipeline label names the kernel file that ran. */
export const MATMUL_PATHS: Readonly<Record<MatmulPath, string>> = {
  naive: 'matmul-naive.wgsl: one thread per output, dot product from global memory',
  gemm: 'matmul.wgsl: tiles through workgroup memory, 4x4 register block per thread, vec4 loads when aligned',
  matvec: 'matvec.wgsl: few rows; a workgroup per column block splits K, subgroup or workgroup reduction',
  splitk: 'matmul.wgsl SPLIT + matmul-splitk.wgsl: K cut into slices of partial sums, then a reducing pass',
};

/** The shape of one batched product. */
export interface MatmulShape {
  B: number;
  M: number;
  N: number;
  K: number;
  transB: boolean;
}

/** Rows a matvec workgroup handles together (more rows of a batch take several row blocks). */
const MATVEC_ROWS = 4;
/** Columns per matvec workgroup: 4 with transB (WG threads over K), 4·CV otherwise. */
const MATVEC_CV = 16;
const MATVEC_KS = 16;
/** K from which a product with few output blocks is worth splitting along K. */
const LONG_K = 1024;
/** Fewest K elements per split-K slice. */
const MIN_SLICE = 128;
/** Workgroups split-K aims to launch in all. */
const SPLIT_TARGET = 64;
/** GEMM tile configurations: workgroup WG_X x WG_Y threads, tile (4·WG_Y) x (4·WG_X), TK deep. */
const GEMM_BIG = { WG_X: 16, WG_Y: 16, TK: 16 };
const GEMM_SMALL = { WG_X: 8, WG_Y: 8, TK: 16 };
const MAX_GROUPS = 65535;

/**
 * The path the matmul and linear programs take for a product of this shape: matvec for at most 4 rows,
 * split-K when the output is small (B·M·N <= 4096) and K long (>= 1024), the tiled GEMM otherwise.
 *
 * @example chooseMatmulPath({ B: 1, M: 1, N: 4096, K: 4096, transB: true }) // 'matvec'
 */
export function chooseMatmulPath(s: MatmulShape): MatmulPath {
  const longK = s.K >= LONG_K;
  const fewRows = s.M <= MATVEC_ROWS && s.B <= MAX_GROUPS;
  const smallOut = s.B * s.M * s.N <= 4096;
  if (fewRows) {
    const blocks = s.B * Math.ceil(s.N / (s.transB ? 4 : 4 * MATVEC_CV));
    // a long K over very few column blocks leaves most of the GPU idle: split K instead
    if (!(longK && smallOut && blocks < 16)) return 'matvec';
  }
  if (longK && smallOut) return 'splitk';
  return fewRows ? 'matvec' : 'gemm';
}

/** A forced path and feature choices for tests and benchmarks. */
export interface MatmulOverride {
  path?: MatmulPath;
  /** false: the portable workgroup-memory reduction even where subgroups exist. */
  subgroups?: boolean;
  /** false: the scalar-load variants even where vec4 loads would be aligned. */
  vec4?: boolean;
  /** The GEMM tile (workgroup WG_X x WG_Y threads, (4·WG_Y) x (4·WG_X) outputs, TK deep) instead of the chosen one. */
  tile?: { WG_X: number; WG_Y: number; TK: number };
}

const override = scopedOverride<MatmulOverride>();

/**
 * Run `f` with the matmul and linear programs forced onto a path (see scopedOverride). For tests and benchmarks.
 *
 * @example const y = withMatmulPath({ path: 'splitk' }, () => fp.matmul(a, b)); await y.data();
 */
export function withMatmulPath<T>(o: MatmulOverride, f: () => T): T {
  return override.run(o, f);
}

interface Product extends MatmulShape {
  out: GpuTensor;
  a: GpuTensor;
  b: GpuTensor;
  bias: GpuTensor | null;
  activation: ActivationName;
}

/** The uniform block of matmul-params.wgsl. */
function params(p: Product, extra: { nb?: number; batch0?: number; kChunk?: number; blocks?: number } = {}): number[] {
  const { M, N, K, a, b, bias } = p;
  const aStep = a.shape[0] === 1 ? 0 : M * K;
  const bStep = b.shape[0] === 1 ? 0 : K * N;
  return [M, N, K, extra.nb ?? p.B, a.offset, b.offset, bias?.offset ?? 0, extra.batch0 ?? 0, aStep, bStep, extra.kChunk ?? 0, extra.blocks ?? 0];
}

function epilogueDefines(p: Product): Defines {
  return { HAS_BIAS: p.bias !== null, ACT: p.activation === 'none' ? 'x' : unaryWgsl(p.activation, false) };
}

/** vec4 loads need K (and N unless transB) to be multiples of 4, and 4-aligned offsets. */
function canVec4(p: Product): boolean {
  if (override.current?.vec4 === false) return false;
  return p.K > 0 && p.K % 4 === 0 && (p.transB || p.N % 4 === 0) && p.a.offset % 4 === 0 && p.b.offset % 4 === 0;
}

function buffers(p: Product, out: GPUBuffer): GPUBuffer[] {
  return p.bias ? [out, p.a.buffer, p.b.buffer, p.bias.buffer] : [out, p.a.buffer, p.b.buffer];
}

function tooMany(what: string, p: Product, groups: number): Error {
  return new RangeError(`forwardpass: webgpu: matmul: ${what} needs ${groups} workgroups along one dimension for a [${p.B}, ${p.M}, ${p.K}] x ${p.transB ? `[${p.B}, ${p.N}, ${p.K}]ᵀ` : `[${p.B}, ${p.K}, ${p.N}]`} product, more than the limit of ${MAX_GROUPS}`);
}

function runNaive(gpu: GpuContext, p: Product): void {
  gpu.dispatch({
    kernel: NAIVE,
    defines: { TRANS_B: p.transB, ...epilogueDefines(p) },
    buffers: buffers(p, p.out.buffer),
    uniforms: params(p),
    workgroups: grid(p.B * p.M * p.N, 256),
  });
}

function gemmConfig(p: Product): typeof GEMM_BIG {
  if (override.current?.tile) return override.current.tile;
  const bigTiles = p.B * Math.ceil(p.M / (4 * GEMM_BIG.WG_Y)) * Math.ceil(p.N / (4 * GEMM_BIG.WG_X));
  return bigTiles >= 32 ? GEMM_BIG : GEMM_SMALL;
}

function runGemm(gpu: GpuContext, p: Product): void {
  const cfg = gemmConfig(p);
  const gx = Math.ceil(p.N / (4 * cfg.WG_X)), gy = Math.ceil(p.M / (4 * cfg.WG_Y));
  if (gx > MAX_GROUPS || gy > MAX_GROUPS) throw tooMany('the tiled GEMM', p, Math.max(gx, gy));
  const defines = { VEC4: canVec4(p), OUT4: p.N % 4 === 0, TRANS_B: p.transB, SPLIT: false, ...epilogueDefines(p) };
  for (let b0 = 0; b0 < p.B; b0 += MAX_GROUPS) {
    const nb = Math.min(MAX_GROUPS, p.B - b0);
    gpu.dispatch({ kernel: GEMM, defines, constants: cfg, buffers: buffers(p, p.out.buffer), uniforms: params(p, { batch0: b0 }), workgroups: [gx, gy, nb] });
  }
}

function runSplitK(gpu: GpuContext, p: Product): void {
  const cfg = GEMM_SMALL;
  const gx = Math.ceil(p.N / (4 * cfg.WG_X)), gy = Math.ceil(p.M / (4 * cfg.WG_Y));
  if (gx > MAX_GROUPS || gy > MAX_GROUPS) throw tooMany('split-K', p, Math.max(gx, gy));
  // slices: enough workgroups to fill the GPU, each at least MIN_SLICE deep and a whole number of TK steps
  const maxSlices = Math.max(1, Math.min(64, Math.floor(p.K / MIN_SLICE), Math.floor(MAX_GROUPS / p.B)));
  const want = Math.max(2, Math.ceil(SPLIT_TARGET / (gx * gy * p.B)));
  const slices0 = Math.min(maxSlices, want);
  const kChunk = Math.max(cfg.TK, Math.ceil(Math.ceil(p.K / slices0) / cfg.TK) * cfg.TK);
  const slices = Math.max(1, Math.ceil(p.K / kChunk));
  if (p.B * slices > MAX_GROUPS) throw tooMany('split-K', p, p.B * slices);
  const part = gpu.temp('float32', [slices, p.B, p.M, p.N]);
  const raw: Product = { ...p, bias: null, activation: 'none' };
  gpu.dispatch({
    kernel: GEMM,
    defines: { VEC4: canVec4(p), OUT4: p.N % 4 === 0, TRANS_B: p.transB, SPLIT: true, ...epilogueDefines(raw) },
    constants: cfg,
    buffers: buffers(raw, part.buffer),
    uniforms: params(p, { kChunk, blocks: slices }),
    workgroups: [gx, gy, p.B * slices],
  });
  gpu.dispatch({
    kernel: SPLITK,
    defines: epilogueDefines(p),
    buffers: p.bias ? [p.out.buffer, part.buffer, p.bias.buffer] : [p.out.buffer, part.buffer],
    uniforms: params(p, { blocks: slices }),
    workgroups: grid(p.B * p.M * p.N, 256),
  });
}

function runMatvec(gpu: GpuContext, p: Product): void {
  // one row, or blocks of 4 (2 or 3 rows run masked in a 4-row block: fewer pipelines, same b traffic)
  const rows = p.M === 1 ? 1 : MATVEC_ROWS;
  const rowBlocks = Math.ceil(p.M / rows);
  if (p.B * rowBlocks > MAX_GROUPS) throw tooMany('the matrix-vector path', p, p.B * rowBlocks);
  const cols = p.transB ? 4 : 4 * MATVEC_CV;
  // threads over K: enough for one vec4 each, at least 32 (a common subgroup size), at most 256
  const wg = Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(p.K / 4))))));
  const subgroups = p.transB && gpu.setup.features.subgroups && override.current?.subgroups !== false;
  gpu.dispatch({
    kernel: MATVEC,
    defines: { VEC4: canVec4(p), OUT4: p.N % 4 === 0, TRANS_B: p.transB, ROWS: rows, SUBGROUPS: subgroups, ...epilogueDefines(p) },
    constants: p.transB ? { WG: wg } : { KS: MATVEC_KS, CV: MATVEC_CV },
    buffers: buffers(p, p.out.buffer),
    uniforms: params(p, { blocks: rowBlocks }),
    workgroups: [...grid(Math.ceil(p.N / cols), 1), p.B * rowBlocks],
  });
}

/** Run one batched product with the path the shape (or a test override) picks. */
function product(gpu: GpuContext, p: Product): void {
  if (p.out.size === 0) return;
  const path = override.current?.path ?? chooseMatmulPath(p);
  if (path === 'naive') runNaive(gpu, p);
  else if (path === 'gemm') runGemm(gpu, p);
  else if (path === 'splitk') runSplitK(gpu, p);
  else runMatvec(gpu, p);
}

/** matmul: a [Ba, M, K] x b [Bb, K, N] (or [Bb, N, K] with transB) -> out [B, M, N]. */
export const matmul: GpuProgram<{ transB: boolean }> = (gpu, [out], [a, b], { transB }) => {
  const [B, M, N] = out!.shape as [number, number, number];
  const K = a!.shape[2]!;
  if (a!.shape.length !== 3 || b!.shape.length !== 3) throw new RangeError(`forwardpass: webgpu: matmul: expected 3-d operands, got ${shapeStr(a!.shape)} and ${shapeStr(b!.shape)}`);
  product(gpu, { out: out!, a: a!, b: b!, bias: null, activation: 'none', B, M, N, K, transB });
};

/** linear: x [M, K], w [N, K], optional bias [N] -> act(x·wᵀ + bias) [M, N]. */
export const linear: GpuProgram<{ activation: ActivationName }> = (gpu, [out], [x, w, bias], { activation }) => {
  const [M, N] = out!.shape as [number, number];
  const K = x!.shape[1]!;
  product(gpu, { out: out!, a: x!, b: w!, bias: bias ?? null, activation, B: 1, M, N, K, transB: true });
};
