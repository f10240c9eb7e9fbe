// Test access to WebGPU: Dawn (the `webgpu` package) in Node, on SwiftShader when no GPU driver is installed.
// With FORWARDPASS_REQUIRE_WEBGPU=1 (CI) a missing adapter fails the suites; otherwise they skip with a reason.
import { existsSync, readdirSync } from 'node:fs';
import { initWebGPU, type WebGPUBackend } from '../src/index.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function hasSystemVulkanDriver(): boolean {
  return ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'].some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
}

let pending: Promise<{ gpu: WebGPUBackend | null; reason: string }> | null = null;

/** The shared WebGPU backend for tests (registered as 'webgpu'), or null with the reason it is missing. */
export function getWebGPU(): Promise<{ gpu: WebGPUBackend | null; reason: string }> {
  pending ??= (async () => {
    if (!process.env.VK_ICD_FILENAMES && !hasSystemVulkanDriver() && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    // SwiftShader compiles the zero-filling of workgroup memory slowly (seconds per kernel with a few KiB);
    // correct kernels never read uninitialized workgroup memory, and the browser tests keep the zero-fill on
    const init = () => initWebGPU({ dawnFlags: ['enable-dawn-features=disable_workgroup_init'] });
    try {
      try {
        return { gpu: await init(), reason: '' };
      } catch (e) {
        // installed drivers that give Dawn no adapter (an old Mesa lavapipe, a GPU driver without its device): try
        // SwiftShader before giving up, unless the user chose the drivers with VK_ICD_FILENAMES
        if (process.env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) throw e;
        process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
        return { gpu: await init(), reason: '' };
      }
    } catch (e) {
      if (process.env.FORWARDPASS_REQUIRE_WEBGPU === '1') throw e;
      return { gpu: null, reason: (e as Error).message };
    }
  })();
  return pending;
}

/** For `describe.skipIf(...)`: resolves the backend at collection time (top-level await in the test file). */
export const webgpu = await getWebGPU();
if (!webgpu.gpu) console.warn(`WebGPU suites skipped: ${webgpu.reason}`);
