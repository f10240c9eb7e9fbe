// Loading a state dict into a Module: checks every key and shape first (one error listing all problems),
// then swaps in the tensors, cast to each parameter's dtype.
import { shapeStr, shapesEqual } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from '../ops/elementwise.js';
import type { Module } from './module.js';

/** Tensors keyed by dotted state-dict name. */
export type StateDictInput = Map<string, Tensor> | Record<string, Tensor>;

export interface LoadStateDictResult {
  /** Model keys the state dict did not provide (their tensors keep their previous values). */
  missingKeys: string[];
  /** State-dict keys the model has no place for (ignored). */
  unexpectedKeys: string[];
}

const list = (one: string, many: string, items: string[]) => `${items.length} ${items.length === 1 ? one : many} (${items.join(', ')})`;

/** The implementation behind Module.loadStateDict. */
export function loadStateDictInto(module: Module, input: StateDictInput, strict: boolean): LoadStateDictResult {
  const name = module.constructor.name;
  if (input === null || typeof input !== 'object') {
    throw new TypeError(`forwardpass: ${name}.loadStateDict: expected a Map or object of tensors, got ${input === null ? 'null' : typeof input}`);
  }
  const given = input instanceof Map ? new Map(input) : new Map(Object.entries(input));
  const entries = module._stateEntries();
  const expected = new Set(entries.map((e) => e.key));
  const missingKeys: string[] = [];
  const mismatches: string[] = [];
  for (const e of entries) {
    const t = given.get(e.key);
    if (t === undefined) { missingKeys.push(e.key); continue; }
    if (!(t as { __isTensor?: boolean } | null)?.__isTensor) {
      mismatches.push(`${e.key}: not a Tensor but ${Array.isArray(t) ? 'an array' : typeof t}`);
      continue;
    }
    if (!shapesEqual(t.shape, e.tensor.shape)) mismatches.push(`${e.key}: model ${shapeStr(e.tensor.shape)} vs state dict ${shapeStr(t.shape)}`);
  }
  const unexpectedKeys = [...given.keys()].filter((k) => !expected.has(k) && !isIgnored(module, k));
  const problems: string[] = [];
  if (strict && missingKeys.length) problems.push(list('missing key', 'missing keys', missingKeys));
  if (strict && unexpectedKeys.length) problems.push(list('unexpected key', 'unexpected keys', unexpectedKeys));
  if (mismatches.length) problems.push(list('shape mismatch', 'shape mismatches', mismatches));
  if (problems.length) {
    throw new Error(`forwardpass: ${name}.loadStateDict: the state dict does not fit the model: ${problems.join('; ')}`);
  }
  for (const e of entries) {
    const t = given.get(e.key);
    if (t === undefined) continue;
    t.assertAlive(`loadStateDict '${e.key}'`);
    // A view shares the caller's storage, so the caller may dispose its own tensors afterwards.
    const own = t.dtype === e.tensor.dtype ? t.reshape(t.shape) : cast(t, e.tensor.dtype);
    e.module._replaceTensor(e.local, own);
  }
  return { missingKeys, unexpectedKeys };
}

/** True when `key` names a state entry a module declares as accepted-and-ignored (num_batches_tracked). */
function isIgnored(root: Module, key: string): boolean {
  const dot = key.lastIndexOf('.');
  const path = dot < 0 ? '' : key.slice(0, dot);
  const local = key.slice(dot + 1);
  try {
    return root.getSubmodule(path)._ignoresStateKey(local);
  } catch {
    return false;
  }
}
