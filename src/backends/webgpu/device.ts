// Getting a GPUDevice: navigator.gpu in browsers, the optional `webgpu` package (Dawn) in Node; the limits we
// need are requested explicitly and optional features (shader-f16, subgroups, packed int8 dot) detected.

import { missingVulkanDriver, type DriverFs } from './vulkan-drivers.js';

/** GPUBufferUsage / GPUMapMode values (numeric, so Node needs no globals). */
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80, QUERY_RESOLVE: 0x200 } as const;
export const MAP_READ = 0x1;

declare global {
  // The WebGPU objects the public types name. Empty declarations keep the published .d.ts self-contained (a consumer
  // needs no @webgpu/types) and merge with the full ones where a consumer has them (@webgpu/types, a DOM lib with WebGPU).
  interface GPU {}
  interface GPUDevice {}
  interface GPUBuffer {}
}

/** GPURequestAdapterOptions.powerPreference, spelled out so the public types need no @webgpu/types. */
export type PowerPreference = 'low-power' | 'high-performance';

export type OptionalFeature = 'shader-f16' | 'subgroups' | 'packed_4x8_integer_dot_product' | 'timestamp-query';

export interface WebGPUOptions {
  /** Use this device instead of requesting one (its adapter info then comes from `device.adapterInfo` if present). */
  device?: GPUDevice;
  powerPreference?: PowerPreference;
  /** Node only: flags for the `webgpu` package's `create()`, e.g. ['backend=vulkan']. */
  dawnFlags?: string[];
  /** Pretend these optional features are missing, to run the portable twins of fast paths. */
  disable?: OptionalFeature[];
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True on SwiftShader (Dawn's CPU implementation): timings are CPU speed. */
  isSoftware: boolean;
}

export interface GpuSetup {
  device: GPUDevice;
  adapter: AdapterDescription;
  features: Record<OptionalFeature, boolean>;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupStorageSize: number; maxComputeInvocationsPerWorkgroup: number; maxComputeWorkgroupsPerDimension: number; maxStorageBuffersPerShaderStage: number; minUniformBufferOffsetAlignment: number };
  /** Where the GPU came from. */
  source: 'navigator.gpu' | 'webgpu package' | 'given device';
  /**
   * The GPU object the device came from. Held so it is never garbage-collected while the device lives:
   * Dawn for Node destroys its instance with the object and then crashes processing the device's events.
   */
  gpu?: GPU;
}

// The `webgpu` package is an optional peer that must never be bundled: import it by a computed name.
async function dynamicImport(name: string): Promise<Record<string, unknown>> {
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as Record<string, unknown>;
  } catch (e) {
    // CommonJS builds may turn import() into require(), which cannot load this ESM-only package
    if ((e as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw e;
    return (new Function('m', 'return import(m)') as (m: string) => Promise<Record<string, unknown>>)(name);
  }
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

async function findGpu(dawnFlags: string[]): Promise<{ gpu: GPU; source: GpuSetup['source'] }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, source: 'navigator.gpu' };
  if (!isNode) throw new Error('forwardpass: webgpu: this browser has no navigator.gpu (WebGPU is missing or disabled)');
  let mod: Record<string, unknown>;
  try {
    mod = await dynamicImport('webgpu');
  } catch (e) {
    throw new Error(`forwardpass: webgpu: Node has no WebGPU of its own and the optional 'webgpu' package (Dawn for Node) could not be loaded (${(e as Error).message.split('\n')[0]}); install it with: npm install webgpu`);
  }
  if (process.platform === 'linux') {
    const missing = missingVulkanDriver(process.env, (await dynamicImport('node:fs')) as unknown as DriverFs, dawnFlags);
    if (missing) throw new Error(`forwardpass: webgpu: ${missing}`);
  }
  const { create, globals } = mod as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  for (const [k, v] of Object.entries(globals ?? {})) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return { gpu: create(dawnFlags), source: 'webgpu package' };
}

function describe(info: GPUAdapterInfo | undefined): AdapterDescription {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const description = info?.description ?? '';
  const device = (info as { device?: string } | undefined)?.device ?? '';
  const isSoftware = /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(`${vendor} ${architecture} ${description}`);
  return { vendor, architecture, device, description, isSoftware };
}

/** Request an adapter and a device with the limits forwardpass needs. Throws one clear error when none is found. */
export async function setupGpu(opts: WebGPUOptions = {}): Promise<GpuSetup> {
  const off = new Set(opts.disable ?? []);
  if (opts.device) {
    const d = opts.device;
    const has = (f: string) => d.features.has(f) && !off.has(f as OptionalFeature);
    return {
      device: d,
      adapter: describe((d as { adapterInfo?: GPUAdapterInfo }).adapterInfo),
      features: { 'shader-f16': has('shader-f16'), subgroups: has('subgroups'), 'timestamp-query': has('timestamp-query'), packed_4x8_integer_dot_product: false },
      limits: pickLimits(d.limits),
      source: 'given device',
    };
  }
  const { gpu, source } = await findGpu(opts.dawnFlags ?? []);
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  if (!adapter) {
    const hint = source === 'webgpu package'
      ? "Dawn found no Vulkan/Metal/D3D12 adapter; without a GPU on Linux install libvulkan1 and a Vulkan driver (Debian's chromium package ships SwiftShader) and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json"
      : 'the browser offers no WebGPU adapter';
    throw new Error(`forwardpass: webgpu: requestAdapter() returned no adapter (tried ${source}; ${hint})`);
  }
  const wanted: OptionalFeature[] = ['shader-f16', 'subgroups', 'timestamp-query'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f) && !off.has(f)) as GPUFeatureName[];
  const a = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
    maxBufferSize: a.maxBufferSize,
    maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: a.maxComputeWorkgroupSizeY,
    maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
  };
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'forwardpass' });
  const lang = (gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  return {
    device,
    adapter: describe(adapter.info),
    features: {
      'shader-f16': requiredFeatures.includes('shader-f16' as GPUFeatureName),
      subgroups: requiredFeatures.includes('subgroups' as GPUFeatureName),
      'timestamp-query': requiredFeatures.includes('timestamp-query' as GPUFeatureName),
      packed_4x8_integer_dot_product: !!lang?.has('packed_4x8_integer_dot_product') && !off.has('packed_4x8_integer_dot_product'),
    },
    limits: pickLimits(device.limits),
    source,
    gpu,
  };
}

function pickLimits(l: GPUSupportedLimits): GpuSetup['limits'] {
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
  };
}
