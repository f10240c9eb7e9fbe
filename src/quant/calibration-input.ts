// Feeding calibration batches to a model: a tensor (single-input models) or tensors by input name, checked against
// the config's declared inputs (names, integer vs float, rank and fixed dims) so a wrong shape is one clear error.
import { isIntDType } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import type { ConfiguredModel } from '../nn/models/config.js';

/** One batch of model inputs: a tensor, or tensors keyed by input name ('input_ids', 'attention_mask'). */
export type ModelInputs = Tensor | Readonly<Record<string, Tensor>>;

interface DeclaredInput {
  name: string;
  dtype?: string;
  shape?: (number | string)[];
}

const fail = (msg: string): never => {
  throw new Error(`forwardpass: quantize: ${msg}`);
};

/**
 * Run `model` on one batch (`what` names it in errors): ConfiguredModels by input name through run(), other
 * modules through forward(tensor). Any error the model raises is restated as "<what> does not fit the model".
 *
 * @example runOnInputs(model, { input_ids: ids, attention_mask: mask }, 'calibration batch 0');
 */
export function runOnInputs(model: Module, batch: ModelInputs, what: string): unknown {
  const cm = model as unknown as Partial<ConfiguredModel>;
  const named = typeof cm.run === 'function' && Array.isArray(cm.inputNames) && cm.inputNames.length > 0;
  let inputs: Record<string, Tensor> | null = null;
  if (isTensor(batch)) {
    if (named) inputs = { [cm.inputNames![0]!]: batch };
  } else if (batch !== null && typeof batch === 'object' && !Array.isArray(batch)) {
    if (!named) fail(`${what}: this model takes one tensor, got an object of ${Object.keys(batch).join(', ')}`);
    for (const [k, v] of Object.entries(batch)) if (!isTensor(v)) fail(`${what}: input '${k}' must be a Tensor, got ${typeof v}`);
    inputs = { ...batch };
  } else {
    fail(`${what} must be a Tensor or an object of tensors by input name, got ${batch === null ? 'null' : typeof batch}`);
  }
  if (inputs) checkDeclared((cm.config?.inputs ?? []) as DeclaredInput[], cm.inputNames!, inputs, what);
  try {
    return inputs ? cm.run!(inputs) : model.forward(batch as Tensor);
  } catch (e) {
    return fail(`${what} does not fit the model: ${((e as Error).message ?? String(e)).replace(/^forwardpass: /, '')}`);
  }
}

function checkDeclared(declared: DeclaredInput[], names: string[], inputs: Record<string, Tensor>, what: string): void {
  const unknown = Object.keys(inputs).filter((k) => !names.includes(k));
  if (unknown.length) fail(`${what}: unknown input '${unknown[0]}'; the model takes ${names.map((n) => `'${n}'`).join(', ')}`);
  if (!inputs[names[0]!]) fail(`${what}: missing input '${names[0]}'`);
  for (const d of declared) {
    const t = inputs[d.name];
    if (!t) continue;
    const wantsInt = /int/.test(d.dtype ?? '');
    if (d.dtype !== undefined && wantsInt !== isIntDType(t.dtype)) {
      fail(`${what}: input '${d.name}' must be ${wantsInt ? 'an integer' : 'a float'} tensor, got ${t.dtype}`);
    }
    if (!Array.isArray(d.shape)) continue;
    const ok = t.rank === d.shape.length && d.shape.every((dim, i) => typeof dim !== 'number' || dim === t.shape[i]);
    if (!ok) fail(`${what}: input '${d.name}' must have shape [${d.shape.join(', ')}], got ${shapeStr(t.shape)}`);
  }
}
