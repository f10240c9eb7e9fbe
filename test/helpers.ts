// Shared test helpers: fixture paths, array comparison, seeded random data, and the backends to run on.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { makeRng } from '../src/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const fixturePath = (...p: string[]) => join(FIXTURES, ...p);

/** Backends every op suite runs on (the WebGPU backend joins this list when it exists). */
export const BACKENDS = ['cpu'] as const;

/** Largest absolute difference between two arrays of equal length (Infinity on length mismatch, NaN-aware). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) { if (!(Number.isNaN(x) && Number.isNaN(y))) return Infinity; continue; }
    if (x === y) continue;
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/** Seeded uniform values in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng());
}
