// The CPU backend's hook into the Wasm SIMD fast path: which ops it takes (and the variant name traces show),
// running them, the packed caches it frees with their storage, and the bytes it holds for memory().
import type { Conv2dAttrs, OpAttrs, OpName } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor } from '../types.js';
import { cpuFastPathEnabled } from './features.js';
import { MR, NR } from './gemm-module.js';
import { gemmKernel, gemmOpThreads, linearWasm, matmulWasm, releasePanels } from './gemm.js';
import { conv2dWasm, convFits, convThreads } from './conv.js';
import { INT8_MAX_K, int8Threads, linearInt8Wasm, releaseInt8 } from './int8.js';
import { int8BlockVariant, runInt8Block } from './int8-block.js';
import { conv2dInt8Variant, conv2dInt8Wasm } from './int8-conv.js';
import { WasmOutOfMemory, wasmMemoryInfo } from './memory.js';
import { quantizeRowsWasm } from './quant.js';
import { unaryFits, unaryWasm, WASM_UNARY } from './unary.js';
import { isContiguous } from '../../../tensor/shape.js';
import type { BinaryOp, ReduceOp, UnaryOp } from '../../../ops/attrs.js';
import { binaryPlan, binaryWasm, powKind, powWasm, WASM_BINARY } from './binary.js';
import { softmaxFits, softmaxWasm } from './softmax.js';
import { wherePlan, whereWasm } from './where.js';
import { normFits, normWasm } from './norm.js';
import { depthwiseFits, depthwiseWasm, poolWasm } from './window.js';
import { copyFits, copyVariant, copyWasm } from './copy.js';
import { reducePlan, reduceVariant, reduceWasm, WASM_REDUCE } from './reduce.js';
import { sdpaFits, sdpaWasm } from './sdpa.js';
import { threadPoolBytes } from './threads.js';

/** Broadcast binary ops below this many elements stay on the typed-array loop (exact either way; the copies cost more). */
const ELEMENTWISE_MIN = 64;

export { setCpuFastPath, cpuFastPathEnabled, detectWasmFeatures, simulateNoWasmSimd, setWasmRelaxedSimd, wasmRelaxedSimdEnabled, type WasmFeatures } from './features.js';
export { getNumThreads, setNumThreads } from './threads.js';

/**
 * The GEMM variant's name: `wasm-simd-4x8`, or `wasm-relaxed-4x8` when the module that runs is the relaxed-SIMD one
 * (f32x4.relaxed_madd), with `-threadsT` when it splits across T > 1 threads (so that traces show it).
 */
const gemmVariant = (threads: number): string => {
  const name = `wasm-${gemmKernel().relaxed ? 'relaxed' : 'simd'}-${MR}x${NR}`;
  return threads > 1 ? `${name}-threads${threads}` : name;
};

const isFloat = (t: Tensor): boolean => t.dtype === 'float32' || t.dtype === 'float16';

/** The broadcast shape of two inputs (numpy rules), or null when they do not broadcast. */
function broadcastOut(inputs: readonly Tensor[]): number[] | null {
  const [a, b] = [inputs[0]!.shape, inputs[1]!.shape];
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** The broadcast shape of where's three inputs, or null. */
function outShape3(inputs: readonly Tensor[]): number[] | null {
  const ab = broadcastOut([inputs[1]!, inputs[2]!]);
  return ab ? broadcastOut([inputs[0]!, { shape: ab } as unknown as Tensor]) : null;
}

/**
 * Whether `run` takes `op` on the fast path for these inputs. This is the per-op hot path (graph replay asks it for
 * every recorded call), so it only checks: no thread counts, no name strings. wasmVariant names the kernel it picks.
 */
export function wasmTakes(op: OpName, inputs: readonly Tensor[], attrs?: unknown): boolean {
  if (!cpuFastPathEnabled()) return false;
  if (op === 'conv2d') return inputs.every(isFloat) && (convFits(inputs[1]!.shape, (attrs as Conv2dAttrs).groups) || depthwiseFits(inputs));
  if (op === 'sdpa') return sdpaFits(inputs);
  if (op === 'copy') return copyFits(inputs[0]!);
  if (op === 'maxPool2d' || op === 'avgPool2d') return isFloat(inputs[0]!) && inputs[0]!.size > 0;
  if (op === 'linearInt8') {
    const a = attrs as OpAttrs['linearInt8'];
    if (a.block > 0) return int8BlockVariant(op, inputs, a.block) !== '';
    return a.k <= INT8_MAX_K && inputs[0]!.dtype === 'int8' && inputs[2]!.dtype === 'int8';
  }
  if (op === 'linearW8') return int8BlockVariant(op, inputs, (attrs as OpAttrs['linearW8']).block) !== '';
  if (op === 'conv2dInt8') return conv2dInt8Variant(inputs, attrs as OpAttrs['conv2dInt8']) !== '';
  if (op === 'quantizeRows') return inputs[0]!.size > 0;
  if (WASM_UNARY.has(op as UnaryOp)) {
    const x = inputs[0]!;
    return isFloat(x) && unaryFits(op as UnaryOp, x.size) && isContiguous(x.shape, x.strides);
  }
  if (op === 'where') {
    const out = outShape3(inputs);
    return out !== null && out.reduce((a, b) => a * b, 1) >= ELEMENTWISE_MIN && wherePlan(inputs, out) > 0;
  }
  if (op === 'softmax') {
    const x = inputs[0]!;
    return isFloat(x) && x.size > 0 && softmaxFits(x, (attrs as OpAttrs['softmax']).axis);
  }
  if (WASM_REDUCE.has(op as ReduceOp)) {
    const x = inputs[0]!;
    return isFloat(x) && isContiguous(x.shape, x.strides) && reduceVariant(op as ReduceOp, x, (attrs as OpAttrs['sum']).axes) !== '';
  }
  if (op === 'layerNorm' || op === 'rmsNorm') return normFits(inputs, (attrs as OpAttrs['layerNorm']).dims);
  if (op === 'pow') return powKind(inputs) !== null;
  if (WASM_BINARY.has(op as BinaryOp)) {
    if (!inputs.every(isFloat)) return false;
    const out = broadcastOut(inputs);
    return out !== null && out.reduce((a, b) => a * b, 1) >= ELEMENTWISE_MIN && binaryPlan(inputs, out) !== null;
  }
  if (op === 'linear' || op === 'matmul') return inputs[0]!.shape[inputs[0]!.rank - 1]! !== 0 && inputs.every(isFloat);
  return false;
}

/** The Wasm kernel variant `run` would take for `op` on these inputs (traces show it), or '' for the typed-array kernel. */
export function wasmVariant(op: OpName, inputs: readonly Tensor[], attrs?: unknown): string {
  if (!wasmTakes(op, inputs, attrs)) return '';
  if (op === 'conv2d') {
    if (!convFits(inputs[1]!.shape, (attrs as Conv2dAttrs).groups)) return 'conv2d-depthwise-wasm-simd';
    return `conv2d-${gemmVariant(convThreads(inputs[0]!.shape, inputs[1]!.shape, attrs as Conv2dAttrs))}`;
  }
  if (op === 'sdpa') return 'sdpa-wasm-simd-fused';
  if (op === 'copy') return copyVariant(inputs[0]!);
  if (op === 'linearInt8') {
    const a = attrs as OpAttrs['linearInt8'];
    if (a.block > 0) return int8BlockVariant(op, inputs, a.block);
    const T = int8Threads(inputs[0]!.size / inputs[0]!.shape[inputs[0]!.shape.length - 1]!, inputs[2]!.shape[0]!, a.k);
    return `linearInt8-wasm-simd-dot-${MR}x${NR}${T > 1 ? `-threads${T}` : ''}`;
  }
  if (op === 'linearW8') return int8BlockVariant(op, inputs, (attrs as OpAttrs['linearW8']).block);
  if (op === 'conv2dInt8') return conv2dInt8Variant(inputs, attrs as OpAttrs['conv2dInt8']);
  if (WASM_REDUCE.has(op as ReduceOp)) return reduceVariant(op as ReduceOp, inputs[0]!, (attrs as OpAttrs['sum']).axes);
  if (op === 'layerNorm' || op === 'rmsNorm') return `${op}-wasm-simd-f64`;
  if (op === 'pow') return `pow-wasm-simd-${powKind(inputs)!}`;
  if (WASM_BINARY.has(op as BinaryOp)) return `${op}-wasm-simd${binaryPlan(inputs, broadcastOut(inputs)!)!.same ? '' : '-broadcast'}`;
  if (op === 'linear' || op === 'matmul') {
    return `${op}-${gemmVariant(gemmOpThreads(op, inputs[0]!.shape, inputs[1]!.shape, op === 'matmul' && (attrs as OpAttrs['matmul']).transB))}`;
  }
  return `${op}-wasm-simd`; // maxPool2d, avgPool2d, quantizeRows, the unary ops, where, softmax
}

/**
 * Run `op` on the fast path when it has one for these inputs; returns false (nothing written) otherwise, and
 * the caller runs the typed-array kernel. `inputs` are the op's tensors (their storage keys the weight caches),
 * `ins` / `outs` the same as CPU kernel views (float16 already widened).
 */
export function runWasm<K extends OpName>(op: K, inputs: readonly Tensor[], outs: CpuTensor[], ins: CpuTensor[], attrs: OpAttrs[K]): boolean {
  if (!wasmTakes(op, inputs, attrs)) return false;
  try {
    return dispatch(op, inputs, outs, ins, attrs);
  } catch (e) {
    if (e instanceof WasmOutOfMemory) return false; // too big for Wasm memory (4 GiB at most): the typed-array kernel runs
    throw e;
  }
}

function dispatch<K extends OpName>(op: K, inputs: readonly Tensor[], outs: CpuTensor[], ins: CpuTensor[], attrs: OpAttrs[K]): boolean {
  if (op === 'linear') {
    const [x, w, bias] = ins as [CpuTensor, CpuTensor, CpuTensor | undefined];
    const [M, K] = x.shape as [number, number];
    const N = w.shape[0]!;
    if (M === 0 || N === 0) return true;
    linearWasm(outs[0]!.data, x.data, x.offset, w.data, w.offset, inputs[1]!.storage.handle as object, bias ? bias.data : null, bias ? bias.offset : 0,
      M, N, K, (attrs as OpAttrs['linear']).activation);
    return true;
  }
  if ((op === 'linearInt8' && (attrs as OpAttrs['linearInt8']).block > 0) || op === 'linearW8') return runInt8Block(op, inputs, outs, ins, attrs as OpAttrs['linearW8']);
  if (op === 'linearInt8') {
    const [xq, xs, wq, ws, bias] = ins as [CpuTensor, CpuTensor, CpuTensor, CpuTensor, CpuTensor | undefined];
    const [M, Kp] = xq.shape as [number, number];
    const N = wq.shape[0]!;
    if (M === 0 || N === 0) return true;
    linearInt8Wasm(outs[0]!.data, xq.data as Int8Array, xq.offset, xs.data, xs.offset, wq.data as Int8Array, wq.offset, inputs[2]!.storage.handle as object,
      ws.data, ws.offset, bias ? bias.data : null, bias ? bias.offset : 0, M, N, (attrs as OpAttrs['linearInt8']).k, Kp, (attrs as OpAttrs['linearInt8']).activation);
    return true;
  }
  if (op === 'conv2dInt8') {
    conv2dInt8Wasm(outs[0]!, ins, inputs[2]!.storage.handle as object, attrs as OpAttrs['conv2dInt8']);
    return true;
  }
  if (WASM_UNARY.has(op as UnaryOp)) {
    const x = ins[0]!;
    unaryWasm(op as UnaryOp, outs[0]!.data, x.data, x.offset, outs[0]!.data.length, attrs as OpAttrs['clamp']);
    return true;
  }
  if (op === 'where') {
    whereWasm(outs[0]!, ins, wherePlan(inputs, outs[0]!.shape));
    return true;
  }
  if (op === 'softmax') {
    softmaxWasm(outs[0]!, ins[0]!);
    return true;
  }
  if (op === 'layerNorm' || op === 'rmsNorm') {
    const a = attrs as OpAttrs['layerNorm'];
    normWasm(outs[0]!, ins, a.eps, a.dims, op === 'rmsNorm');
    return true;
  }
  if (op === 'pow') {
    powWasm(outs[0]!, ins[0]!, powKind(inputs)!);
    return true;
  }
  if (WASM_BINARY.has(op as BinaryOp)) {
    binaryWasm(op as BinaryOp, outs[0]!, ins[0]!, ins[1]!, binaryPlan(inputs, outs[0]!.shape)!);
    return true;
  }
  if (WASM_REDUCE.has(op as ReduceOp)) {
    reduceWasm(op as ReduceOp, outs[0]!, ins[0]!, reducePlan(ins[0]!.shape, (attrs as OpAttrs['sum']).axes)!);
    return true;
  }
  if (op === 'quantizeRows') {
    quantizeRowsWasm(outs[0]!, outs[1]!, ins[0]!, attrs as OpAttrs['quantizeRows']);
    return true;
  }
  if (op === 'sdpa') {
    sdpaWasm(outs[0]!, ins, attrs as OpAttrs['sdpa']);
    return true;
  }
  if (op === 'copy') {
    copyWasm(outs[0]!, ins[0]!);
    return true;
  }
  if (op === 'maxPool2d' || op === 'avgPool2d') {
    poolWasm(op, outs[0]!, ins[0]!, attrs as OpAttrs['maxPool2d']);
    return true;
  }
  if (op === 'conv2d' && !convFits(ins[1]!.shape, (attrs as Conv2dAttrs).groups)) {
    const [x, w, b] = ins as [CpuTensor, CpuTensor, CpuTensor | undefined];
    depthwiseWasm(outs[0]!, x, w, b, attrs as Conv2dAttrs);
    return true;
  }
  if (op === 'conv2d') {
    const [x, w, b] = ins as [CpuTensor, CpuTensor, CpuTensor | undefined];
    conv2dWasm(outs[0]!, x, w, inputs[1]!.storage.handle as object, b, attrs as Conv2dAttrs);
    return true;
  }
  if (op === 'matmul') {
    const [a, b] = ins as [CpuTensor, CpuTensor];
    const [Bt, M, N] = outs[0]!.shape as [number, number, number];
    if (Bt === 0 || M === 0 || N === 0) return true;
    matmulWasm(outs[0]!.data, a.data, a.offset, a.shape[0]!, b.data, b.offset, b.shape[0]!, (attrs as OpAttrs['matmul']).transB, Bt, M, N, a.shape[2]!);
    return true;
  }
  return false;
}

/** Drop fast-path caches derived from a storage handle that the backend is releasing. */
export function wasmRelease(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null) { releasePanels(handle); releaseInt8(handle); }
}

/** Bytes the fast path holds: packed weight panels (cacheBytes) and the rest of its Wasm memory (pooledBytes). */
export function wasmMemory(): { cacheBytes: number; pooledBytes: number } {
  const { cacheBytes, pooledBytes } = wasmMemoryInfo();
  return { cacheBytes, pooledBytes: pooledBytes + threadPoolBytes() }; // + the worker pool's control block
}
