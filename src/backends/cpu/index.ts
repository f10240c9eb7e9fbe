// The CPU backend: typed-array storage and the reference kernels. float16 is stored as 16-bit halves and
// computed in float32 (inputs widened, outputs rounded), so every kernel is written once over numbers.
import type { Backend, MemoryInfo } from '../backend.js';
import { allocStorage, dtypeBytes, type DType, f16ArrayToF32, f32ArrayToF16, type StorageArray } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Conv2dAttrs, OpAttrs, OpName } from '../../ops/attrs.js';
import { conv2dLowering } from './kernels/conv.js';
import type { CpuKernel, CpuTensor, NumArray } from './types.js';
import { packedInt8CacheBytes } from './kernels/int8-packed.js';
import { kernels } from './kernels/index.js';
import { processWide } from '../../tensor/device.js';
import { leakedOn } from '../../tensor/lifetime.js';
import { runWasm, wasmMemory, wasmRelease, wasmVariant } from './wasm/index.js';

class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly collectsHandles = true;
  private liveBytes = 0;
  private liveBuffers = 0;

  alloc(dtype: DType, size: number): StorageArray {
    this.liveBytes += size * dtypeBytes(dtype);
    this.liveBuffers++;
    return allocStorage(dtype, size);
  }

  adopt(dtype: DType, store: StorageArray): StorageArray {
    this.liveBytes += store.length * dtypeBytes(dtype);
    this.liveBuffers++;
    return store;
  }

  write(handle: unknown, _dtype: DType, data: StorageArray): void {
    (handle as StorageArray).set(data as never);
  }

  readSync(handle: unknown): StorageArray {
    return (handle as StorageArray).slice();
  }

  async read(handle: unknown): Promise<StorageArray> {
    return this.readSync(handle);
  }

  /** Takes `size` elements off the counts; `handle` may be undefined (collected storage, see collectsHandles). */
  release(handle: unknown, dtype: DType, size: number): void {
    this.liveBytes -= size * dtypeBytes(dtype);
    this.liveBuffers--;
    wasmRelease(handle);
  }

  memory(): MemoryInfo {
    const wasm = wasmMemory(); // the fast path's Wasm memory: packed weight panels (cache) and scratch (pooled)
    return { liveBytes: this.liveBytes, liveBuffers: this.liveBuffers, pooledBytes: wasm.pooledBytes, pooledBuffers: wasm.pooledBytes > 0 ? 1 : 0, cacheBytes: packedInt8CacheBytes() + wasm.cacheBytes, ...leakedOn(this.name) };
  }

  /** The Wasm SIMD kernel when the fast path takes the op, else conv2d's lowering (direct, Winograd or im2col) or ''. */
  variant(op: OpName, inputs: readonly Tensor[], attrs: unknown): string {
    const wasm = wasmVariant(op, inputs, attrs);
    if (wasm) return wasm;
    return op === 'conv2d' ? `conv2d-${conv2dLowering(inputs[1]!.shape, attrs as Conv2dAttrs)}` : '';
  }

  run<K extends OpName>(op: K, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: OpAttrs[K]): void {
    // The per-op hot path (graph replay calls little else): plain loops and one view object per tensor, no Map, no
    // closures (each closure also costs a helper call under tsx/esbuild) unless a float16 tensor needs widening.
    if (hasF16(inputs) || hasF16(outputs)) return runF16(op, inputs, outputs, attrs);
    const ins = new Array<CpuTensor>(inputs.length), outs = new Array<CpuTensor>(outputs.length);
    for (let i = 0; i < inputs.length; i++) ins[i] = view(inputs[i]!, inputs[i]!.storage.handle as NumArray);
    for (let i = 0; i < outputs.length; i++) outs[i] = view(outputs[i]!, outputs[i]!.storage.handle as NumArray);
    if (!runWasm(op, inputs, outs, ins, attrs)) (kernels[op] as CpuKernel<OpAttrs[K]>)(outs, ins, attrs);
  }
}

function hasF16(ts: readonly Tensor[]): boolean {
  for (let i = 0; i < ts.length; i++) if (ts[i]!.dtype === 'float16') return true;
  return false;
}

function view(t: Tensor, data: NumArray): CpuTensor {
  return { data, dtype: t.dtype, shape: t.shape, strides: t.strides, offset: t.offset };
}

/** run() with float16 tensors: inputs widened to float32 (once per storage), outputs computed in float32 and rounded. */
function runF16<K extends OpName>(op: K, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: OpAttrs[K]): void {
  const widened = new Map<unknown, Float32Array>();
  const widen = (t: Tensor): CpuTensor => {
    let data = t.storage.handle as NumArray | Uint16Array;
    if (t.dtype === 'float16') {
      let w = widened.get(t.storage.handle);
      if (!w) widened.set(t.storage.handle, (w = f16ArrayToF32(data as Uint16Array)));
      data = w;
    }
    return view(t, data as NumArray);
  };
  const ins = inputs.map(widen);
  const outs = outputs.map((t) => (t.dtype === 'float16' ? view(t, new Float32Array(t.size)) : widen(t)));
  if (!runWasm(op, inputs, outs, ins, attrs)) (kernels[op] as CpuKernel<OpAttrs[K]>)(outs, ins, attrs);
  outputs.forEach((t, i) => {
    if (t.dtype === 'float16') f32ArrayToF16(outs[i]!.data as Float32Array, t.storage.handle as Uint16Array);
  });
}

/**
 * The CPU backend instance (registered as 'cpu' by the library's entry point); one per process, shared by every copy
 * of the library loaded (ESM and CJS builds), so their tensors live on the same 'cpu'.
 */
export const cpuBackend: Backend = processWide('cpu-backend', () => new CpuBackend());
