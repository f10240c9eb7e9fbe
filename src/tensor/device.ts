// The device registry: backends register here by name; tensors are created on the default device unless told.
// It is kept on globalThis under a Symbol.for key, so copies of this version of the library in one process (the ESM
// and CJS builds, two bundles) share one registry, one CPU backend and one 'webgpu' device, and their tensors mix.
import type { Backend } from '../backends/backend.js';

interface Registry {
  backends: Map<string, Backend>;
  defaultName: string;
  /** Process-wide singletons made by `processWide` (the CPU backend). */
  shared: Map<string, unknown>;
}

declare const __FORWARDPASS_VERSION__: string | undefined;
// keyed by version: another version's backends may lack kernels this one dispatches, so versions do not share
const KEY = Symbol.for(`forwardpass.registry@${typeof __FORWARDPASS_VERSION__ === 'string' ? __FORWARDPASS_VERSION__ : 'source'}`);
const registry: Registry = ((globalThis as { [KEY]?: Registry })[KEY] ??= { backends: new Map(), defaultName: 'cpu', shared: new Map() });
const backends = registry.backends;

/** The one `name` object of this process: made by `make` in the first copy of the library that asks, reused by others. */
export function processWide<T>(name: string, make: () => T): T {
  if (!registry.shared.has(name)) registry.shared.set(name, make());
  return registry.shared.get(name) as T;
}

/** Make a backend available by its name (done by the library for 'cpu'; by `initWebGPU()` for 'webgpu'). */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Remove a backend (for example after its device was lost). */
export function unregisterBackend(name: string): void {
  backends.delete(name);
  if (registry.defaultName === name) registry.defaultName = 'cpu';
}

/** The backend registered as `name`; throws naming the registered ones otherwise. */
export function getBackend(name: string = registry.defaultName): Backend {
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
  registry.defaultName = name;
}

export function getDefaultDevice(): string {
  return registry.defaultName;
}
