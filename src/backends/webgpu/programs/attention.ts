// WebGPU scaled-dot-product attention: one fused dispatch of kernels/sdpa.wgsl (scale, mask, causal limit and
// an online softmax over key tiles), reading q, k, v and the mask through their strides. planSdpa picks the tiling.
// Legend: B = batch, H = heads, T = queries, S = keys/values, D = query/key size, Dv = value size.
import type { OpAttrs } from '../../../ops/attrs.js';
import { shapeStr } from '../../../tensor/shape.js';
import { f32bits, grid, type GpuProgram } from '../types.js';
import sdpaWgsl from '../../../../kernels/sdpa.wgsl';

const SRC = { name: 'sdpa.wgsl', code: sdpaWgsl };

/** Threads per workgroup (the kernel's WG override). */
export const SDPA_WG = 64;
/** Output columns one thread accumulates in registers (few values: each is a pipeline); wider Dv is split. */
const ACC_STEPS = [1, 4, 16];
/** Most of D staged in workgroup memory at once, by rows per workgroup; longer D is visited in chunks. */
const DC_DECODE = 64;
const DC_PREFILL = 32;

/** How sdpa.wgsl is specialized and dispatched for one shape. */
export interface SdpaPlan {
  /** Threads per workgroup. */
  wg: number;
  /** Query rows per workgroup. */
  rows: number;
  /** Keys per tile (= wg / rows). */
  bk: number;
  /** Whether key tiles are staged in workgroup memory (shared by the rows). */
  ktile: boolean;
  /** Capacity of a staged D chunk (a pipeline constant) and the chunk length used (a uniform, <= cap). */
  dcCap: number;
  dc: number;
  /** Output columns per thread; a workgroup covers acc * bk columns of Dv. */
  acc: number;
  /** Query blocks (ceil(T / rows)) and Dv chunks (ceil(Dv / (acc * bk))). */
  nqb: number;
  nz: number;
  /** Workgroup memory the kernel declares, in bytes. */
  sharedBytes: number;
}

/**
 * Choose the tiling for q [.., T, D] and v [.., S, Dv] under a workgroup-memory limit (bytes): one query row
 * per workgroup for decode (T = 1: every lane on its own key, read straight from memory), 8 rows sharing each
 * staged key tile otherwise. Workgroup memory stays small (a few KiB): WGSL zero-initializes it, which costs
 * seconds of pipeline compilation per KiB on SwiftShader, and small footprints keep GPU occupancy high.
 * Only rows, acc and dcCap (a function of rows) shape the pipeline, so few variants are ever compiled.
 * @example planSdpa(1, 16, 16, 16384) // { rows: 1, bk: 64, ktile: false, dc: 16, acc: 1, ... }
 */
export function planSdpa(T: number, D: number, Dv: number, maxShared: number, wg = SDPA_WG): SdpaPlan {
  const rows = T <= 1 ? 1 : 8;
  const bk = wg / rows;
  const ktile = rows > 1;
  const shared = (cap: number) => 4 * (rows * cap + (ktile ? bk * (cap | 1) : 0) + 2 * wg);
  let dcCap = rows === 1 ? DC_DECODE : DC_PREFILL;
  while (shared(dcCap) > maxShared && dcCap > 4) dcCap >>= 1;
  // equal chunks, so D = 65 costs two chunks of 33 rather than 64 + 1
  const dc = Math.max(1, Math.ceil(D / Math.max(1, Math.ceil(D / dcCap))));
  const need = Math.ceil(Dv / bk);
  const acc = ACC_STEPS.find((a) => a >= need) ?? ACC_STEPS[ACC_STEPS.length - 1]!;
  return { wg, rows, bk, ktile, dcCap, dc, acc, nqb: Math.ceil(T / rows), nz: Math.max(1, Math.ceil(Dv / (acc * bk))), sharedBytes: shared(dcCap) };
}

/**
 * The sdpa program for workgroups of `wg` threads (a multiple of 8): q [B, H, T, D], k [B, H, S, D],
 * v [B, H, S, Dv], mask viewed as [B, H, T, S] -> out [B, H, T, Dv].
 * @example programs.sdpa = sdpaProgram(128)
 */
export function sdpaProgram(wg = SDPA_WG): GpuProgram<OpAttrs['sdpa']> {
  if (!Number.isInteger(wg) || wg < 8 || wg % 8 !== 0) throw new RangeError(`forwardpass: sdpa: the workgroup size must be a positive multiple of 8, got ${wg}`);
  return (gpu, [out], ins, { scale, causal, mask }) => {
    const q = ins[0]!, k = ins[1]!, v = ins[2]!;
    const m = mask === 'none' ? null : ins[3];
    if (mask !== 'none' && !m) throw new Error(`forwardpass: sdpa: a '${mask}' mask was declared but no mask tensor was given`);
    if (m && m.shape.length !== 4) throw new RangeError(`forwardpass: sdpa: the mask must be viewed as [B, H, T, S], got ${shapeStr(m.shape)}`);
    if (m && m.dtype !== (mask === 'bool' ? 'int32' : 'float32')) throw new TypeError(`forwardpass: sdpa: a '${mask}' mask must reach the kernel as ${mask === 'bool' ? 'int32' : 'float32'}, got ${m.dtype}`);
    const [B, H, T, D] = q.shape as [number, number, number, number];
    const S = k.shape[2]!;
    const Dv = v.shape[3]!;
    if (out!.size === 0) return;
    const lim = gpu.setup.limits;
    if (wg > lim.maxComputeInvocationsPerWorkgroup) throw new RangeError(`forwardpass: sdpa: a workgroup of ${wg} threads exceeds this adapter's maxComputeInvocationsPerWorkgroup of ${lim.maxComputeInvocationsPerWorkgroup}`);
    const plan = planSdpa(T, D, Dv, lim.maxComputeWorkgroupStorageSize, wg);
    const total = B * H * plan.nqb * plan.nz;
    const ms = m ? m.strides : [0, 0, 0, 0];
    const words = [
      B, H, T, S,
      D, Dv, causal ? 1 : 0, f32bits(scale),
      plan.nqb, plan.nz, f32bits(-Infinity), f32bits(NaN),
      plan.dc, mask === 'none' ? 0 : mask === 'bool' ? 1 : 2, 0, 0,
      q.offset, k.offset, v.offset, m ? m.offset : 0,
      ...q.strides, ...k.strides, ...v.strides, ...ms,
    ];
    gpu.dispatch({
      kernel: SRC,
      defines: { ACC: plan.acc, KTILE: plan.ktile },
      constants: { WG: plan.wg, ROWS: plan.rows, DC: plan.dcCap },
      // without a mask, q's buffer stands in for the (unread) mask binding
      buffers: [out!.buffer, q.buffer, k.buffer, v.buffer, (m ?? q).buffer],
      uniforms: words,
      workgroups: grid(total, 1, lim.maxComputeWorkgroupsPerDimension),
    });
  };
}

/** sdpa with the default workgroup size. */
export const sdpa = sdpaProgram();
