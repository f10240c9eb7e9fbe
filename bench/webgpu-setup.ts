// Plumbing of the WebGPU benchmark: start Dawn (on SwiftShader when no Vulkan driver is installed), start
// tfjs-backend-webgpu on the same GPU object, describe adapters, and time asynchronous calls in time boxes.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fp from '../src/index.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The forwardpass WebGPU backend of the run, or why there is none. */
export interface GpuStart {
  gpu: fp.WebGPUBackend | null;
  reason: string;
  dawnFlags: string[];
  /** VK_ICD_FILENAMES as Dawn saw it (set here to SwiftShader when no system Vulkan driver exists). */
  vkIcd: string | null;
}

function hasSystemVulkanDriver(): boolean {
  return ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'].some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
}

/**
 * Start forwardpass on WebGPU as the tests do: SwiftShader's ICD when no Vulkan driver is installed, and on
 * SwiftShader Dawn's `disable_workgroup_init` (it compiles the zero-fill of workgroup memory for seconds per
 * kernel). The flag belongs to the Dawn instance, so tfjs started on the same GPU object gets it too.
 *
 * @example const { gpu, reason } = await startWebGPU(); console.log(gpu?.setup.adapter ?? reason);
 */
export async function startWebGPU(): Promise<GpuStart> {
  if (!process.env.VK_ICD_FILENAMES && !hasSystemVulkanDriver() && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const vkIcd = process.env.VK_ICD_FILENAMES ?? null;
  const dawnFlags = vkIcd?.includes('swiftshader') ? ['enable-dawn-features=disable_workgroup_init'] : [];
  try {
    return { gpu: await fp.initWebGPU({ dawnFlags }), reason: '', dawnFlags, vkIcd };
  } catch (e) {
    return { gpu: null, reason: (e as Error).message, dawnFlags, vkIcd };
  }
}

/** The adapter in one line, e.g. "google swiftshader (SwiftShader driver 5.0.0), software". */
export function adapterLine(a: { vendor: string; architecture: string; description: string; isSoftware?: boolean }): string {
  return `${a.vendor || '?'} ${a.architecture || '?'} (${a.description || 'no description'})${a.isSoftware ? ', software' : ''}`;
}

type Tf = typeof import('@tensorflow/tfjs-core');

/** tfjs-core with its WebGPU backend on forwardpass's GPU object, or why it could not start. */
export interface TfjsStart {
  tf: Tf | null;
  reason: string;
  versions: { core: string; webgpu: string };
  /** The adapter of the device tfjs created (GPUDevice.adapterInfo), and whether it is the one forwardpass uses. */
  adapter: { vendor: string; architecture: string; device: string; description: string } | null;
  sameAdapter: boolean;
  /** navigator.gpu was forwardpass's own GPU object (one Dawn instance, one adapter list). */
  sameGpuObject: boolean;
  flags: Record<string, unknown>;
}

function packageVersion(name: string): string {
  try {
    const req = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(req.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/**
 * Start tfjs-backend-webgpu in Node on the same adapter: tfjs reads `navigator.gpu` when its module loads, so
 * navigator gets forwardpass's GPU object first; ops never fall back to tfjs's CPU (WEBGPU_CPU_FORWARD off).
 *
 * @example const t = await startTfjs(gpu); t.tf?.matMul(a, b)
 */
export async function startTfjs(gpu: fp.WebGPUBackend): Promise<TfjsStart> {
  const versions = { core: packageVersion('@tensorflow/tfjs-core'), webgpu: packageVersion('@tensorflow/tfjs-backend-webgpu') };
  const none = (reason: string): TfjsStart => ({ tf: null, reason, versions, adapter: null, sameAdapter: false, sameGpuObject: false, flags: {} });
  const gpuObject = gpu.setup.gpu;
  if (!gpuObject) return none('forwardpass was given a device, not a GPU object, so tfjs cannot be put on the same adapter');
  const old = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuObject, userAgent: old?.userAgent ?? `Node.js/${process.version}` }, configurable: true, writable: true });
  let tf: Tf;
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return none(`loading @tensorflow/tfjs-core / @tensorflow/tfjs-backend-webgpu failed: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    if (!(await tf.setBackend('webgpu'))) return none("tf.setBackend('webgpu') returned false (the backend's initialization failed)");
  } catch (e) {
    return none(`tf.setBackend('webgpu') threw: ${(e as Error).message.split('\n')[0]}`);
  }
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  const info = (device as { adapterInfo?: GPUAdapterInfo } | undefined)?.adapterInfo;
  const adapter = info ? { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description } : null;
  const mine = gpu.setup.adapter;
  const sameAdapter = !!adapter && adapter.vendor === mine.vendor && adapter.architecture === mine.architecture && adapter.device === mine.device && adapter.description === mine.description;
  const flags = Object.fromEntries(['WEBGPU_CPU_FORWARD', 'WEBGPU_MATMUL_PROGRAM_TYPE', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 'WEBGPU_USE_LOW_POWER_GPU'].map((f) => [f, tf.env().get(f)]));
  return { tf, reason: '', versions, adapter, sameAdapter, sameGpuObject: true, flags };
}

/** One timed task: `call` runs the work once, reads the result back and disposes it. */
export interface TimedTask {
  name: string;
  call: () => Promise<void>;
  /** Predicted milliseconds of one call (from a smaller problem), or null when unknown. */
  predictMs: number | null;
  /** Make one untimed call first (compiles pipelines, fills buffer pools). */
  warmup: boolean;
}

export interface TimedResult {
  samples: number[];
  /** Milliseconds of the untimed first call, or null without one. */
  firstMs: number | null;
  warmup: boolean;
  /** Why there are no samples: "skipped: time budget ..." or "failed: ...". */
  skipped: string | null;
}

export interface TimeBox {
  /** A task whose one call is predicted (or whose first call took) longer than this is skipped. */
  callLimitMs: number;
  /** Timed milliseconds per task after the warm-up, spread over `rounds` round-robin passes. */
  budgetMs: number;
  rounds: number;
  maxSamples: number;
}

const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);

/**
 * Time tasks round-robin within a time box (so bursts of load from other jobs hit them alike): a warm-up
 * call each, then `rounds` passes; after pass k a task has spent at most (k + 1) / rounds of `budgetMs` on timed
 * calls (judged by its median so far), and every task gets at least one sample.
 *
 * @example const r = await timeBoxed([{ name: 'x', call, predictMs: null, warmup: true }], box); r.get('x')!.samples
 */
export async function timeBoxed(tasks: TimedTask[], box: TimeBox): Promise<Map<string, TimedResult>> {
  const out = new Map<string, TimedResult>();
  const attempt = async (r: TimedResult, f: () => Promise<void>): Promise<number | null> => {
    const t0 = performance.now();
    try {
      await f();
    } catch (e) {
      r.skipped = `failed: ${(e as Error).message.split('\n')[0]}`;
      return null;
    }
    return performance.now() - t0;
  };
  for (const t of tasks) {
    const r: TimedResult = { samples: [], firstMs: null, warmup: t.warmup, skipped: null };
    out.set(t.name, r);
    if (t.predictMs !== null && t.predictMs > box.callLimitMs) {
      r.skipped = `skipped: time budget (one call predicted ~${seconds(t.predictMs)} s > ${seconds(box.callLimitMs)} s)`;
      continue;
    }
    if (!t.warmup) continue;
    r.firstMs = await attempt(r, t.call);
    if (r.firstMs !== null && r.firstMs > box.callLimitMs) r.skipped = `skipped: time budget (first call took ${seconds(r.firstMs)} s)`;
  }
  for (let round = 0; round < box.rounds; round++) {
    // pass `round` may bring a task's timed total up to (round + 1) / rounds of its budget
    const allowance = (box.budgetMs * (round + 1)) / box.rounds;
    for (const t of tasks) {
      const r = out.get(t.name)!;
      while (!r.skipped && r.samples.length < box.maxSamples) {
        const spent = r.samples.reduce((x, y) => x + y, 0);
        if (r.samples.length > 0 && spent + percentile(r.samples, 0.5) > allowance) break;
        const ms = await attempt(r, t.call);
        if (ms !== null) r.samples.push(ms);
      }
    }
  }
  return out;
}

/** The p-quantile (0..1) of samples, interpolating between neighbours (numpy's default). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * p;
  const lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}

/** Largest |a - b| over two arrays of equal length (Infinity when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? Infinity : m;
}
