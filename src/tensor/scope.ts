// Scopes: dispose every tensor created inside a function except what it returns, across `await` too.
import type { Tensor } from './tensor.js';

type Frame = Set<Tensor>;
const frames: Frame[] = [];

/** Called by the Tensor constructor: the innermost open scope owns new tensors. */
export function trackTensor(t: Tensor): void {
  const top = frames[frames.length - 1];
  if (top) top.add(t);
}

/** Exempt tensors from the scopes they were created in: they outlive them. Returns its argument. */
export function keep<T>(value: T): T {
  forEachTensor(value, (t) => {
    for (const f of frames) f.delete(t);
  });
  return value;
}

function forEachTensor(value: unknown, fn: (t: Tensor) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ((value as { __isTensor?: boolean }).__isTensor) { fn(value as Tensor); return; }
  if (Array.isArray(value)) { for (const v of value) forEachTensor(v, fn, seen); return; }
  if (value instanceof Map) { for (const v of value.values()) forEachTensor(v, fn, seen); return; }
  if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) forEachTensor(v, fn, seen);
}

function close(frame: Frame, result: unknown): void {
  const i = frames.lastIndexOf(frame);
  if (i >= 0) frames.splice(i, 1);
  const outer = frames[frames.length - 1];
  const kept = new Set<Tensor>();
  forEachTensor(result, (t) => kept.add(t));
  for (const t of frame) {
    if (kept.has(t)) outer?.add(t); // returned tensors belong to the enclosing scope
    else t.dispose();
  }
}

/**
 * Run `fn`; every tensor created while it runs (including after `await`s) is disposed when it
 * finishes, except tensors reachable from its result (arrays, plain objects, Maps) and `keep()`ed ones.
 * Concurrent async work started elsewhere while a scope is open is attributed to the innermost open scope.
 *
 * @example const logits = await scope(async () => model.forward(await loadInput()));
 */
export async function scope<T>(fn: () => Promise<T> | T): Promise<T> {
  const frame: Frame = new Set();
  frames.push(frame);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    close(frame, undefined);
    throw e;
  }
  close(frame, result);
  return result;
}

/** Synchronous twin of `scope`. @example const y = scopeSync(() => relu(add(x, b))); */
export function scopeSync<T>(fn: () => T): T {
  const frame: Frame = new Set();
  frames.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    close(frame, undefined);
    throw e;
  }
  close(frame, result);
  return result;
}
