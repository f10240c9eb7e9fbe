// Shared by the model fixture tests: load a fixture model, capture per-layer activations through forward
// hooks, and compare them with trace.bin.
import { readFileSync } from 'node:fs';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';

export const readJson = (model: string, file: string) => JSON.parse(readFileSync(fixturePath(model, file), 'utf8'));

/** Run `fn` with a hook on `model` that keeps a copy of every module output and checkpoint by dotted path. */
export async function capture(model: fp.nn.Module, fn: () => unknown): Promise<Map<string, Float32Array>> {
  const kept = new Map<string, fp.Tensor>();
  const h = model.registerForwardHook((_m, path, _inputs, out) => {
    if ((out as fp.Tensor | null)?.__isTensor) kept.set(path, fp.keep((out as fp.Tensor).clone()));
  });
  try {
    await fp.scope(async () => { await fn(); });
  } finally {
    h.remove();
  }
  const out = new Map<string, Float32Array>();
  for (const [k, t] of kept) {
    out.set(k, (await t.data()) as Float32Array);
    t.dispose();
  }
  return out;
}

export interface TraceDiff {
  name: string;
  /** Max abs difference. */
  abs: number;
  /** Max abs difference over max(1, max |reference|). */
  rel: number;
  shapeOk: boolean;
}

/** Compare every trace.bin entry with the captured activation of the same name (missing ones: Infinity). */
export async function compareTrace(dir: string, got: Map<string, Float32Array>): Promise<TraceDiff[]> {
  const trace = await fp.loadFixtureTrace(dir);
  return Promise.all(trace.map(async ({ name, tensor }) => {
    const ref = (await tensor.data()) as Float32Array;
    tensor.dispose();
    const mine = got.get(name);
    if (!mine) return { name, abs: Infinity, rel: Infinity, shapeOk: false };
    const abs = maxAbsDiff(mine, ref);
    const scale = Math.max(1, ...Array.from(ref, Math.abs));
    return { name, abs, rel: abs / scale, shapeOk: mine.length === ref.length };
  }));
}

/** Largest value's index per row of a [N, K] array; ties -> lowest. */
export function argmaxRows(data: ArrayLike<number>, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < data.length / k; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (data[r * k + j]! > data[r * k + best]!) best = j;
    out.push(best);
  }
  return out;
}

/**
 * The input trace.bin was recorded for (see each trace.json's notes): io case batch1 for the sequential models,
 * eval row 0 (padded to 16) for tiny-bert-cls, the first io case otherwise; tensors on `device`.
 */
export async function traceInputs(name: string, model: fp.nn.ConfiguredModel, device = 'cpu'): Promise<Record<string, fp.Tensor>> {
  const dir = fixturePath(name);
  if (name === 'tiny-bert-cls') {
    const ev = await fp.loadFixtureEval(dir, { device });
    return Object.fromEntries(model.inputNames.map((n) => [n, ev[n]!.narrow(0, 0, 1)]));
  }
  const cases = await fp.loadFixtureCases(dir, { device });
  return (cases.find((c) => c.name === 'batch1') ?? cases[0]!).inputs;
}
