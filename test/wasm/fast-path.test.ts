// The CPU fast path's switch and memory: feature detection, FORWARDPASS_WASM=0, setCpuFastPath, simulated missing
// SIMD (the typed-array kernels run, bit for bit), memory() counting packed weight panels, and no leak over many runs.
import { afterEach, describe, expect, test, vi } from 'vitest';
import * as fp from '../../src/index.js';
import { simulateNoWasmSimd } from '../../src/backends/cpu/wasm/index.js';
import { wasmHeapTop } from '../../src/backends/cpu/wasm/memory.js';
import { randomArray } from '../helpers.js';

afterEach(() => { fp.setCpuFastPath(true); simulateNoWasmSimd(false); vi.unstubAllEnvs(); });

const rand = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });

describe('switch', () => {
  test('Node 20+ validates SIMD128, so the fast path is on by default; relaxed SIMD implies SIMD128', async () => {
    const f = fp.detectWasmFeatures();
    expect(f.simd128).toBe(true);
    if (f.relaxedSimd) expect(f.simd128).toBe(true);
    vi.stubEnv('FORWARDPASS_WASM', ''); // the suite may run with FORWARDPASS_WASM=0: look at a fresh module without it
    vi.resetModules();
    expect((await import('../../src/backends/cpu/wasm/features.js')).cpuFastPathEnabled()).toBe(true);
  });

  test('setCpuFastPath turns it off and on; a non-boolean is one clear error', () => {
    fp.setCpuFastPath(false);
    expect(fp.cpuFastPathEnabled()).toBe(false);
    fp.setCpuFastPath(true);
    expect(fp.cpuFastPathEnabled()).toBe(true);
    expect(() => fp.setCpuFastPath('no' as unknown as boolean)).toThrow(/forwardpass: setCpuFastPath: expected true or false, got no/);
  });

  test('FORWARDPASS_WASM=0 starts the process with the fast path off', async () => {
    vi.stubEnv('FORWARDPASS_WASM', '0');
    vi.resetModules();
    const features = await import('../../src/backends/cpu/wasm/features.js');
    expect(features.cpuFastPathEnabled()).toBe(false);
    vi.stubEnv('FORWARDPASS_WASM', '1');
    vi.resetModules();
    expect((await import('../../src/backends/cpu/wasm/features.js')).cpuFastPathEnabled()).toBe(true);
  });

  test('without SIMD (simulated) linear and matmul run the typed-array kernels: the same bits as switched off', () => {
    const x = rand([7, 33], 1), w = rand([10, 33], 2), b = rand([10], 3);
    simulateNoWasmSimd(true);
    expect(fp.cpuFastPathEnabled()).toBe(false);
    expect(fp.cpuBackend.variant!('linear', [x, w, b], { activation: 'gelu' })).toBe('');
    const y1 = fp.linear(x, w, b, { activation: 'gelu' }).dataSync();
    const m1 = fp.matmul(x, w.transpose(0, 1)).dataSync();
    simulateNoWasmSimd(false);
    fp.setCpuFastPath(false);
    expect(fp.linear(x, w, b, { activation: 'gelu' }).dataSync()).toEqual(y1);
    expect(fp.matmul(x, w.transpose(0, 1)).dataSync()).toEqual(m1);
  });
});

describe('memory', () => {
  test('packed panels are counted in cacheBytes (N rounded up to 8, times K, 4 bytes) and freed with their weight', () => {
    const before = fp.cpuBackend.memory().cacheBytes!;
    const x = rand([3, 20], 4), w = rand([13, 20], 5);
    fp.linear(x, w).dispose();
    expect(fp.cpuBackend.memory().cacheBytes! - before).toBe(16 * 20 * 4);
    fp.linear(x, w).dispose(); // cached: packed once
    expect(fp.cpuBackend.memory().cacheBytes! - before).toBe(16 * 20 * 4);
    w.dispose();
    expect(fp.cpuBackend.memory().cacheBytes!).toBe(before);
    x.dispose();
  });

  test('the Wasm memory is reported as pooled, and 2,000 runs of linear, matmul and conv2d with fresh weights and inputs leave every count flat', () => {
    const step = (i: number) => {
      const x = rand([1 + (i % 9), 40], i), w = rand([24 + (i % 5), 40], i + 1), b = rand([24 + (i % 5)], i + 2);
      fp.linear(x, w, b, { activation: 'relu' }).dispose();
      const wt = w.transpose(0, 1);
      fp.matmul(x, wt).dispose();
      const img = rand([1, 3, 5 + (i % 4), 6], i + 3), cw = rand([4 + (i % 3), 3, 3, 3], i + 4);
      fp.conv2d(img, cw, null, { padding: 1 }).dispose();
      x.dispose(); w.dispose(); wt.dispose(); b.dispose(); img.dispose(); cw.dispose();
    };
    for (let i = 0; i < 50; i++) step(i);
    const m0 = fp.cpuBackend.memory(), top0 = wasmHeapTop();
    expect(m0.pooledBytes).toBeGreaterThan(0);
    for (let i = 50; i < 2050; i++) step(i);
    const m1 = fp.cpuBackend.memory();
    expect(m1).toEqual(m0);
    expect(wasmHeapTop()).toBe(top0);
  });
});
