// Swapping a layer in place under the same name (quantize() turns Linear / Conv2d layers into quantized ones, so
// dotted paths, state-dict keys and forward hooks stay valid). Module offers no public way to replace a child, so
// this reaches into its registry (`_children`, `_hooks`, `attachHook`): keep it in step with src/nn/module.ts.
import { Module } from '../nn/module.js';

interface HookEntryLike {
  reg: { modules: Set<Module> };
  path: string;
}

interface ModuleInternals {
  _children: Map<string, Module>;
  _hooks: HookEntryLike[];
  attachHook(reg: HookEntryLike['reg'], path: string): void;
  _detachHook(reg: HookEntryLike['reg']): void;
}

const internals = (m: Module) => m as unknown as ModuleInternals & Record<string, unknown>;

/**
 * Put `next` where the submodule at `path` ('h.0.mlp.c_fc') is: in the parent's registry, in every field or list
 * of the parent that pointed at the old module (GPT's `c_fc`, Sequential's run order), and under the forward hooks
 * that listened to it. Returns the old module (not disposed).
 *
 * @example const old = replaceSubmodule(model, 'fc1', quantizedFc1); old.dispose();
 */
export function replaceSubmodule(root: Module, path: string, next: Module): Module {
  if (path === '') throw new Error(`forwardpass: replaceSubmodule: cannot replace the root module`);
  const dot = path.lastIndexOf('.');
  const parent = internals(root.getSubmodule(dot < 0 ? '' : path.slice(0, dot)));
  const name = path.slice(dot + 1);
  const old = root.getSubmodule(path);
  if (!(next instanceof Module)) throw new TypeError(`forwardpass: replaceSubmodule: '${path}' must be replaced by a Module`);
  parent._children.set(name, next);
  for (const key of Object.keys(parent)) {
    const v = parent[key];
    if (v === old) parent[key] = next;
    else if (Array.isArray(v)) v.forEach((item, i) => { if (item === old) v[i] = next; });
  }
  const o = internals(old);
  for (const e of [...o._hooks]) {
    internals(next).attachHook(e.reg, e.path);
    o._detachHook(e.reg);
    e.reg.modules.delete(old);
  }
  return old;
}
