// The device registry is one per process: a second copy of the library's modules (as the ESM and CJS builds are)
// finds the first copy's backends and CPU backend, and two different backends under one name get a clear error.
import { describe, expect, it, vi } from 'vitest';
import * as fp from '../../src/index.js';
import { fromData } from '../../src/tensor/creation.js';

describe('device registry', () => {
  it('is shared by a second copy of the library in this process', async () => {
    vi.resetModules();
    const other = (await import('../../src/index.js')) as typeof fp;
    expect(other.tensor).not.toBe(fp.tensor); // really a second copy of the modules
    expect(other.cpuBackend).toBe(fp.cpuBackend);
    expect(other.getBackend('cpu')).toBe(fp.getBackend('cpu'));
    expect(await other.add(fp.tensor([1, 2]), other.tensor([3, 4])).data()).toEqual(new Float32Array([4, 6]));
    expect(await fp.sum(other.mul(other.tensor([2, 3]), fp.tensor([4, 5]))).data()).toEqual(new Float32Array([23]));
  });

  it('names two different backends under one name in the error, not "cpu and cpu"', () => {
    const impostor = Object.create(fp.cpuBackend) as fp.Backend; // same name and kernels, another object
    const a = fp.tensor([1, 2]);
    const b = fromData([3, 4], [2], 'float32', impostor);
    expect(() => fp.add(a, b)).toThrow("forwardpass: add: inputs 0 and 1 are on two different 'cpu' backends (started twice, or by two versions of forwardpass in one process); move them to the registered one with await t.to('cpu')");
  });
});
