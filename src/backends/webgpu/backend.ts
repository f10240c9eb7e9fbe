// The WebGPU backend: tensors live in pooled storage buffers; ops are recorded into one open compute pass
// and submitted in batches; reads flush and map a staging copy. float16 and 8-bit tensors are stored packed
// (2 or 4 per u32) and unpacked to f32/i32 around kernels that do not read them natively.
import type { Backend, MemoryInfo } from '../backend.js';
import { dtypeBytes, type DType, allocStorage, type StorageArray } from '../../tensor/dtype.js';
import { contiguousStrides, numel, shapeStr } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { PACKED_INT8_OPS, type OpAttrs, type OpName } from '../../ops/attrs.js';
import { BufferPool } from './buffer-pool.js';
import { leakedOn } from '../../tensor/lifetime.js';
import { MAP_READ, USAGE, type GpuSetup } from './device.js';
import { CompileError, PipelineCache } from './pipelines.js';
import { type ComputeDType, type DispatchSpec, type GpuContext, type GpuProgram, type GpuTensor, grid } from './types.js';
import { programs } from './programs/index.js';
import packWgsl from '../../../kernels/pack.wgsl';
import unpackWgsl from '../../../kernels/unpack.wgsl';

/** What a tensor's storage handle is on this backend. */
interface GpuHandle {
  buffer: GPUBuffer;
  /** Bytes the tensor's elements occupy (before padding to 4). */
  bytes: number;
}

const PACKED: Partial<Record<DType, { kind: string; per: number; compute: ComputeDType }>> = {
  float16: { kind: 'f16', per: 2, compute: 'float32' },
  int8: { kind: 'i8', per: 4, compute: 'int32' },
  uint8: { kind: 'u8', per: 4, compute: 'int32' },
  bool: { kind: 'u8', per: 4, compute: 'int32' },
};

/** Dispatches per submission before the batch is flushed on its own. */
const BATCH = 256;

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly device: GPUDevice;
  private readonly pool: BufferPool;
  private readonly uniformPool: BufferPool;
  private readonly pipelines: PipelineCache;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private uniformsInFlight: GPUBuffer[] = [];
  private error: Error | null = null;
  private lost: string | null = null;
  private lastVariant = '';
  /** Labels of the dispatches the current or last `run` recorded (unpack, kernels, pack), for traces. */
  private runLabels: string[] = [];
  /** Checks registered by programs (ctx.deferCheck), finished at the next read or sync. */
  private deferred: { buffer: GPUBuffer; words: number; explain: (words: Uint32Array) => Error | null }[] = [];
  readonly ctx: GpuContext;
  /** Count of kernel dispatches since creation (for tests and traces). */
  dispatches = 0;

  constructor(readonly setup: GpuSetup) {
    this.device = setup.device;
    this.pool = new BufferPool(this.device, USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST);
    this.uniformPool = new BufferPool(this.device, USAGE.UNIFORM | USAGE.COPY_DST);
    this.pipelines = new PipelineCache(this.device, (e) => this.fail(e));
    this.device.lost.then((info) => {
      this.lost = `${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''}`;
    });
    this.device.addEventListener?.('uncapturederror', (ev) => {
      this.fail(new Error(`forwardpass: webgpu: ${(ev as GPUUncapturedErrorEvent).error.message}`));
    });
    const backend = this;
    this.ctx = {
      setup,
      dispatch: (spec) => backend.dispatch(spec),
      temp: () => { throw new Error('forwardpass: webgpu: temp() is only available while an op runs'); },
    };
  }

  private fail(e: Error): void {
    // a kernel's compile error explains the invalid-pipeline errors that follow it: keep the compile error
    if (!this.error || (e instanceof CompileError && !(this.error instanceof CompileError))) this.error = e;
  }

  /** Throws if the device was lost or an asynchronous GPU error was reported. */
  private check(what: string): void {
    if (this.lost !== null) throw new Error(`forwardpass: webgpu: ${what}: the device was lost (${this.lost}); create a new one with initWebGPU()`);
    if (this.error) throw this.error;
  }

  // ------------------------------------------------------------------ memory

  alloc(dtype: DType, size: number): GpuHandle {
    this.check('alloc');
    const bytes = size * dtypeBytes(dtype);
    const max = this.setup.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new RangeError(`forwardpass: webgpu: a ${dtype} tensor of ${size} elements needs ${bytes} bytes, more than this adapter's maxStorageBufferBindingSize of ${max} bytes`);
    }
    return { buffer: this.pool.acquire(Math.max(4, Math.ceil(bytes / 4) * 4)), bytes };
  }

  write(handle: unknown, _dtype: DType, data: StorageArray): void {
    this.check('write');
    const h = handle as GpuHandle;
    // writes are queued ahead of unsubmitted work: submit first so recorded ops still read the old contents
    this.flush();
    const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = Math.ceil(src.byteLength / 4) * 4;
    // Dawn refuses views of SharedArrayBuffers, and writes must be a multiple of 4 bytes: copy in those cases
    if (padded === src.byteLength && !(data.buffer instanceof SharedArrayBufferCtor)) this.device.queue.writeBuffer(h.buffer, 0, src as Uint8Array<ArrayBuffer>);
    else {
      const copy = new Uint8Array(padded);
      copy.set(src);
      this.device.queue.writeBuffer(h.buffer, 0, copy);
    }
  }

  async read(handle: unknown, dtype: DType, size: number): Promise<StorageArray> {
    await this.pipelines.settled();
    this.check('read');
    const h = handle as GpuHandle;
    const bytes = Math.max(4, Math.ceil(h.bytes / 4) * 4);
    this.flush();
    const checked = this.finishChecks();
    const staging = this.device.createBuffer({ size: bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST, label: 'forwardpass readback' });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(h.buffer, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(MAP_READ);
    } catch (e) {
      this.check('read');
      throw new Error(`forwardpass: webgpu: reading a tensor back failed (${(e as Error).message})`);
    }
    const out = allocStorage(dtype, size);
    new Uint8Array(out.buffer).set(new Uint8Array(staging.getMappedRange(), 0, size * dtypeBytes(dtype)));
    staging.unmap();
    staging.destroy();
    this.check('read');
    const problem = await checked;
    if (problem) throw problem;
    return out;
  }

  release(handle: unknown): void {
    if (this.lost !== null) return;
    this.pool.release((handle as GpuHandle).buffer);
  }

  memory(): MemoryInfo {
    return { ...this.pool.memory(), ...leakedOn(this.name) };
  }

  /** Wait for all submitted work; rejects with any GPU error reported meanwhile. */
  async sync(): Promise<void> {
    await this.pipelines.settled();
    this.check('sync');
    this.flush();
    const problem = await this.finishChecks();
    if (problem) throw problem;
    await this.device.queue.onSubmittedWorkDone();
    this.check('sync');
  }

  /** Read back the buffers of pending deferred checks (one copy, one map) and return the first error they explain. */
  private async finishChecks(): Promise<Error | null> {
    if (this.deferred.length === 0) return null;
    const list = this.deferred;
    this.deferred = [];
    const total = list.reduce((n, c) => n + c.words, 0);
    const staging = this.device.createBuffer({ size: Math.max(4, total * 4), usage: USAGE.MAP_READ | USAGE.COPY_DST, label: 'forwardpass checks' });
    const enc = this.device.createCommandEncoder();
    let at = 0;
    for (const c of list) {
      enc.copyBufferToBuffer(c.buffer, 0, staging, at * 4, c.words * 4);
      at += c.words;
    }
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(MAP_READ);
    } catch {
      return null; // the device was lost or failed: check() reports that
    } finally {
      for (const c of list) this.release({ buffer: c.buffer, bytes: 0 });
    }
    const words = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    at = 0;
    let first: Error | null = null;
    for (const c of list) {
      first ??= c.explain(words.subarray(at, at + c.words));
      at += c.words;
    }
    return first;
  }

  /** Destroy pooled buffers (live tensors are untouched). */
  async trim(): Promise<void> {
    await this.sync();
    this.pool.trim();
    this.uniformPool.trim();
  }

  /** Destroy the device; later calls fail with a clear error. */
  destroy(): void {
    this.device.destroy();
  }

  // ------------------------------------------------------------------ running ops

  variant(): string {
    return this.lastVariant;
  }

  /** Every dispatch label of the last `run`, in order (unpack, the kernels, pack), for traces. */
  dispatchLabels(): readonly string[] {
    return this.runLabels;
  }

  /** The WGSL source of a variant (a label from `variant()` or `dispatchLabels()`) once it was built. */
  kernelSource(label: string): string | undefined {
    return this.pipelines.source(label);
  }

  run<K extends OpName>(op: K, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: OpAttrs[K]): void {
    this.check(op);
    this.runLabels = [];
    const program = programs[op] as GpuProgram<OpAttrs[K]> | undefined;
    if (!program) throw new Error(`forwardpass: webgpu: op '${op}' has no WebGPU kernel`);
    const temps: GPUBuffer[] = [];
    const tempTensor = (dtype: ComputeDType, shape: readonly number[]): GpuTensor => {
      const n = numel(shape);
      const buffer = this.pool.acquire(Math.max(4, n * 4));
      temps.push(buffer);
      return { buffer, dtype, shape, strides: contiguousStrides(shape), offset: 0, size: n };
    };
    const deferCheck = (words: number, explain: (w: Uint32Array) => Error | null): GPUBuffer => {
      const buffer = this.pool.acquire(Math.max(4, words * 4));
      this.deferred.push({ buffer, words, explain });
      return buffer;
    };
    const ctx: GpuContext = { setup: this.setup, dispatch: (s) => this.dispatch(s), temp: tempTensor, deferCheck };
    const native8 = PACKED_INT8_OPS.has(op);
    const packedHere = (dtype: DType) => (native8 && (dtype === 'int8' || dtype === 'uint8') ? undefined : PACKED[dtype]);
    try {
      const ins = inputs.map((t) => {
        const h = t.storage.handle as GpuHandle;
        const p = packedHere(t.dtype);
        if (!p) return { buffer: h.buffer, dtype: t.dtype as ComputeDType, shape: t.shape, strides: t.strides, offset: t.offset, size: t.size };
        // unpack the whole storage so the view's strides and offset stay valid
        const whole = tempTensor(p.compute, [t.storage.size]);
        this.unpack(whole, h.buffer, p.kind, t.storage.size);
        return { ...whole, shape: t.shape, strides: t.strides, offset: t.offset, size: t.size };
      });
      const outs = outputs.map((t) => {
        const p = packedHere(t.dtype);
        const h = t.storage.handle as GpuHandle;
        return p ? tempTensor(p.compute, t.shape) : { buffer: h.buffer, dtype: t.dtype as ComputeDType, shape: t.shape, strides: t.strides, offset: 0, size: t.size };
      });
      program(ctx, outs, ins, attrs);
      outputs.forEach((t, i) => {
        const p = packedHere(t.dtype);
        if (p) this.pack((t.storage.handle as GpuHandle).buffer, outs[i]!.buffer, p.kind, t.size);
      });
    } finally {
      for (const b of temps) this.pool.release(b);
    }
  }

  private unpack(out: GpuTensor, src: GPUBuffer, kind: string, n: number): void {
    this.dispatch({ kernel: { name: 'unpack.wgsl', code: unpackWgsl }, defines: { KIND: kind, T: out.dtype === 'float32' ? 'f32' : 'i32' }, buffers: [out.buffer, src], uniforms: [n], workgroups: grid(n, 256) });
  }

  private pack(dst: GPUBuffer, src: GPUBuffer, kind: string, n: number): void {
    const per = kind === 'f16' ? 2 : 4;
    const words = Math.ceil(n / per);
    this.dispatch({ kernel: { name: 'pack.wgsl', code: packWgsl }, defines: { KIND: kind, T: kind === 'f16' ? 'f32' : 'i32' }, buffers: [dst, src], uniforms: [n], workgroups: grid(words, 256) });
  }

  /** Record one compute dispatch into the open pass (pipelines and bind groups built on demand). */
  dispatch(spec: DispatchSpec): void {
    this.check('dispatch');
    const { pipeline, label } = this.pipelines.get(spec.kernel, spec.defines ?? {}, spec.constants ?? {});
    this.lastVariant = label;
    this.runLabels.push(label);
    const entries: GPUBindGroupEntry[] = spec.buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    if (spec.uniforms) {
      const words = Math.max(4, Math.ceil(spec.uniforms.length / 4) * 4);
      const data = new Uint32Array(words);
      data.set(Array.from(spec.uniforms, (v) => v >>> 0));
      const ub = this.uniformPool.acquire(words * 4);
      this.device.queue.writeBuffer(ub, 0, data);
      this.uniformsInFlight.push(ub);
      entries.push({ binding: spec.buffers.length, resource: { buffer: ub, size: words * 4 } });
    }
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label });
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'forwardpass batch' });
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = spec.workgroups;
    const max = this.setup.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) throw new RangeError(`forwardpass: webgpu: ${label}: ${x}x${y}x${z} workgroups exceed the adapter's maxComputeWorkgroupsPerDimension of ${max}`);
    if (x > 0 && y > 0 && z > 0) this.pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    if (++this.pending >= BATCH) this.flush();
  }

  /** Submit recorded work. */
  flush(): void {
    if (this.pass) this.pass.end();
    if (this.encoder) this.device.queue.submit([this.encoder.finish()]);
    this.pass = null;
    this.encoder = null;
    this.pending = 0;
    // uniform buffers written for the next batch are queued after this submit, so they can be reused now
    for (const b of this.uniformsInFlight) this.uniformPool.release(b);
    this.uniformsInFlight = [];
  }
}

const SharedArrayBufferCtor: { new (n: number): unknown } = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : (class {} as never);

/** Describe a tensor for error messages. */
export function describeTensor(t: GpuTensor): string {
  return `${shapeStr(t.shape)} ${t.dtype}`;
}
