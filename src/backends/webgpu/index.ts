// WebGPU entry: create the backend on a device and register it as 'webgpu'.
import { registerBackend, unregisterBackend, hasBackend, getBackend } from '../../tensor/device.js';
import { WebGPUBackend } from './backend.js';
import { setupGpu, type WebGPUOptions } from './device.js';

export { WebGPUBackend } from './backend.js';
export type { WebGPUOptions, GpuSetup, AdapterDescription, OptionalFeature } from './device.js';

/**
 * Start WebGPU (navigator.gpu in browsers; the optional `webgpu` package in Node) and register the 'webgpu'
 * backend. Resolves to the backend, whose `setup` names the adapter and the features found.
 *
 * @example const gpu = await initWebGPU(); console.log(gpu.setup.adapter.description); tensor([1, 2], { device: 'webgpu' })
 */
export async function initWebGPU(opts: WebGPUOptions = {}): Promise<WebGPUBackend> {
  const setup = await setupGpu(opts);
  const backend = new WebGPUBackend(setup);
  backend.device.lost.then(() => {
    if (hasBackend('webgpu') && getBackend('webgpu') === backend) unregisterBackend('webgpu');
  });
  registerBackend(backend);
  return backend;
}
