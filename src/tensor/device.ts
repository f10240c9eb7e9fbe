// The device registry: backends register here by name; tensors are created on the default device unless told.
import type { Backend } from '../backends/backend.js';

const backends = new Map<string, Backend>();
let defaultName = 'cpu';

/** Make a backend available by its name (done by the library for 'cpu'; by `initWebGPU()` for 'webgpu'). */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Remove a backend (for example after its device was lost). */
export function unregisterBackend(name: string): void {
  backends.delete(name);
  if (defaultName === name) defaultName = 'cpu';
}

/** The backend registered as `name`; throws naming the registered ones otherwise. */
export function getBackend(name: string = defaultName): Backend {
  const b = backends.get(name);
  if (!b) {
    const have = [...backends.keys()].join(', ') || 'none';
    throw new Error(`forwardpass: no backend named '${name}' is registered (registered: ${have})`);
  }
  return b;
}

export function hasBackend(name: string): boolean {
  return backends.has(name);
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

/** Set the device new tensors go to when none is named. */
export function setDefaultDevice(name: string): void {
  getBackend(name);
  defaultName = name;
}

export function getDefaultDevice(): string {
  return defaultName;
}
