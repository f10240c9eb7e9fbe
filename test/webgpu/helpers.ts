// Helpers shared by the WebGPU suites: the subgroup and portable backends, running ops with another backend
// registered as 'webgpu', and comparisons of WebGPU results with the CPU backend's on the same inputs.
import { expect } from 'vitest';
import * as fp from '../../src/index.js';
import { webgpu } from '../webgpu.js';

const main = webgpu.gpu!;
/** The same device with subgroups switched off: programs take their workgroup-memory path. */
const portable = webgpu.gpu && new fp.WebGPUBackend({ ...main.setup, features: { ...main.setup.features, subgroups: false } });
/** Each program path by name: the shared backend (subgroups where the adapter has them) and its portable twin. */
export const PATHS = [['subgroups', main], ['portable', portable!]] as const;

/**
 * Run `fn` with `backend` registered as 'webgpu' (tensors moved there land on it), then the shared one again.
 * @example const y = await withBackend(portable, async () => fp.sum(await x.to('webgpu')).data());
 */
export async function withBackend<T>(backend: fp.WebGPUBackend, fn: () => Promise<T>): Promise<T> {
  fp.registerBackend(backend);
  try {
    return await fn();
  } finally {
    fp.registerBackend(main);
  }
}

/**
 * `withBackend`, returning the kernel variants the ops ran on the GPU.
 * @example const variants = await onPath(backend, async () => { await fp.sum(await x.to('webgpu')).data(); });
 */
export async function onPath(backend: fp.WebGPUBackend, fn: () => Promise<void>): Promise<string[]> {
  const variants: string[] = [];
  const off = fp.addOpHook((e) => {
    if (e.backend === 'webgpu' && e.variant) variants.push(e.variant);
  });
  try {
    await withBackend(backend, fn);
  } finally {
    off();
  }
  return variants;
}

/**
 * Run `f` on CPU tensors and on their WebGPU copies, expecting the same shape and dtype on the GPU; returns the
 * GPU and CPU results as arrays, and the GPU tensor.
 * @example const [got, want] = await both((a, b) => fp.add(a, b), a, b);
 */
export async function both(f: (...ts: fp.Tensor[]) => fp.Tensor, ...cpu: fp.Tensor[]): Promise<[ArrayLike<number>, ArrayLike<number>, fp.Tensor]> {
  const gpuIns = await Promise.all(cpu.map((t) => t.to('webgpu')));
  const want = f(...cpu);
  const got = f(...gpuIns);
  expect(got.device).toBe('webgpu');
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  return [await got.data(), await want.data(), got];
}

/** The largest |got - want| allowed at one element, from the CPU value and the element's error scale. */
export type Tolerance = (want: number, scale: number) => number;

/** Where got and want differ beyond `tol`: up to 3 descriptions. */
async function differences(label: string, got: fp.Tensor, want: fp.Tensor, scale: fp.Tensor, tol: Tolerance, sameMatches: boolean): Promise<string[]> {
  if (got.device !== 'webgpu' || got.dtype !== want.dtype || JSON.stringify(got.shape) !== JSON.stringify(want.shape)) {
    return [`${label}: got ${got.device} ${got.dtype} [${got.shape}], want ${want.dtype} [${want.shape}]`];
  }
  const [g, w] = await Promise.all([got.data(), want.data()]);
  const s = scale === want ? w : await scale.data();
  const bad: string[] = [];
  for (let i = 0; i < w.length; i++) {
    const gi = Number(g[i]), wi = Number(w[i]);
    if (sameMatches && (gi === wi || (Number.isNaN(gi) && Number.isNaN(wi)))) continue;
    if (!(Math.abs(gi - wi) <= tol(wi, Math.abs(Number(s[i]))))) bad.push(`${label}[${i}]: got ${gi}, want ${wi}`);
  }
  return bad.slice(0, 3);
}

/**
 * Comparisons of WebGPU results with the CPU's, all read back at the end (reading after each op is slow).
 * With `sameMatches`, equal values (infinities too) and NaN against NaN pass before the tolerance is asked;
 * without it every element must be within the tolerance (so a NaN or an infinity fails).
 * @example const c = new Checks(); await c.add('sum', (t) => fp.sum(t), [x], () => 1e-6); expect(await c.failures()).toEqual([]);
 */
export class Checks {
  private pending: (() => Promise<string[]>)[] = [];
  private uploads = new Map<fp.Tensor, Promise<fp.Tensor>>();

  constructor(private readonly opts: { sameMatches?: boolean } = {}) {}

  /**
   * f on the WebGPU copies of `ins` vs f on `ins` (CPU), element by element: |got - want| <= tol(want, scale),
   * where scale is |scaleOf(...ins)| on the CPU (the per-output error scale, e.g. the sum of magnitudes) or,
   * without scaleOf, |want|.
   */
  async add<T extends fp.Tensor[]>(label: string, f: (...ts: T) => fp.Tensor, ins: [...T], tol: Tolerance, scaleOf?: (...ts: T) => fp.Tensor): Promise<void> {
    for (const t of ins) if (!this.uploads.has(t)) this.uploads.set(t, t.to('webgpu'));
    const gpuIns = (await Promise.all(ins.map((t) => this.uploads.get(t)!))) as T;
    const got = f(...gpuIns);
    const want = f(...(ins as T));
    const scale = scaleOf ? scaleOf(...(ins as T)) : want;
    const same = this.opts.sameMatches ?? false;
    this.pending.push(() => differences(label, got, want, scale, tol, same).catch((e: Error) => [`${label}: ${e.message}`]));
  }

  async failures(): Promise<string[]> {
    return (await Promise.all(this.pending.map((read) => read()))).flat();
  }
}

/**
 * The worst |got - want| / tol(i) over the elements (<= 1 passes); a NaN difference gives Infinity.
 * @example expect(worst(got, want, (i) => 1e-6 * Math.abs(want[i]!))).toBeLessThanOrEqual(1);
 */
export function worst(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): number {
  expect(got.length).toBe(want.length);
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (Number.isNaN(d)) return Infinity;
    if (d > 0) w = Math.max(w, d / tol(i));
  }
  return w;
}

/** A copy of `t` on WebGPU. @example const g = await up(fp.ones([3])); */
export const up = (t: fp.Tensor) => t.to('webgpu');
/** A float32 CPU tensor of `v`. @example f32([1, 2, 3, 4], [2, 2]) */
export const f32 = (v: ArrayLike<number>, shape: number[]) => fp.tensor(Float32Array.from(v), { shape });
/** An int8 CPU tensor of `v`. @example i8(Int8Array.of(1, -2), [2]) */
export const i8 = (v: Int8Array, shape: number[]) => fp.tensor(v, { dtype: 'int8', shape });
