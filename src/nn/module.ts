// nn.Module: the PyTorch-style base class. Named parameters, buffers and child modules (dotted paths),
// state dicts, forward hooks and named checkpoints. The constructor wraps the subclass's forward() so that
// every call runs in a scope (intermediates are freed) and fires the hooks registered on it or its ancestors.
import { dtypeBytes } from '../tensor/dtype.js';
import { keep, scopeSync } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { loadStateDictInto, type LoadStateDictResult, type StateDictInput } from './state-dict.js';
import { cast as castTensor } from '../ops/elementwise.js';
import { withOpContext } from '../ops/dispatch.js';
import type { Trace, TraceInputs } from '../trace/trace.js';
import type { TraceOptions, TraceRecord } from '../trace/types.js';

interface Tracer {
  trace(model: Module, inputs: TraceInputs, opts?: TraceOptions): Promise<Trace>;
  steps(model: Module, inputs: TraceInputs, opts?: TraceOptions): AsyncGenerator<TraceRecord, void, undefined>;
}
let tracer: Tracer | null = null;

/** @internal src/trace installs itself here, so Module.trace/steps work without an import cycle. */
export function _installTracer(t: Tracer): void {
  tracer = t;
}

/**
 * Called after a module's forward (and for each named checkpoint inside it) with the module, its dotted
 * path relative to the module the hook was registered on ('' for that module itself), the inputs and the
 * output. Tensors handed to a hook belong to the forward pass: read or clone them inside the hook.
 */
export type ForwardHook = (module: Module, path: string, inputs: readonly unknown[], output: unknown) => void;

/** Returned by `registerForwardHook`; `remove()` detaches the hook from every module it was attached to. */
export interface HookHandle {
  remove(): void;
}

class HookRegistration implements HookHandle {
  removed = false;
  readonly modules = new Set<Module>();
  constructor(readonly hook: ForwardHook) {}
  remove(): void {
    this.removed = true;
    for (const m of this.modules) m._detachHook(this);
    this.modules.clear();
  }
}

interface HookEntry {
  reg: HookRegistration;
  /** Path of the module relative to the module the hook was registered on. */
  path: string;
}

const join = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}.${b}`);

type ForwardFn = (...args: unknown[]) => unknown;

/**
 * Base class of every layer and model. Subclasses register their tensors and children in the constructor
 * and implement a synchronous `forward(...)`; calling `forward` runs hooks and frees intermediates.
 *
 * @example
 * class Affine extends Module {
 *   constructor(n: number) { super(); this.registerParameter('weight', ones([n])); }
 *   override forward(x: Tensor) { return mul(x, this.getParameter('weight')); }
 * }
 */
export class Module {
  /** No-op flag kept for PyTorch familiarity: this library only runs inference. */
  training = false;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();
  private _hooks: HookEntry[] = [];
  /** Set by dispose(): forward() then refuses with one sentence instead of failing on a freed weight. */
  private _disposed = false;
  /** State-dict keys (local to this module) that loading accepts and ignores, e.g. BatchNorm's num_batches_tracked. */
  protected readonly ignoredStateKeys = new Set<string>();

  constructor() {
    const impl = (this as unknown as { forward: ForwardFn }).forward;
    Object.defineProperty(this, 'forward', {
      value: (...args: unknown[]) => this.runForward(impl, args),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }

  /** The computation. Subclasses override it; it must be synchronous (ops queue device work themselves). */
  forward(..._args: any[]): any {
    throw new Error(`forwardpass: ${this.constructor.name}: this module has no forward(); call its children instead`);
  }

  private runForward(impl: ForwardFn, args: unknown[]): unknown {
    if (this._disposed) throw new Error(`forwardpass: ${this.constructor.name}.forward: this module was disposed (dispose() freed its weights); build or load it again`);
    return scopeSync(() => {
      const out = withOpContext(this, () => impl.apply(this, args));
      if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
        throw new Error(`forwardpass: ${this.constructor.name}.forward: returned a Promise; forward must be synchronous`);
      }
      this.fire('', this, args, out);
      return out;
    });
  }

  // ---------------------------------------------------------------- registration

  /** Add a trainable-style tensor (a state-dict entry) under `name`; returns it. The module owns it. */
  registerParameter(name: string, t: Tensor): Tensor {
    this.checkName(name, 'parameter');
    this._params.set(name, keep(t));
    return t;
  }

  /** Add a non-parameter state tensor (running_mean...), listed in the state dict after the parameters. */
  registerBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name, 'buffer');
    this._buffers.set(name, keep(t));
    return t;
  }

  /** Add a child module under `name` (its state-dict keys become `name.*`); returns it. */
  registerModule<M extends Module>(name: string, child: M): M {
    this.checkName(name, 'module');
    if (!(child instanceof Module)) throw new TypeError(`forwardpass: ${this.constructor.name}.registerModule: '${name}' must be a Module, got ${typeof child}`);
    this._children.set(name, child);
    for (const e of this._hooks) child.attachHook(e.reg, join(e.path, name));
    return child;
  }

  private checkName(name: string, kind: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new Error(`forwardpass: ${this.constructor.name}: a ${kind} name must be a non-empty string without dots, got '${String(name)}'`);
    }
    if (this._params.has(name) || this._buffers.has(name) || this._children.has(name)) {
      throw new Error(`forwardpass: ${this.constructor.name}: the name '${name}' is already registered`);
    }
  }

  /** The parameter or buffer registered here as `name` (the current tensor, after any loadStateDict). */
  getParameter(name: string): Tensor {
    const t = this._params.get(name) ?? this._buffers.get(name);
    if (!t) throw new Error(`forwardpass: ${this.constructor.name}: no parameter or buffer named '${name}' (have: ${[...this._params.keys(), ...this._buffers.keys()].join(', ') || 'none'})`);
    return t;
  }

  /** Like getParameter, but undefined when absent (optional biases). */
  maybeParameter(name: string): Tensor | undefined {
    return this._params.get(name) ?? this._buffers.get(name);
  }

  /** Swap the tensor under an existing local name (used by loadStateDict); disposes the old one. */
  _replaceTensor(name: string, t: Tensor): void {
    const map = this._params.has(name) ? this._params : this._buffers.has(name) ? this._buffers : null;
    if (!map) throw new Error(`forwardpass: ${this.constructor.name}: no parameter or buffer named '${name}'`);
    const old = map.get(name)!;
    map.set(name, keep(t));
    if (old !== t) old.dispose();
  }

  /**
   * Move every parameter and buffer to another device and/or cast the floating-point ones to another float
   * dtype (integer buffers keep theirs), like PyTorch's `module.to(device, dtype)`. Resolves to this module.
   *
   * @example await model.to({ device: 'webgpu', dtype: 'float16' })
   */
  async to(target: string | { device?: string; dtype?: 'float32' | 'float16' }): Promise<this> {
    const { device, dtype } = typeof target === 'string' ? { device: target, dtype: undefined } : target;
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float16') {
      throw new TypeError(`forwardpass: ${this.constructor.name}.to: dtype must be 'float32' or 'float16', got '${String(dtype)}'`);
    }
    for (const [, mod] of this.namedModules()) {
      for (const map of [mod._params, mod._buffers]) {
        for (const [name, t] of [...map]) {
          let next = t;
          if (device !== undefined && t.device !== device) next = await t.to(device);
          if (dtype !== undefined && (next.dtype === 'float32' || next.dtype === 'float16') && next.dtype !== dtype) {
            const c = castTensor(next, dtype);
            if (next !== t) next.dispose();
            next = c;
          }
          if (next !== t) mod._replaceTensor(name, next);
        }
      }
    }
    return this;
  }

  _ignoresStateKey(localName: string): boolean {
    return this.ignoredStateKeys.has(localName);
  }

  // ---------------------------------------------------------------- traversal

  /** Direct children as [name, module]. */
  namedChildren(): [string, Module][] {
    return [...this._children];
  }

  /** This module ('') and every descendant, depth-first, with dotted paths. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this._children) out.push(...c.namedModules(join(prefix, n)));
    return out;
  }

  /** The descendant at a dotted path ('h.0.attn'); '' is this module. */
  getSubmodule(path: string): Module {
    let m: Module = this;
    for (const part of path === '' ? [] : path.split('.')) {
      const c = m._children.get(part);
      if (!c) throw new Error(`forwardpass: ${this.constructor.name}: no submodule '${path}' ('${part}' not found among: ${[...m._children.keys()].join(', ') || 'none'})`);
      m = c;
    }
    return m;
  }

  /**
   * Put `next` where the submodule at `path` ('h.0.mlp.c_fc') is, under the same name (like PyTorch's
   * set_submodule): in the parent's registry, in every field or list of the parent that pointed at the old module
   * (GPT's `c_fc`, Sequential's run order), and under the forward hooks that listened to it, so dotted paths,
   * state-dict keys and hooks stay valid. Returns the old module, not disposed.
   *
   * @example model.replaceSubmodule('fc1', new nn.Linear(64, 128)).dispose();
   */
  replaceSubmodule(path: string, next: Module): Module {
    if (path === '') throw new Error(`forwardpass: ${this.constructor.name}.replaceSubmodule: cannot replace the root module`);
    if (!(next instanceof Module)) throw new TypeError(`forwardpass: ${this.constructor.name}.replaceSubmodule: '${path}' must be replaced by a Module`);
    const dot = path.lastIndexOf('.');
    const parent = this.getSubmodule(dot < 0 ? '' : path.slice(0, dot));
    const old = this.getSubmodule(path);
    parent._children.set(path.slice(dot + 1), next);
    const fields = parent as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const v = fields[key];
      if (v === old) fields[key] = next;
      else if (Array.isArray(v)) v.forEach((item, i) => { if (item === old) v[i] = next; });
    }
    for (const e of [...old._hooks]) {
      next.attachHook(e.reg, e.path);
      old._detachHook(e.reg);
      e.reg.modules.delete(old);
    }
    return old;
  }

  /**
   * Every state tensor with its dotted name, as a PyTorch state_dict lists them: per module its
   * parameters, then its buffers (running_mean...), then its children in registration order.
   */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._params) out.push([join(prefix, n), t]);
    for (const [n, t] of this._buffers) out.push([join(prefix, n), t]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(join(prefix, n)));
    return out;
  }

  /** @internal Like namedParameters, with the owning module and local name of each entry. */
  _stateEntries(prefix = ''): { key: string; module: Module; local: string; tensor: Tensor }[] {
    const out: { key: string; module: Module; local: string; tensor: Tensor }[] = [];
    for (const [n, t] of [...this._params, ...this._buffers]) out.push({ key: join(prefix, n), module: this, local: n, tensor: t });
    for (const [n, c] of this._children) out.push(...c._stateEntries(join(prefix, n)));
    return out;
  }

  /** The state tensors by dotted name (the module's own tensors, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /** Total number of elements over namedParameters() (buffers included, as in a state dict). */
  parameterCount(): number {
    return this.namedParameters().reduce((s, [, t]) => s + t.size, 0);
  }

  /** Bytes held by the state tensors. */
  parameterBytes(): number {
    return this.namedParameters().reduce((s, [, t]) => s + t.size * dtypeBytes(t.dtype), 0);
  }

  /**
   * Replace the state tensors from `tensors` (a Map or object keyed by dotted names). Loaded tensors are
   * cast to the parameter's dtype. Strict (default): any missing key, unexpected key or shape mismatch
   * throws one error naming all of them. Non-strict: returns the missing/unexpected keys (shape
   * mismatches still throw). Nothing is changed when it throws.
   *
   * @example model.loadStateDict(loadSafetensors(bytes).tensors)
   */
  loadStateDict(tensors: StateDictInput, opts: { strict?: boolean } = {}): LoadStateDictResult {
    return loadStateDictInto(this, tensors, opts.strict ?? true);
  }

  /** Free every state tensor of this module and its descendants. The module is unusable afterwards. */
  dispose(): void {
    for (const [, t] of this.namedParameters()) t.dispose();
    for (const [, m] of this.namedModules()) m._disposed = true;
  }

  /** Set the training flag recursively (no behavioural effect: inference only). Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Same as train(false). */
  eval(): this {
    return this.train(false);
  }

  // ---------------------------------------------------------------- tracing

  /**
   * Run once on `inputs` (a tensor, a list for forward(...), or tensors by name for run()) and record every op:
   * see `trace()` in src/trace. @example const t = await model.trace({ input: x }, { values: 'full' });
   */
  trace(inputs: TraceInputs, opts?: TraceOptions): Promise<Trace> {
    if (!tracer) throw new Error(`forwardpass: ${this.constructor.name}.trace: the tracer is not loaded (import from 'forwardpass')`);
    return tracer.trace(this, inputs, opts);
  }

  /** The ops of one forward pass one at a time: see `steps()` in src/trace. @example for await (const s of model.steps(x)) show(s); */
  steps(inputs: TraceInputs, opts?: TraceOptions): AsyncGenerator<TraceRecord, void, undefined> {
    if (!tracer) throw new Error(`forwardpass: ${this.constructor.name}.steps: the tracer is not loaded (import from 'forwardpass')`);
    return tracer.steps(this, inputs, opts);
  }

  // ---------------------------------------------------------------- hooks and checkpoints

  /**
   * Call `hook` after the forward of this module and of every submodule (also ones added later), and for
   * every named checkpoint they record, with dotted paths relative to this module.
   *
   * @example const h = model.registerForwardHook((m, path, ins, out) => console.log(path)); h.remove();
   */
  registerForwardHook(hook: ForwardHook): HookHandle {
    const reg = new HookRegistration(hook);
    this.attachHook(reg, '');
    return reg;
  }

  private attachHook(reg: HookRegistration, path: string): void {
    this._hooks.push({ reg, path });
    reg.modules.add(this);
    for (const [n, c] of this._children) c.attachHook(reg, join(path, n));
  }

  /** @internal */
  _detachHook(reg: HookRegistration): void {
    this._hooks = this._hooks.filter((e) => e.reg !== reg);
  }

  /** True when a hook listens to this module: compute optional checkpoints (attention probs) only then. */
  get hooked(): boolean {
    return this._hooks.length > 0;
  }

  /**
   * Report an intermediate value under `<this module's path>.<name>` to listening hooks (the trace
   * steps that are not module outputs: 'embed', 'h.0.resid_attn', 'h.0.attn.probs'...). For use inside
   * forward() of this module or of helpers it calls.
   */
  checkpoint(name: string, value: Tensor): void {
    this.fire(name, this, [], value);
  }

  private fire(name: string, module: Module, inputs: readonly unknown[], output: unknown): void {
    for (const e of this._hooks) if (!e.reg.removed) e.reg.hook(module, join(e.path, name), inputs, output);
  }
}
