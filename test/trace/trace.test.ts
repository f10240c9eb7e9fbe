// trace() and steps() on the fixture models (CPU): one record per op a separate op hook sees, exact module paths,
// statistics equal to a naive computation over independently captured outputs, full values equal to trace.bin
// (1e-4), real layer-by-layer pausing for Sequential models, Module.trace/steps, and clear errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { traceInputs } from '../models/helpers.js';

const load = (name: string) => fp.loadModel(fixturePath(name));

/** Run `fn` while an independent op hook copies every op's name and first output. */
async function watch(fn: () => Promise<unknown>): Promise<{ op: string; values: Float32Array }[]> {
  const seen: { op: string; values: Float32Array }[] = [];
  const off = fp.addOpHook((e) => { seen.push({ op: e.op, values: Float32Array.from(e.outputs[0]!.dataSync()) }); });
  try {
    await fn();
  } finally {
    off();
  }
  return seen;
}

/** Naive statistics: finite min/max/mean/population std, NaN and Inf counts, `bins` equal bins over [min, max]. */
function naiveStats(v: Float32Array, bins: number) {
  const fin = Array.from(v).filter((x) => Number.isFinite(x));
  const min = Math.min(...fin), max = Math.max(...fin);
  const mean = fin.reduce((s, x) => s + x, 0) / fin.length;
  const std = Math.sqrt(fin.reduce((s, x) => s + (x - mean) ** 2, 0) / fin.length);
  const counts = new Array(bins).fill(0);
  for (const x of fin) {
    let b = max === min ? 0 : Math.floor(((x - min) / (max - min)) * bins);
    if (b === bins) b = bins - 1;
    counts[b]++;
  }
  return { min, max, mean, std, nan: Array.from(v).filter((x) => Number.isNaN(x)).length, inf: Array.from(v).filter((x) => x === Infinity || x === -Infinity).length, counts };
}

describe('trace on the fixture models', () => {
  it.each(['mlp-digits', 'tiny-gpt'])('%s: one record per op executed, stats equal a naive computation', async (name) => {
    const model = await load(name);
    const inputs = await traceInputs(name, model);
    let t!: fp.Trace;
    const seen = await watch(async () => { t = await fp.trace(model, inputs, { bins: 8 }); });
    expect(t.length).toBe(seen.length);
    expect(t.records.map((r) => r.op)).toEqual(seen.map((s) => s.op));
    expect(t.records.map((r) => r.index)).toEqual(seen.map((_, i) => i));
    for (const [i, r] of t.records.entries()) {
      const want = naiveStats(seen[i]!.values, 8);
      const st = r.output.stats!;
      expect(st.count, `op ${i}`).toBe(seen[i]!.values.length);
      expect([st.min, st.max, st.nan, st.inf], `op ${i} ${r.op}`).toEqual([want.min, want.max, want.nan, want.inf]);
      expect(Math.abs(st.mean - want.mean), `op ${i} mean`).toBeLessThan(1e-9 * Math.max(1, Math.abs(want.mean)) + 1e-12);
      expect(Math.abs(st.std - want.std), `op ${i} std`).toBeLessThan(1e-9 * Math.max(1, want.std) + 1e-12);
      expect(st.hist.counts, `op ${i} histogram`).toEqual(want.counts);
      expect(r.backend).toBe('cpu');
      expect(r.timing).toBe('cpu');
      expect(r.output.values).toBeUndefined();
    }
    model.dispose();
  });

  it('names module paths exactly (mlp-digits, tiny-gpt)', async () => {
    const mlp = await load('mlp-digits');
    const tm = await fp.trace(mlp, await traceInputs('mlp-digits', mlp));
    expect(tm.records.map((r) => [r.path, r.op])).toEqual([['fc1', 'linear'], ['relu1', 'relu'], ['fc2', 'linear'], ['relu2', 'relu'], ['fc3', 'linear']]);
    expect(tm.records.map((r) => r.marks)).toEqual([['fc1'], ['relu1'], ['fc2'], ['relu2'], ['fc3']]);
    expect(tm.records[0]!.inputs).toEqual([{ shape: [1, 64], dtype: 'float32' }, { shape: [128, 64], dtype: 'float32' }, { shape: [128], dtype: 'float32' }]);
    const gpt = await load('tiny-gpt');
    const tg = await fp.trace(gpt, await traceInputs('tiny-gpt', gpt));
    const at = (p: string) => tg.records.filter((r) => r.path === p).map((r) => r.op);
    expect(at('wte')).toEqual(['gather']);
    expect(at('h.0.ln_1')).toEqual(['layerNorm']);
    expect(at('h.0.attn.c_attn')).toEqual(['linear']);
    expect(at('h.1.mlp.gelu')).toEqual(['geluTanh']);
    expect(at('lm_head')).toEqual(['linear']);
    expect(at('')).toEqual(['add']); // tok + pos in GPT.forward itself
    expect(tg.find('h.0.attn.c_attn')!.output.shape).toEqual([13, 192]);
    expect(tg.find('h.1.resid_attn')!.path).toBe('h.1');
    expect(tg.under('h.0.mlp').map((r) => r.path)).toEqual(['h.0.mlp.c_fc', 'h.0.mlp.gelu', 'h.0.mlp.c_proj']);
  });

  it.each(['mlp-digits', 'cnn-digits', 'tiny-gpt', 'tiny-bert-cls'])('%s: full values equal trace.bin (1e-4)', async (name) => {
    const model = await load(name);
    const t = await fp.trace(model, await traceInputs(name, model), { values: 'full' });
    const ref = await fp.loadFixtureTrace(fixturePath(name));
    let compared = 0;
    for (const { name: layer, tensor } of ref) {
      const want = (await tensor.data()) as Float32Array;
      tensor.dispose();
      if (layer === 'input') continue; // the network input is no op output
      const r = t.records.find((x) => x.marks.includes(layer));
      expect(r, `a record marked '${layer}'`).toBeDefined();
      expect(r!.output.values!.length, layer).toBe(want.length);
      expect(maxAbsDiff(r!.output.values!, want), layer).toBeLessThan(1e-4);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(ref.length - 1);
    model.dispose();
  });
});

describe('steps', () => {
  it('yields the same records as trace, one at a time', async () => {
    const model = await load('tiny-gpt');
    const inputs = await traceInputs('tiny-gpt', model);
    const t = await fp.trace(model, inputs, { values: 'full' });
    const got: fp.TraceRecord[] = [];
    for await (const s of fp.steps(model, inputs, { values: 'full' })) got.push(s);
    expect(got.map((r) => [r.index, r.path, r.op])).toEqual(t.records.map((r) => [r.index, r.path, r.op]));
    expect(maxAbsDiff(got[got.length - 1]!.output.values!, t.records[t.length - 1]!.output.values!)).toBe(0);
  });

  it('really pauses a Sequential model between layers; other models run at the first step', async () => {
    const mlp = await load('mlp-digits');
    const x = (await traceInputs('mlp-digits', mlp)).input!;
    let ran = 0;
    const off = fp.addOpHook(() => { ran++; });
    const it1 = fp.steps(mlp, x);
    expect(ran).toBe(0);
    const first = await it1.next();
    expect(first.value).toMatchObject({ path: 'fc1', op: 'linear' });
    expect(ran).toBe(1); // relu1 has not run yet
    await it1.next();
    expect(ran).toBe(2);
    await it1.return(undefined);
    ran = 0;
    const gpt = await load('tiny-gpt');
    const it2 = gpt.steps(await traceInputs('tiny-gpt', gpt));
    await it2.next();
    expect(ran).toBe(49); // the whole forward (with attention probabilities for the checkpoint hook)
    await it2.return(undefined);
    off();
  });

  it('drives a stepwise(inputs) model (an ONNX-session-like node runner) one piece per request', async () => {
    let ran = 0;
    const session = {
      *stepwise(inputs: Record<string, fp.Tensor>) {
        const a = fp.withOpContext('/n0/Mul', () => fp.mul(inputs.x!, 3));
        yield;
        const b = fp.withOpContext('/n1/Add', () => fp.add(a, 1));
        yield;
        return { y: b };
      },
    };
    const off = fp.addOpHook(() => { ran++; });
    const it = fp.steps(session, { x: fp.tensor([1, 2]) }, { values: 'full' });
    const first = await it.next();
    expect(first.value).toMatchObject({ path: '/n0/Mul', node: '/n0/Mul', op: 'mul' });
    expect(ran).toBe(1);
    const second = await it.next();
    expect(ran).toBe(2);
    expect(Array.from((second.value as fp.TraceRecord).output.values!)).toEqual([4, 7]);
    expect((await it.next()).done).toBe(true);
    const whole = await fp.trace(session, { x: fp.tensor([1, 2]) });
    expect(whole.records.map((r) => r.path)).toEqual(['/n0/Mul', '/n1/Add']);
    const asyncSession = {
      async *stepwise(inputs: Record<string, fp.Tensor>) {
        const a = fp.withOpContext('/n0/Neg', () => fp.neg(inputs.x!));
        yield;
        await Promise.resolve();
        return { y: fp.withOpContext('/n1/Exp', () => fp.exp(a)) };
      },
    };
    ran = 0;
    const it2 = fp.steps(asyncSession, { x: fp.tensor([0]) });
    expect((await it2.next()).value).toMatchObject({ path: '/n0/Neg', op: 'neg' });
    expect(ran).toBe(1);
    expect((await it2.next()).value).toMatchObject({ path: '/n1/Exp', op: 'exp' });
    expect((await it2.next()).done).toBe(true);
    off();
  });

  it('hands out the ops that ran before an error, then throws it', async () => {
    const bad = new fp.nn.Sequential(new fp.nn.Linear(4, 3), new fp.nn.ReLU(), new fp.nn.Linear(5, 2));
    const got: string[] = [];
    await expect((async () => { for await (const s of fp.steps(bad, fp.ones([1, 4]))) got.push(`${s.path}:${s.op}`); })()).rejects.toThrow(/Linear\(5 -> 2\): expected an input/);
    expect(got).toEqual(['0:linear', '1:relu']);
    await expect(fp.trace(bad, fp.ones([1, 4]))).rejects.toThrow(/Linear\(5 -> 2\): expected an input/);
  });
});

describe('trace API details', () => {
  it('Module.trace traces forward(x) and run({ name: x }) alike', async () => {
    const mlp = await load('mlp-digits');
    const x = (await traceInputs('mlp-digits', mlp)).input!;
    const a = await mlp.trace(x, { values: 'full' });
    const b = await mlp.trace({ input: x }, { values: 'full' });
    expect(a.records.map((r) => r.op)).toEqual(b.records.map((r) => r.op));
    expect(maxAbsDiff(a.records[4]!.output.values!, b.records[4]!.output.values!)).toBe(0);
    const y = (await mlp.forward(x).data()) as Float32Array;
    expect(maxAbsDiff(a.records[4]!.output.values!, y)).toBe(0);
  });

  it('labels ONNX-style node names from the op-context stack', async () => {
    const session = {
      run(inputs: Record<string, fp.Tensor>) {
        const h = fp.withOpContext('/fc/Gemm', () => fp.mul(inputs.x!, 2));
        return { y: fp.withOpContext('/act/Relu', () => fp.relu(h)) };
      },
    };
    const t = await fp.trace(session, { x: fp.tensor([-1, 2]) }, { values: 'full' });
    expect(t.records.map((r) => [r.path, r.node, r.op])).toEqual([['/fc/Gemm', '/fc/Gemm', 'mul'], ['/act/Relu', '/act/Relu', 'relu']]);
    expect(Array.from(t.records[1]!.output.values!)).toEqual([0, 4]);
  });

  it('counts NaN and Inf, keeps f16 and int outputs as float32 values', async () => {
    const x = fp.tensor([1, 0, -1, 4]);
    const m = { forward: (a: fp.Tensor) => fp.cast(fp.log(a), 'float16') };
    const t = await fp.trace(m, x, { values: 'full', bins: 2 });
    const log = t.records.find((r) => r.op === 'log')!;
    expect(log.output.stats).toMatchObject({ count: 4, nan: 1, inf: 1, min: 0, max: Math.fround(Math.log(4)) });
    expect(log.output.stats!.hist.counts).toEqual([1, 1]);
    const c = t.records[t.length - 1]!;
    expect(c.output.dtype).toBe('float16');
    expect(c.output.values).toBeInstanceOf(Float32Array);
    expect(c.output.values![0]).toBe(0);
  });

  it('refuses a second trace while one is recording (the op hook is global across awaits)', async () => {
    const x = fp.tensor([-1, 2]);
    const slow = { run: async (i: Record<string, fp.Tensor>) => { await new Promise((r) => setTimeout(r, 20)); return fp.relu(i.x!); } };
    const overlap = /^forwardpass: trace: another trace is running; traces cannot overlap$/;
    const first = fp.trace(slow, { x });
    await expect(fp.trace(slow, { x })).rejects.toThrow(overlap);
    const it = fp.steps(slow, { x });
    await expect(it.next()).rejects.toThrow(overlap);
    expect((await first).records.map((r) => r.op)).toEqual(['relu']); // only its own op
    expect((await fp.trace(slow, { x })).length).toBe(1); // free again once the first finished
    const s = fp.steps(slow, { x });
    const pending = s.next();
    await expect(fp.trace(slow, { x })).rejects.toThrow(overlap);
    expect((await pending).value).toMatchObject({ op: 'relu' });
    await s.return();
    x.dispose();
  });

  it('refuses bad options and inputs with one clear sentence', async () => {
    const mlp = await load('mlp-digits');
    const x = fp.zeros([1, 64]);
    await expect(fp.trace(mlp, x, { values: 'all' as never })).rejects.toThrow(/^forwardpass: trace: values must be 'none', 'stats' or 'full', got 'all'$/);
    await expect(fp.trace(mlp, x, { bins: 0 })).rejects.toThrow(/^forwardpass: trace: bins must be an integer from 1 to 4096, got 0$/);
    await expect(fp.trace({ forward: (a: fp.Tensor) => a }, { x })).rejects.toThrow(/^forwardpass: trace: named inputs need a model with run\(inputs\)/);
    await expect(fp.trace(mlp, 3 as never)).rejects.toThrow(/^forwardpass: trace: inputs must be a Tensor, a list of tensors or tensors by name, got number$/);
    await expect(fp.trace(null as never, x)).rejects.toThrow(/^forwardpass: trace: expected a model/);
  });
});
