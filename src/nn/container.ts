// Containers: Sequential (children run in order, named by index or given names) and ModuleList (indexed, no forward).
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * Runs its children in order, each on the previous one's output. Children are named '0', '1', ...
 * or by the names given as [name, module] pairs (the state-dict prefixes).
 *
 * @example new Sequential(new Linear(64, 32), new ReLU()); new Sequential([['fc1', fc1], ['act', new ReLU()]])
 */
export class Sequential extends Module {
  private readonly order: Module[] = [];
  constructor(...args: Module[] | [readonly (readonly [string, Module])[]]) {
    super();
    const first = args[0];
    if (args.length === 1 && Array.isArray(first)) for (const [name, m] of first) this.append(m, name);
    else for (const m of args as Module[]) this.append(m);
  }

  /** Add a module at the end, named `name` or by its index. Returns this. */
  append(module: Module, name = String(this.order.length)): this {
    this.registerModule(name, module);
    this.order.push(module);
    return this;
  }

  get length(): number {
    return this.order.length;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const m = this.order[i < 0 ? i + this.order.length : i];
    if (!m) throw new RangeError(`forwardpass: Sequential: index ${i} is out of range for ${this.order.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.order[Symbol.iterator]();
  }

  override forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.order) h = m.forward(h);
    return h;
  }
}

/** An indexed list of modules (children '0', '1', ...) without a forward of its own. @example new ModuleList([blockA, blockB]).at(1) */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];
  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.append(m);
  }
  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i < 0 ? i + this.items.length : i];
    if (!m) throw new RangeError(`forwardpass: ModuleList: index ${i} is out of range for ${this.items.length} modules`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
