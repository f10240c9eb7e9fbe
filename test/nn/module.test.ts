// nn.Module: registration and state-dict order, loadStateDict (errors, non-strict, dtype cast), forward hooks
// and checkpoints with dotted paths, per-forward scopes, containers, dispose and flags.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';

const { nn } = fp;

/** y = x·scale + shift, with an optional float16 scale to test casting on load. */
class Affine extends nn.Module {
  lastTemp: fp.Tensor | null = null;
  constructor(n: number, dtype: fp.DType = 'float32') {
    super();
    this.registerParameter('scale', fp.ones([n], { dtype }));
    this.registerBuffer('shift', fp.zeros([n]));
  }
  override forward(x: fp.Tensor): fp.Tensor {
    const t = fp.mul(x, this.getParameter('scale'));
    this.lastTemp = t;
    this.checkpoint('scaled', t);
    return fp.add(t, this.getParameter('shift'));
  }
}

class Net extends nn.Module {
  readonly a: Affine;
  readonly inner: fp.nn.Sequential;
  constructor() {
    super();
    this.a = this.registerModule('a', new Affine(3));
    this.inner = this.registerModule('inner', new nn.Sequential(new Affine(3), new nn.ReLU()));
  }
  override forward(x: fp.Tensor): fp.Tensor {
    return this.inner.forward(this.a.forward(x));
  }
}

const vec = (vals: number[]) => fp.tensor(vals);

describe('Module registration and state dicts', () => {
  it('lists parameters then buffers per module, children in order, as a PyTorch state_dict', () => {
    const net = new Net();
    expect(net.namedParameters().map(([k]) => k)).toEqual(['a.scale', 'a.shift', 'inner.0.scale', 'inner.0.shift']);
    const bn = new nn.BatchNorm2d(4);
    expect([...bn.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
    expect(bn.parameterCount()).toBe(16);
    expect(bn.parameterBytes()).toBe(64);
    const half = new Affine(5, 'float16');
    expect(half.parameterBytes()).toBe(5 * 2 + 5 * 4);
    expect(net.namedModules().map(([k]) => k)).toEqual(['', 'a', 'inner', 'inner.0', 'inner.1']);
    expect(net.getSubmodule('inner.0')).toBeInstanceOf(Affine);
    expect(() => net.getSubmodule('inner.7')).toThrow(/no submodule 'inner.7' \('7' not found among: 0, 1\)/);
  });

  it('rejects duplicate and dotted names', () => {
    const m = new Affine(2);
    expect(() => m.registerBuffer('scale', fp.zeros([2]))).toThrow(/the name 'scale' is already registered/);
    expect(() => m.registerModule('x.y', new nn.ReLU())).toThrow(/without dots, got 'x.y'/);
  });

  it('loads tensors (views of the caller\'s, so it may dispose its own) and casts to the parameter dtype', async () => {
    const m = new Affine(3, 'float16');
    const scale = vec([0.5, 2, -1.25]);
    const shift = vec([1, 2, 3]);
    const res = m.loadStateDict({ scale, shift });
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    scale.dispose();
    shift.dispose();
    expect(m.getParameter('scale').dtype).toBe('float16');
    const y = m.forward(vec([2, 2, 2]));
    expect(Array.from(await y.data())).toEqual([2, 6, 0.5]);
  });

  it('reports every missing key, unexpected key and shape mismatch in one error, changing nothing', async () => {
    const net = new Net();
    const sd = new Map<string, fp.Tensor>([
      ['a.scale', vec([5, 5, 5])],
      ['a.shift', fp.zeros([4])],
      ['inner.0.scale', fp.zeros([3, 1])],
      ['extra.weight', fp.zeros([1])],
      ['bogus', fp.zeros([2])],
    ]);
    let msg = '';
    try { net.loadStateDict(sd); } catch (e) { msg = (e as Error).message; }
    expect(msg).toMatch(/^forwardpass: Net\.loadStateDict: the state dict does not fit the model: /);
    expect(msg).toContain('1 missing key (inner.0.shift)');
    expect(msg).toContain('2 unexpected keys (extra.weight, bogus)');
    expect(msg).toContain('2 shape mismatches (a.shift: model [3] vs state dict [4], inner.0.scale: model [3] vs state dict [3, 1])');
    // nothing was loaded, not even the matching a.scale
    expect(Array.from(await net.a.getParameter('scale').data())).toEqual([1, 1, 1]);
  });

  it('non-strict: returns missing and unexpected keys, but shape mismatches still throw', async () => {
    const net = new Net();
    const res = net.loadStateDict({ 'a.scale': vec([3, 3, 3]), 'zzz': vec([1]) }, { strict: false });
    expect(res.missingKeys).toEqual(['a.shift', 'inner.0.scale', 'inner.0.shift']);
    expect(res.unexpectedKeys).toEqual(['zzz']);
    expect(Array.from(await net.a.getParameter('scale').data())).toEqual([3, 3, 3]);
    expect(() => net.loadStateDict({ 'a.scale': vec([1, 2]) }, { strict: false })).toThrow(/1 shape mismatch \(a\.scale: model \[3\] vs state dict \[2\]\)/);
    expect(() => net.loadStateDict({ 'a.scale': [1, 2, 3] as never }, { strict: false })).toThrow(/a\.scale: not a Tensor but an array/);
  });

  it("accepts and ignores BatchNorm's num_batches_tracked", () => {
    const bn = new nn.BatchNorm2d(2);
    const sd = Object.fromEntries(bn.namedParameters().map(([k, t]) => [k, fp.zeros(t.shape)]));
    expect(bn.loadStateDict({ ...sd, num_batches_tracked: fp.zeros([], { dtype: 'int32' }) })).toEqual({ missingKeys: [], unexpectedKeys: [] });
  });

  it('dispose frees every state tensor; train/eval set the flag recursively', () => {
    const net = new Net();
    const tensors = net.namedParameters().map(([, t]) => t);
    expect(net.eval()).toBe(net);
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.train();
    expect(net.inner.at(1).training).toBe(true);
    net.dispose();
    expect(tensors.every((t) => t.disposed)).toBe(true);
  });
});

describe('forward hooks and checkpoints', () => {
  it('fires for every submodule and checkpoint with dotted paths, in execution order', async () => {
    const net = new Net();
    const seen: [string, string, number[]][] = [];
    const h = net.registerForwardHook((m, path, inputs, out) => {
      seen.push([path, m.constructor.name, Array.from((out as fp.Tensor).dataSync())]);
      if (path === 'a') expect(inputs.length).toBe(1);
    });
    const y = net.forward(vec([-1, 2, 3]));
    expect(seen.map((s) => s[0])).toEqual(['a.scaled', 'a', 'inner.0.scaled', 'inner.0', 'inner.1', 'inner', '']);
    expect(seen[4]).toEqual(['inner.1', 'ReLU', [0, 2, 3]]);
    expect(Array.from(await y.data())).toEqual([0, 2, 3]);
    h.remove();
    seen.length = 0;
    net.forward(vec([1, 1, 1]));
    expect(seen).toEqual([]);
  });

  it('uses paths relative to the module it was registered on, and reaches modules added later', () => {
    const net = new Net();
    const paths: string[] = [];
    net.inner.registerForwardHook((_m, path) => paths.push(path));
    net.inner.append(new nn.Tanh(), 'late');
    net.forward(vec([1, 2, 3]));
    expect(paths).toEqual(['0.scaled', '0', '1', 'late', '']);
  });

  it('runs each forward in a scope: intermediates are freed, the output survives', () => {
    const m = new Affine(2);
    const y = m.forward(vec([1, 2]));
    expect(m.lastTemp!.disposed).toBe(true);
    expect(y.disposed).toBe(false);
  });

  it('rejects an asynchronous forward and a module without forward', () => {
    class Bad extends nn.Module {
      override async forward(x: fp.Tensor) { return x; }
    }
    expect(() => new Bad().forward(vec([1]))).toThrow(/Bad\.forward: returned a Promise; forward must be synchronous/);
    expect(() => new nn.ModuleList([new nn.ReLU()]).forward(vec([1]))).toThrow(/ModuleList: this module has no forward\(\)/);
  });
});

describe('containers', () => {
  it('Sequential names children by index or by given names and chains them', async () => {
    const s = new nn.Sequential([['act', new nn.ReLU()], ['sq', new nn.Tanh()]]);
    expect(s.namedChildren().map(([k]) => k)).toEqual(['act', 'sq']);
    expect(s.length).toBe(2);
    const y = s.forward(vec([-1, 0.5]));
    expect(Array.from(await y.data())[1]).toBeCloseTo(Math.tanh(0.5), 6);
    expect(new nn.Sequential(new nn.ReLU(), new nn.ReLU()).namedChildren().map(([k]) => k)).toEqual(['0', '1']);
    expect(() => s.at(5)).toThrow(/index 5 is out of range for 2 modules/);
  });

  it('ModuleList indexes children 0..n-1 and iterates', () => {
    const l = new nn.ModuleList([new nn.ReLU(), new nn.SiLU()]);
    expect([...l].map((m) => m.constructor.name)).toEqual(['ReLU', 'SiLU']);
    expect(l.at(-1)).toBeInstanceOf(nn.SiLU);
    expect(l.namedChildren().map(([k]) => k)).toEqual(['0', '1']);
  });
});

describe('Module.to', () => {
  it('casts float parameters to float16 (halving their bytes), keeps the forward close, and rejects other dtypes', async () => {
    const m = new fp.nn.Sequential([['fc', new fp.nn.Linear(8, 4)], ['act', new fp.nn.GELU()]]);
    m.loadStateDict({ 'fc.weight': fp.randn([4, 8], { seed: 1 }), 'fc.bias': fp.randn([4], { seed: 2 }) });
    const x = fp.randn([3, 8], { seed: 3 });
    const ref = await m.forward(x).data();
    const bytes = m.parameterBytes();
    await m.to({ dtype: 'float16' });
    expect([...m.namedParameters()].map(([, t]) => t.dtype)).toEqual(['float16', 'float16']);
    expect(m.parameterBytes()).toBe(bytes / 2);
    const half = await m.forward(x).data();
    let d = 0;
    for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(half[i]! - ref[i]!));
    expect(d).toBeGreaterThan(0); // the weights really changed precision
    expect(d).toBeLessThan(1e-2); // f16 weights, |x·w| ~ 3: a few half ULPs
    await expect(m.to({ dtype: 'int8' as never })).rejects.toThrow("forwardpass: Sequential.to: dtype must be 'float32' or 'float16', got 'int8'");
  });
});

describe('op context', () => {
  it('hooks see the stack of modules whose forward is running, outermost first, plus labels pushed by withOpContext', () => {
    const fc = new nn.Linear(4, 2);
    const act = new nn.ReLU();
    const m = new nn.Sequential([['fc', fc], ['act', act]]);
    const seen: { op: string; context: readonly unknown[] }[] = [];
    const off = fp.addOpHook((e) => seen.push({ op: e.op, context: e.context }));
    try {
      m.forward(fp.ones([1, 4]));
      fp.withOpContext('node_7', () => fp.neg(fp.ones([2])));
    } finally {
      off();
    }
    const linear = seen.find((s) => s.op === 'linear')!;
    expect(linear.context).toEqual([m, fc]);
    const relu = seen.find((s) => s.context.includes(act))!;
    expect(relu.context).toEqual([m, act]);
    expect(seen.at(-1)!.context).toEqual(['node_7']);
  });
});

describe('Module.replaceSubmodule', () => {
  it('swaps a child under the same name: forward order, fields, state-dict keys and hooks follow the new module', () => {
    const m = new nn.Sequential([['fc', new nn.Linear(4, 3)], ['act', new nn.ReLU()]]);
    const paths: string[] = [];
    m.registerForwardHook((_mod, path) => paths.push(path));
    const next = new nn.Linear(4, 3);
    next.loadStateDict({ weight: fp.zeros([3, 4]), bias: fp.full([3], -2) });
    const old = m.replaceSubmodule('fc', next);
    expect(old).toBeInstanceOf(nn.Linear);
    expect(old).not.toBe(next);
    expect(m.getSubmodule('fc')).toBe(next);
    expect([...m.stateDict().keys()]).toEqual(['fc.weight', 'fc.bias']);
    expect(Array.from(m.forward(fp.ones([1, 4])).dataSync())).toEqual([0, 0, 0]); // the new fc runs: relu(-2) = 0
    expect(paths).toEqual(['fc', 'act', '']);
    expect(() => m.replaceSubmodule('', next)).toThrow(/cannot replace the root module/);
    expect(() => m.replaceSubmodule('nope', next)).toThrow(/no submodule 'nope'/);
    old.dispose();
  });
});
