// Graph capture and replay of ONNX sessions on the CPU (src/io/onnx/replay.ts): a replayed run gives the normal
// path's outputs bit for bit (the fixture models at batch 1 and 8, new feed data each run, shapes alternating), runs
// whose work depends on input values are not replayed and stay correct, tracers still see every node, outputs
// belong to the caller, and dispose() gives back everything replay held.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { syntheticInputs, type HostInputs } from '../../src/cli/bench-inputs.js';
import { readModelConfig } from '../../src/cli/bench-models.js';
import { makeRng } from '../../src/tensor/creation.js';
import { fixturePath } from '../helpers.js';
import { f32c, i64, makeModel } from './onnx/session-helpers.js';

const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls', 'tiny-gpt'];
const bytes = (name: string) => readFileSync(fixturePath(name, 'model.onnx'));
const cpu = fp.cpuBackend;
/** Live CPU bytes plus those the collector released meanwhile (other tests leave tensors to it). */
const held = () => { const m = cpu.memory(); return m.liveBytes + m.leakedBytes!; };

/** Synthetic inputs of batch B (seeded), attention masks with a random number of trailing zeros per row. */
function inputsOf(name: string, B: number, seed: number): HostInputs {
  const x = syntheticInputs(readModelConfig(fixturePath(name)), B, seed);
  const mask = x.attention_mask;
  if (mask) {
    const rng = makeRng(seed + 1), [rows, T] = mask.shape as [number, number];
    for (let r = 0; r < rows; r++) for (let t = T - Math.floor(rng() * (T - 1)); t < T; t++) mask.data[r * T + t] = 0;
  }
  return x;
}

const tensors = (x: HostInputs) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, fp.tensor(v.data, { shape: v.shape, dtype: v.dtype })]));

/** Every output's values as plain arrays (and shapes), the outputs disposed. */
async function values(out: Record<string, fp.Tensor>): Promise<Record<string, { shape: number[]; data: number[] }>> {
  const r: Record<string, { shape: number[]; data: number[] }> = {};
  for (const [k, t] of Object.entries(out)) {
    r[k] = { shape: [...t.shape], data: Array.from(await t.data()) };
    t.dispose();
  }
  return r;
}

/** Bit patterns of float values (so that -0 and NaN payloads compare too). */
const bits = (v: Record<string, { shape: number[]; data: number[] }>) =>
  Object.fromEntries(Object.entries(v).map(([k, x]) => [k, { shape: x.shape, bits: Array.from(new Uint32Array(Float32Array.from(x.data).buffer)) }]));

describe('ONNX graph replay on the CPU', () => {
  for (const name of MODELS) {
    it(`${name}: replayed runs equal the normal path bit for bit at batch 1 and 8, new data every run, shapes alternating`, async () => {
      const on = await fp.loadOnnx(bytes(name), { backend: 'cpu' });
      const off = await fp.loadOnnx(bytes(name), { backend: 'cpu', replay: false });
      expect(on.replayInfo.enabled).toBe(true);
      expect(off.replayInfo).toMatchObject({ enabled: false, replays: 0 });
      for (let i = 0; i < 10; i++) {
        const B = i % 2 ? 8 : 1;
        const x = inputsOf(name, B, 100 + i);
        // tensors for one session, typed arrays for the other half of the time (where one dim is symbolic, so that a
        // typed array can be shaped)
        const arrays = i % 4 >= 2 && on.inputs.every((v) => v.shape.filter((d) => typeof d !== 'number').length === 1);
        const a = await values(await on.run(arrays ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.data])) : tensors(x)));
        const b = await values(await off.run(tensors(x)));
        expect(bits(a), `${name} run ${i} B=${B}`).toEqual(bits(b));
      }
      // runs 1-2 of each shape are normal (the 2nd records it), runs 3-5 replay
      expect(on.replayInfo.shapes.sort()).toHaveLength(2);
      expect(on.replayInfo.replays).toBe(6);
      expect(on.replayInfo.refused).toEqual({});
      on.dispose();
      off.dispose();
    });
  }

  it('at precision f16 and int8 (prepared weights) replay equals the normal path too', async () => {
    for (const precision of ['f16', 'int8'] as const) {
      for (const name of ['mlp-digits', 'tiny-bert-cls']) {
        const on = await fp.loadOnnx(bytes(name), { backend: 'cpu', precision });
        const off = await fp.loadOnnx(bytes(name), { backend: 'cpu', precision, replay: false });
        for (let i = 0; i < 4; i++) {
          const x = inputsOf(name, 3, 60 + i);
          expect(bits(await values(await on.run(tensors(x)))), `${name} ${precision}`).toEqual(bits(await values(await off.run(tensors(x)))));
        }
        expect(on.replayInfo.replays, `${name} ${precision}`).toBe(2);
        on.dispose();
        off.dispose();
      }
    }
  });

  it('FORWARDPASS_WASM has its own twin: replay equals the normal path with the fast path off too', async () => {
    const was = fp.cpuFastPathEnabled();
    fp.setCpuFastPath(false);
    try {
      for (const name of ['cnn-digits', 'tiny-bert-cls']) {
        const on = await fp.loadOnnx(bytes(name), { backend: 'cpu' });
        const off = await fp.loadOnnx(bytes(name), { backend: 'cpu', replay: false });
        for (let i = 0; i < 4; i++) {
          const x = inputsOf(name, 2, 7 + i);
          expect(bits(await values(await on.run(tensors(x))))).toEqual(bits(await values(await off.run(tensors(x)))));
        }
        expect(on.replayInfo.replays).toBe(2);
        on.dispose();
        off.dispose();
      }
    } finally {
      fp.setCpuFastPath(was);
    }
  });

  it('replays under worker threads (setNumThreads) as on one thread', async () => {
    const before = fp.getNumThreads();
    const on = await fp.loadOnnx(bytes('tiny-gpt'), { backend: 'cpu' });
    const off = await fp.loadOnnx(bytes('tiny-gpt'), { backend: 'cpu', replay: false });
    try {
      await fp.setNumThreads(2);
      for (let i = 0; i < 5; i++) {
        const x = inputsOf('tiny-gpt', 8, 40 + i);
        expect(bits(await values(await on.run(tensors(x))))).toEqual(bits(await values(await off.run(tensors(x)))));
      }
      expect(on.replayInfo.replays).toBe(3);
    } finally {
      await fp.setNumThreads(before);
      on.dispose();
      off.dispose();
    }
  });

  it('outputs belong to the caller: disposing one does not break the next run, a next run does not overwrite them', async () => {
    const s = await fp.loadOnnx(bytes('mlp-digits'), { backend: 'cpu' });
    const x = (seed: number) => tensors(inputsOf('mlp-digits', 1, seed));
    const kept: { t: fp.Tensor; want: number[] }[] = [];
    for (let i = 0; i < 6; i++) {
      const { logits } = await s.run(x(i));
      const want = Array.from(await logits!.data());
      if (i % 2) logits!.dispose();
      else kept.push({ t: logits!, want });
    }
    expect(s.replayInfo.replays).toBe(4);
    for (const k of kept) expect(Array.from(await k.t.data())).toEqual(k.want);
    // three different inputs gave three different outputs (no run handed back another run's buffer)
    expect(new Set(kept.map((k) => k.want.join()))).toHaveProperty('size', 3);
    kept.forEach((k) => k.t.dispose());
    s.dispose();
  });

  it('holds its intermediates as live memory, frees them on dispose, and leaks nothing over 10,000 runs', async () => {
    const base = held();
    const x = tensors(inputsOf('mlp-digits', 1, 3));
    const s = await fp.loadOnnx(bytes('mlp-digits'), { backend: 'cpu' });
    const loaded = held();
    for (let i = 0; i < 3; i++) (await s.run(x)).logits!.dispose();
    const captured = held();
    expect(captured - loaded).toBe(s.replayInfo.bytes); // what replay holds is live, and counted
    expect(s.replayInfo.bytes).toBeGreaterThan(0);
    for (let i = 0; i < 10_000; i++) (await s.run(x)).logits!.dispose();
    expect(held()).toBe(captured);
    s.dispose();
    Object.values(x).forEach((t) => t.dispose());
    expect(held()).toBe(base);
  });

  it('runs inside scope() (which disposes what the capture run made) replay correctly afterwards', async () => {
    const on = await fp.loadOnnx(bytes('tiny-bert-cls'), { backend: 'cpu' });
    const off = await fp.loadOnnx(bytes('tiny-bert-cls'), { backend: 'cpu', replay: false });
    for (let i = 0; i < 5; i++) {
      const x = inputsOf('tiny-bert-cls', 2, 80 + i);
      const a = await fp.scope(async () => values(await on.run(tensors(x))));
      expect(bits(a)).toEqual(bits(await values(await off.run(tensors(x)))));
    }
    expect(on.replayInfo.replays).toBe(3);
    on.dispose();
    off.dispose();
  });

  it('shape errors and missing inputs read as they do without replay, also for a shape captured before', async () => {
    const errorOf = async (s: fp.OnnxSession, feeds: Record<string, fp.OnnxFeed>) => { try { await s.run(feeds); return 'no error'; } catch (e) { return (e as Error).message; } };
    const on = await fp.loadOnnx(bytes('tiny-bert-cls'), { backend: 'cpu' });
    const off = await fp.loadOnnx(bytes('tiny-bert-cls'), { backend: 'cpu', replay: false });
    const x = tensors(inputsOf('tiny-bert-cls', 1, 5));
    for (let i = 0; i < 3; i++) await values(await on.run(x));
    expect(on.replayInfo.replays).toBe(1);
    const bad: Record<string, fp.OnnxFeed>[] = [
      { input_ids: x.input_ids!, attention_mask: fp.ones([1, 15], { dtype: 'int32' }) },
      { input_ids: x.input_ids! },
      { ...x, extra: x.input_ids! },
      { input_ids: x.input_ids!, attention_mask: fp.ones([1, 16]) },
      { input_ids: new Int32Array(16).fill(1e6), attention_mask: new Int32Array(16).fill(1) }, // ids beyond the vocabulary
      { input_ids: new Float32Array(16), attention_mask: new Int32Array(16) },
    ];
    for (const feeds of bad) {
      const want = await errorOf(off, feeds);
      expect(want).not.toBe('no error');
      expect(await errorOf(on, feeds)).toBe(want);
    }
    // and the captured shape still replays correctly afterwards
    expect(bits(await values(await on.run(x)))).toEqual(bits(await values(await off.run(x))));
    on.dispose();
    off.dispose();
  });

  it('a graph output that is a graph input, a constant or a view comes back as a fresh copy each run', async () => {
    const m = makeModel(17, [
      { op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [1, 0] } },
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Identity', inputs: ['c'], outputs: ['k'] },
    ], { x: ['float', ['a', 'b']] }, ['t', 's', 'k', 'x'], { c: f32c([1, 2, 3]) });
    const on = await fp.OnnxSession.fromModel(m, { backend: 'cpu' });
    const off = await fp.OnnxSession.fromModel(m, { backend: 'cpu', replay: false });
    for (let i = 0; i < 6; i++) {
      const shape = i % 2 ? [2, 3] : [3, 5];
      const x = fp.tensor(Float32Array.from({ length: shape[0]! * shape[1]! }, (_, j) => j * (i + 1) - 7), { shape });
      const a = await on.run({ x }), b = await off.run({ x });
      expect(a.x).not.toBe(x);
      expect(await values(a)).toEqual(await values(b));
      x.dispose();
    }
    expect(on.replayInfo.replays).toBe(2);
    on.dispose();
    off.dispose();
  });

  it('int64 inputs take Int32Array, BigInt64Array and int32 tensors alike, replayed', async () => {
    const m = makeModel(17, [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['y'], attrs: { axis: 0 } }], { ids: ['int64', ['n']] }, ['y'],
      { table: f32c(Array.from({ length: 12 }, (_, i) => i * 0.5 - 2), [6, 2]) });
    const on = await fp.OnnxSession.fromModel(m, { backend: 'cpu' });
    const off = await fp.OnnxSession.fromModel(m, { backend: 'cpu', replay: false });
    for (let i = 0; i < 9; i++) {
      const ids = [i % 6, (i * 5) % 6, 5 - (i % 6)];
      const feed = i % 3 === 0 ? new BigInt64Array(ids.map(BigInt)) : i % 3 === 1 ? Int32Array.from(ids) : fp.tensor(ids, { dtype: 'int32' });
      expect(await values(await on.run({ ids: feed }))).toEqual(await values(await off.run({ ids: feed })));
    }
    expect(on.replayInfo.replays).toBe(7);
    on.dispose();
    off.dispose();
  });

  /** Run both sessions on each feed set three times; returns how many runs `on` replayed. */
  async function sameAsNormal(m: fp.OnnxModel, feeds: Record<string, fp.OnnxFeed>[]): Promise<fp.OnnxSession> {
    const on = await fp.OnnxSession.fromModel(m, { backend: 'cpu' });
    const off = await fp.OnnxSession.fromModel(m, { backend: 'cpu', replay: false });
    for (let rep = 0; rep < 3; rep++) for (const f of feeds) expect(await values(await on.run(f))).toEqual(await values(await off.run(f)));
    off.dispose();
    return on;
  }

  it('a Reshape whose shape comes from input values is not replayed and stays correct', async () => {
    const m = makeModel(17, [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] }, { op: 'Relu', inputs: ['r'], outputs: ['y'] }],
      { x: ['float', [6]], shape: ['int64', [2]] }, ['y']);
    const x = fp.tensor([1, -2, 3, -4, 5, -6]);
    const s = await sameAsNormal(m, [{ x, shape: new BigInt64Array([2n, 3n]) }, { x, shape: new BigInt64Array([3n, 2n]) }]);
    expect(s.replayInfo.replays).toBe(0);
    expect(Object.values(s.replayInfo.refused)[0]).toMatch(/node 'n0' reads values computed from the inputs on the host/);
    s.dispose();
  });

  it('NonZero and a TopK with k from an input are not replayed and stay correct', async () => {
    const nz = makeModel(17, [{ op: 'NonZero', inputs: ['x'], outputs: ['i'] }], { x: ['float', [5]] }, ['i']);
    const s1 = await sameAsNormal(nz, [{ x: fp.tensor([0, 1, 0, 2, 3]) }, { x: fp.tensor([4, 0, 0, 0, 1]) }]);
    expect(s1.replayInfo.replays).toBe(0);
    expect(Object.keys(s1.replayInfo.refused)).toEqual(['5']);
    s1.dispose();
    const topk = makeModel(17, [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['v', 'i'] }], { x: ['float', [6]], k: ['int64', [1]] }, ['v', 'i']);
    const x = fp.tensor([3, 1, 4, 1, 5, 9]);
    const s2 = await sameAsNormal(topk, [{ x, k: new BigInt64Array([2n]) }, { x, k: new BigInt64Array([4n]) }]);
    expect(s2.replayInfo.replays).toBe(0);
    s2.dispose();
  });

  it('shape arithmetic on input shapes (Shape, Gather, Concat, Reshape, ConstantOfShape) is replayed', async () => {
    const m = makeModel(17, [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['b'], attrs: { axis: 0 } },
      { op: 'Concat', inputs: ['b', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
      { op: 'ConstantOfShape', inputs: ['shape2'], outputs: ['z'], attrs: { value: { tensor: { name: 'v', dataType: 'float', dims: [1], data: new Float32Array([0.5]) } } } },
      { op: 'Shape', inputs: ['r'], outputs: ['shape2'] },
      { op: 'Add', inputs: ['r', 'z'], outputs: ['y'] },
    ], { x: ['float', ['n', 2, 3]] }, ['y'], { zero: i64([0]), minus1: i64([-1]) });
    m.graph.nodes.splice(4, 2, m.graph.nodes[5]!, m.graph.nodes[4]!); // Shape before ConstantOfShape
    const s = await sameAsNormal(m, [{ x: fp.randn([2, 2, 3]) }, { x: fp.randn([5, 2, 3]) }, { x: fp.randn([2, 2, 3]) }]);
    expect(s.replayInfo.refused).toEqual({});
    expect(s.replayInfo.replays).toBe(5);
    s.dispose();
  });

  it('a Gemm whose weight is a graph input gives each run its own weights (no stale packed panels)', async () => {
    const m = makeModel(17, [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], attrs: { transB: 1 } }], { a: ['float', [3, 16]], b: ['float', [24, 16]] }, ['y']);
    const feeds = [1, 2, 3].map((seed) => ({ a: fp.randn([3, 16], { seed }), b: fp.randn([24, 16], { seed: seed + 10 }) }));
    const s = await sameAsNormal(m, feeds);
    s.dispose();
  });

  it('a graph with a nondeterministic op (Random*) is never replayed', async () => {
    if (!fp.registeredOnnxOps('test.forwardpass').includes('RandomUniformLike')) {
      // a stand-in drawing on the host, as a real one would: its output is no function of its input
      fp.registerOnnxOp('RandomUniformLike', { run: (c) => [fp.tensor(Float32Array.from({ length: c.input(0).size }, () => Math.random()), { shape: c.input(0).shape })] }, 'test.forwardpass');
    }
    const m = makeModel(17, [{ op: 'RandomUniformLike', inputs: ['x'], outputs: ['r'] }, { op: 'Add', inputs: ['x', 'r'], outputs: ['y'] }], { x: ['float', [4]] }, ['y']);
    m.graph.nodes[0]!.domain = 'test.forwardpass';
    m.opsetImport.push({ domain: 'test.forwardpass', version: 1 });
    const s = await fp.OnnxSession.fromModel(m, { backend: 'cpu' });
    expect(s.replayInfo).toMatchObject({ enabled: false, reason: 'the graph has a nondeterministic op (RandomUniformLike)' });
    const x = fp.zeros([4]);
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add((await values(await s.run({ x }))).y!.data.join());
    expect(seen.size).toBe(5);
    s.dispose();
  });

  it('with an op hook installed (a tracer) every run takes the normal path, and traces show every node', async () => {
    const s = await fp.loadOnnx(bytes('cnn-digits'), { backend: 'cpu' });
    const x = tensors(inputsOf('cnn-digits', 1, 9));
    for (let i = 0; i < 3; i++) await values(await s.run(x));
    expect(s.replayInfo.replays).toBe(1);
    const normal = await fp.loadOnnx(bytes('cnn-digits'), { backend: 'cpu', replay: false });
    const opsOf = async (session: fp.OnnxSession) => {
      const seen: string[] = [];
      const off = fp.addOpHook((e) => { seen.push(`${e.op} ${String(e.context[e.context.length - 1])}`); });
      await values(await session.run(x));
      off();
      return seen;
    };
    const want = await opsOf(normal);
    expect(want.length).toBeGreaterThan(0);
    expect(await opsOf(s)).toEqual(want);
    expect(s.replayInfo.replays).toBe(1);
    const pathsOf = async (session: fp.OnnxSession) => (await session.trace(x)).records.map((r) => `${r.path} ${r.op}`);
    expect(await pathsOf(s)).toEqual(await pathsOf(normal));
    await values(await s.run(x));
    expect(s.replayInfo.replays).toBe(2);
    s.dispose();
    normal.dispose();
  });

  it('a run holding more than maxBytes is not captured; FORWARDPASS_REPLAY=0-like replay: false is reported', async () => {
    const m = makeModel(17, [{ op: 'Relu', inputs: ['x'], outputs: ['r'] }, { op: 'Neg', inputs: ['r'], outputs: ['y'] }], { x: ['float', ['n']] }, ['y']);
    const s = await fp.OnnxSession.fromModel(m, { backend: 'cpu', replay: { maxBytes: 1000 } });
    for (let i = 0; i < 3; i++) expect((await values(await s.run({ x: fp.tensor([1, -2, 3]) }))).y!.data).toEqual([-1, -0, -3]);
    for (let i = 0; i < 3; i++) await values(await s.run({ x: fp.zeros([1000]) }));
    expect(s.replayInfo.shapes).toEqual(['3']);
    expect(s.replayInfo.refused).toEqual({ 1000: 'the run\'s intermediates exceed 1000 bytes' });
    s.dispose();
    const off = await fp.OnnxSession.fromModel(m, { backend: 'cpu', replay: false });
    expect(off.replayInfo.reason).toMatch(/turned off/);
    off.dispose();
  });

  it('a strided tensor feed takes the normal path and gives the same values', async () => {
    const m = makeModel(17, [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: -1 } }], { x: ['float', [3, 4]] }, ['y']);
    const base = fp.randn([4, 3], { seed: 2 });
    const xt = base.transpose(0, 1);
    const xc = xt.contiguous();
    const s = await fp.OnnxSession.fromModel(m, { backend: 'cpu' });
    for (let i = 0; i < 3; i++) await values(await s.run({ x: xc }));
    expect(s.replayInfo.replays).toBe(1);
    expect(await values(await s.run({ x: xt }))).toEqual(await values(await s.run({ x: xc })));
    expect(s.replayInfo.replays).toBe(2);
    s.dispose();
  });
});
