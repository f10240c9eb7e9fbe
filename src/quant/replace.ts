// Swapping a layer in place under the same name (quantize() turns Linear / Conv2d layers into quantized ones, so
// dotted paths, state-dict keys and forward hooks stay valid): a function form of Module.replaceSubmodule.
import type { Module } from '../nn/module.js';

/**
 * Put `next` where the submodule at `path` ('h.0.mlp.c_fc') is; returns the old module (not disposed).
 * See Module.replaceSubmodule.
 *
 * @example const old = replaceSubmodule(model, 'fc1', quantizedFc1); old.dispose();
 */
export function replaceSubmodule(root: Module, path: string, next: Module): Module {
  return root.replaceSubmodule(path, next);
}
