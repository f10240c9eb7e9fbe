// Choosing the device for a CLI command: cpu, webgpu (an error when there is no adapter) or auto (WebGPU when
// an adapter exists, else the CPU), reported on stderr so the output stays clean.
import { initWebGPU } from '../backends/webgpu/index.js';
import { hasBackend, getBackend } from '../tensor/device.js';
import type { WebGPUBackend } from '../backends/webgpu/backend.js';
import { UsageError } from './args.js';

export const BACKEND_CHOICES = ['cpu', 'webgpu', 'auto'] as const;
export const PRECISIONS = ['f32', 'f16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Resolve `--backend` to a registered backend name, starting WebGPU when asked for. */
export async function selectBackend(choice: string, command: string): Promise<string> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) throw new UsageError(`${command}: --backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${choice}'`);
  if (choice === 'cpu') return 'cpu';
  try {
    const gpu = hasBackend('webgpu') ? (getBackend('webgpu') as WebGPUBackend) : await initWebGPU();
    const a = gpu.setup.adapter;
    process.stderr.write(`forwardpass: using webgpu on ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'an unnamed adapter'}${a.isSoftware ? ' (a software adapter: CPU speed)' : ''}\n`);
    return 'webgpu';
  } catch (e) {
    if (choice === 'webgpu') throw e;
    process.stderr.write(`forwardpass: using cpu (no WebGPU: ${(e as Error).message.replace(/^forwardpass: webgpu: /, '')})\n`);
    return 'cpu';
  }
}

/** Validate `--precision` against the precisions a command offers (default f32 and f16; `run` adds int8). */
export function parsePrecision(value: string, command: string, allowed: readonly Precision[] = ['f32', 'f16']): Precision {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${command}: --precision must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as Precision;
}
